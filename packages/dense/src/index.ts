export * from "./dense-index-manager";

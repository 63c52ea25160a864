export * from "./analyzer";

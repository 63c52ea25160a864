export * from "./config";
export * from "./progress";

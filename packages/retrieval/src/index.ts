export * from "./fusion";
export * from "./search";
export * from "./snippet";

export * from "./search";
export * from "./snippet";

export * from "./chunk-catalog";
export * from "./collection-snapshot";
export * from "./fusion";
export * from "./search";
export * from "./snippet";

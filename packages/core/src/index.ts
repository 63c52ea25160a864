export * from "./embedding";
export * from "./errors";
export * from "./filter";
export * from "./lexical";
export * from "./logger";
export * from "./store";
export * from "./types";
export * from "./vector";

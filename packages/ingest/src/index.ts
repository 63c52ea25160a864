export * from "./ingest";
export * from "./sources/index";

export * from "./bm25-index";
export * from "./config";
export {
  GENERATION_FORMAT,
  GENERATION_FORMAT_VERSION,
  type GenerationHeader,
  InvalidGenerationError,
} from "./generation-file";
export * from "./lexical-index-manager";

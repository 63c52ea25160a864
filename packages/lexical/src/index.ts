export * from "./analyzed-document";
export * from "./config";
export {
  GENERATION_FORMAT,
  GENERATION_FORMAT_VERSION,
  type GenerationHeader,
  InvalidGenerationError,
} from "./generation-file";
export * from "./lexical-index-manager";
export type {
  LexicalSegmentStats,
  LexicalSnapshot,
  LexicalSnapshotResult,
  LexicalSnapshotSearch,
  LexicalSnapshotStats,
  PreparedLexicalQuery,
} from "./lexical-snapshot";

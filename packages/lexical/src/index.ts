export * from "./analyzed-document";
export * from "./config";
export * from "./lexical-index-manager";
export type {
  LexicalSegmentStats,
  LexicalSnapshot,
  LexicalSnapshotResult,
  LexicalSnapshotSearch,
  LexicalSnapshotStats,
  PreparedLexicalQuery,
} from "./lexical-snapshot";
export { GENERATION_FORMAT, GENERATION_FORMAT_VERSION, InvalidGenerationError } from "./segment-file";

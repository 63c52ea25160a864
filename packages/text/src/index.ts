export * from "./analyzer";
export { type ChunkerOptions, chunkDocument, defaultChunkerOptions } from "./chunker";
export { contentHash } from "./content-hash";
export { estimateTokens } from "./estimate-tokens";
export { type Heading, type ParsedDocument, parseDocument, type SourceFormat } from "./parse-document";

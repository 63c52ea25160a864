/** JSON values as stored in document metadata (Postgres JSONB). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Metadata = Record<string, JsonValue>;

/** A named set of documents. Every collection belongs to exactly one tenant; names are unique per tenant. */
export interface Collection {
  id: number;
  tenant: string;
  name: string;
  settings: Record<string, JsonValue>;
  createdAt: Date;
}

/** A document as a client or a source reader hands it to the indexer. */
export interface DocumentInput {
  /** The caller's id for the document; unique within a collection. */
  externalId: string;
  title?: string | undefined;
  /** The full text. Chunk offsets are UTF-16 code-unit offsets into this string. */
  text: string;
  sourceUri?: string | undefined;
  metadata?: Metadata | undefined;
}

/** A document as the store holds it. `version` starts at 1 and grows by one on every content change. */
export interface StoredDocument {
  id: number;
  collectionId: number;
  externalId: string;
  title: string | null;
  sourceUri: string | null;
  metadata: Metadata;
  content: string;
  /** sha256 hex of the canonical form of (title, text, sourceUri, metadata). */
  contentHash: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type DocumentSummary = Omit<StoredDocument, "content">;

/** A chunk as the chunker produces it. */
export interface ChunkInput {
  /** 0-based position of the chunk in its document. */
  ordinal: number;
  text: string;
  /** Start offset (inclusive) of the chunk in the document text, UTF-16 code units. */
  charStart: number;
  /** End offset (exclusive). `document.text.slice(charStart, charEnd) === chunk.text`. */
  charEnd: number;
  /** Headings enclosing the chunk, outermost first (Markdown/HTML); empty for flat text. */
  headingPath: string[];
  /** Token count as estimated by the chunker's token counter. */
  tokenCount: number;
}

/** A stored chunk joined with the fields of its document that retrieval needs. */
export interface ChunkRecord extends ChunkInput {
  id: number;
  documentId: number;
  collectionId: number;
  externalId: string;
  title: string | null;
  metadata: Metadata;
}

export type JobStatus = "running" | "succeeded" | "failed" | "interrupted";

export interface JobCounts {
  documentsSeen: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  skipped: number;
  failed: number;
  chunks: number;
}

export interface JobError {
  source: string;
  message: string;
}

/** One ingestion run: a CLI invocation or one API batch. */
export interface IngestionJob {
  /** Global identity, internal: tenants see `number`. */
  id: number;
  collectionId: number;
  /** 1, 2, 3 … per collection, in creation order: what the API shows as the job's id. */
  number: number;
  kind: string;
  source: string;
  status: JobStatus;
  counts: JobCounts;
  errors: JobError[];
  timings: Record<string, number>;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export type GenerationStatus = "building" | "ready" | "retired";

/** A persisted, immutable build of a derived index (e.g. BM25) for one collection. */
export interface IndexGeneration {
  id: number;
  collectionId: number;
  kind: string;
  generation: number;
  status: GenerationStatus;
  path: string;
  checksum: string | null;
  chunkCount: number;
  /** The collection revision the generation was built from. */
  revision: number;
  createdAt: Date;
  completedAt: Date | null;
}

export const emptyJobCounts = (): JobCounts => ({
  documentsSeen: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  skipped: 0,
  failed: 0,
  chunks: 0,
});

/** Structured logger handed to packages explicitly (no global logger). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

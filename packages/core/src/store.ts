import type { AccessStore } from "./access";
import type {
  ChunkInput,
  ChunkRecord,
  Collection,
  DocumentInput,
  DocumentSummary,
  IndexGeneration,
  IngestionJob,
  JobCounts,
  JobError,
  JobStatus,
  JsonValue,
  StoredDocument,
} from "./types";

/** A document ready to be written: its input, its content hash and its chunks. */
export interface DocumentWrite {
  document: DocumentInput;
  contentHash: string;
  chunks: ChunkInput[];
}

export type WriteOutcome = "created" | "updated" | "unchanged";

export interface WriteResult {
  externalId: string;
  documentId: number;
  outcome: WriteOutcome;
  version: number;
}

export interface DocumentPage {
  documents: DocumentSummary[];
  /** Pass as `after` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** One vector for the embedding cache, keyed by the sha256 (hex) of the exact text embedded, prefix included. */
export interface CachedEmbedding {
  textHash: string;
  vector: Float32Array;
}

export interface JobPatch {
  status?: JobStatus;
  counts?: JobCounts;
  errors?: JobError[];
  timings?: Record<string, number>;
  finished?: boolean;
}

/**
 * The system of record. Every derived index (BM25, vectors) can be rebuilt from it.
 *
 * Write methods are atomic: a batch is applied in one transaction or not at all, and each write bumps the
 * collection's `revision`, so readers of derived indexes can tell that they are stale.
 */
export interface DocumentStore {
  /** Applies pending migrations. Idempotent. */
  migrate(): Promise<void>;
  /** Cheap round trip; throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Creates the collection when missing; `created` says which happened. With `maxPerTenant`, creating one
   * more than that many collections for the tenant throws `QuotaExceededError` (exact under concurrency);
   * an existing collection is returned whatever the count.
   */
  ensureCollection(input: {
    tenant: string;
    name: string;
    settings?: Record<string, JsonValue>;
    maxPerTenant?: number;
  }): Promise<{ collection: Collection; created: boolean }>;
  getCollection(tenant: string, name: string): Promise<Collection | undefined>;
  getCollectionById(id: number): Promise<Collection | undefined>;
  /** All collections, of one tenant when given; ordered by tenant, then name. */
  listCollections(tenant?: string): Promise<Collection[]>;
  /** Deletes the collection with its documents, chunks, jobs and generations. */
  deleteCollection(id: number): Promise<void>;
  /** A counter that grows on every write to the collection's documents or chunks. */
  getRevision(collectionId: number): Promise<number>;

  /**
   * Creates or replaces documents in one transaction. A document whose stored content hash equals
   * `contentHash` is left alone (`unchanged`); a changed one gets its chunks replaced and `version + 1`.
   */
  writeDocuments(collectionId: number, writes: DocumentWrite[]): Promise<WriteResult[]>;
  /** Deletes documents (and their chunks) by external id; returns the ids that existed. */
  deleteDocuments(collectionId: number, externalIds: string[]): Promise<string[]>;
  getDocument(collectionId: number, externalId: string): Promise<StoredDocument | undefined>;
  /** Pages through documents ordered by external id. */
  listDocuments(collectionId: number, options: { limit: number; after?: string }): Promise<DocumentPage>;
  /** Stored content hashes of the given external ids (missing ids are absent from the map). */
  getContentHashes(collectionId: number, externalIds: string[]): Promise<Map<string, string>>;
  /** Every external id of the collection (for pruning documents that left the source). */
  listExternalIds(collectionId: number): Promise<string[]>;
  countDocuments(collectionId: number): Promise<number>;

  /** Ids of all chunks of the collection, ascending. */
  listChunkIds(collectionId: number): Promise<number[]>;
  /**
   * Chunks with the given ids (missing ids skipped), in no particular order. Unscoped: for the indexes that
   * already hold ids of one collection. Anything that serves a request reads `getCollectionChunks`.
   */
  getChunks(ids: number[]): Promise<ChunkRecord[]>;
  /** Chunks with the given ids that belong to the collection (others skipped, whoever owns them). */
  getCollectionChunks(collectionId: number, ids: readonly number[]): Promise<ChunkRecord[]>;
  /** The chunks of the given documents of the collection (by external id), by document then ordinal. */
  getDocumentChunks(collectionId: number, externalIds: readonly string[]): Promise<ChunkRecord[]>;
  /** Pages through a collection's chunks by ascending id, starting after `afterId`. */
  scanChunks(collectionId: number, options: { afterId: number; limit: number }): Promise<ChunkRecord[]>;

  createJob(input: { collectionId: number; kind: string; source: string }): Promise<IngestionJob>;
  updateJob(id: number, patch: JobPatch): Promise<void>;
  /** By global id: for the process that created the job. Requests read `getJobByNumber`. */
  getJob(id: number): Promise<IngestionJob | undefined>;
  /** The collection's job with this per-collection number (1, 2, 3 … in creation order). */
  getJobByNumber(collectionId: number, number: number): Promise<IngestionJob | undefined>;
  /** Most recent first. */
  listJobs(collectionId: number, options: { limit: number }): Promise<IngestionJob[]>;
  /** Marks `running` jobs whose last update is older than `staleAfterMs` as `interrupted`; returns how many. */
  markStaleJobsInterrupted(staleAfterMs: number): Promise<number>;

  /** Registers a generation in `building` state with the next generation number for (collection, kind). */
  beginGeneration(input: {
    collectionId: number;
    kind: string;
    path: string;
    revision: number;
  }): Promise<IndexGeneration>;
  /** Marks the generation `ready` and retires older ready generations of the same kind, atomically. */
  completeGeneration(id: number, input: { checksum: string; chunkCount: number }): Promise<IndexGeneration>;
  /** Latest `ready` generation of (collection, kind). */
  latestGeneration(collectionId: number, kind: string): Promise<IndexGeneration | undefined>;
  /** Generations of (collection, kind), newest first. */
  listGenerations(collectionId: number, kind: string): Promise<IndexGeneration[]>;
  deleteGeneration(id: number): Promise<void>;

  // Embedding cache: vectors keyed by (model, text hash), shared by all collections and tenants (the same
  // text under the same model is the same vector). `model` is the embedder's cache key, which names
  // everything that changes the vector (model id, weights variant, pooling); `textHash` is the sha256 hex
  // of the exact text embedded, prefix included. Vectors round-trip bit for bit (float32).

  /** Cached vectors of the given hashes; hashes without an entry are absent from the map. */
  getCachedEmbeddings(model: string, textHashes: readonly string[]): Promise<Map<string, Float32Array>>;
  /** Stores vectors; an existing (model, hash) entry is kept as it is. Returns how many were new. */
  putCachedEmbeddings(model: string, entries: readonly CachedEmbedding[]): Promise<number>;
}

/** What `openStore` returns: the system of record with keys, audit trail and service secrets. */
export type SiftStore = DocumentStore & AccessStore;

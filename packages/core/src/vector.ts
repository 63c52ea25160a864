import type { Filter } from "./filter";
import type { Metadata } from "./types";

/** One chunk's vector with the payload that filters need. */
export interface VectorRecord {
  chunkId: number;
  vector: Float32Array;
  /** The chunk's document metadata, for filters. */
  metadata: Metadata;
}

export interface VectorSearchOptions {
  vector: Float32Array;
  /** Number of hits wanted; fewer come back only when fewer chunks match the filter. */
  limit: number;
  filter?: Filter | undefined;
  /**
   * The chunks the caller allows, `filter` already applied to them (the searcher compiles a request's
   * filter once against its catalog and shares the set with every leg). When given, hits come only from
   * this set and `limit` hits come back whenever that many of its chunks are indexed; an index may skip
   * evaluating `filter` itself (the embedded index does, Qdrant evaluates it server-side and keeps the hits
   * in the set).
   */
  allowed?: ReadonlySet<number> | undefined;
  signal?: AbortSignal | undefined;
}

export interface VectorHit {
  chunkId: number;
  /** Similarity (cosine / inner product on normalised vectors): higher is better. */
  score: number;
}

/**
 * A vector index over one collection's chunks. Writes are visible to the next search. Implementations:
 * embedded HNSW (persisted beside the store) and Qdrant.
 */
export interface VectorIndex {
  readonly dimensions: number;
  /** Inserts or replaces vectors by chunk id. */
  upsert(records: readonly VectorRecord[]): Promise<void>;
  /** Removes vectors by chunk id; unknown ids are ignored. */
  delete(chunkIds: readonly number[]): Promise<void>;
  search(options: VectorSearchOptions): Promise<{ hits: VectorHit[]; warnings: string[] }>;
  count(): Promise<number>;
  /** Makes every write so far durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

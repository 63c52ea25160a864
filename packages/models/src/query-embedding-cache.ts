import type { Embedder, EmbedOptions, EmbedResult } from "@sift/core";

export interface QueryEmbeddingCacheStats {
  /** Queries served from memory (or joined to the same query's embedding in flight). */
  hits: number;
  /** Queries sent to the model. */
  misses: number;
  /** Entries held now (at most the capacity). */
  size: number;
}

export interface QueryCachedEmbedder extends Embedder {
  readonly stats: Readonly<QueryEmbeddingCacheStats>;
}

/** Default capacity: 4,096 query vectors, about 6 MB at 384 dimensions. */
export const defaultQueryCacheCapacity = 4096;

/**
 * Wraps an embedder so that repeated queries are embedded once: a bounded in-memory LRU of query vectors
 * keyed by the exact query text. No store read or write per query (the persistent cache is for passages,
 * whose vectors are worth keeping across processes). Concurrent calls for the same text share one model
 * call; a failed call is not cached. Passages and multi-text calls pass straight through. Callers must not
 * mutate the returned vectors (they are shared).
 */
export function withQueryEmbeddingCache(
  embedder: Embedder,
  options: { capacity?: number } = {},
): QueryCachedEmbedder {
  const capacity = options.capacity ?? defaultQueryCacheCapacity;
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`query cache capacity must be an integer >= 1, got ${capacity}`);
  }
  const entries = new Map<string, Promise<Float32Array>>();
  const stats: QueryEmbeddingCacheStats = { hits: 0, misses: 0, size: 0 };
  const remember = (text: string, vector: Promise<Float32Array>) => {
    entries.set(text, vector);
    if (entries.size > capacity) entries.delete(entries.keys().next().value!);
    stats.size = entries.size;
  };
  return {
    profile: embedder.profile,
    stats,
    async embed(request: EmbedOptions): Promise<EmbedResult> {
      if (request.kind !== "query" || request.texts.length !== 1) return embedder.embed(request);
      const text = request.texts[0]!;
      const known = entries.get(text);
      if (known !== undefined) {
        // Most recently used last: re-insert.
        entries.delete(text);
        entries.set(text, known);
        stats.hits += 1;
        return { embeddings: [await known], warnings: [] };
      }
      stats.misses += 1;
      let warnings: string[] = [];
      const vector = embedder.embed(request).then((result) => {
        warnings = result.warnings;
        return result.embeddings[0]!;
      });
      remember(text, vector);
      vector.catch(() => {
        if (entries.get(text) === vector) entries.delete(text);
        stats.size = entries.size;
      });
      return { embeddings: [await vector], warnings };
    },
  };
}

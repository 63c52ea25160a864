import { createHash } from "node:crypto";
import type { Reranker } from "@sift/core";

export interface RerankCacheStats {
  /** Passages whose score came from the cache (or from an identical passage earlier in the same call). */
  hits: number;
  /** Passages sent to the reranker. */
  misses: number;
  /** Entries dropped to stay within `maxEntries`. */
  evictions: number;
  /** Entries held now. */
  size: number;
}

export interface CachedReranker extends Reranker {
  /** Running totals over every call. */
  readonly stats: Readonly<RerankCacheStats>;
  /** Drops every entry (the counters stay). */
  clear(): void;
}

/**
 * Wraps a reranker with an in-memory LRU of scores keyed by (reranker id, query, sha256 of the passage),
 * so that paging through one query's results, or repeating a popular query, scores each pair once. Only
 * the passages without a cached score reach the reranker, in one call. A failed call caches nothing.
 */
export function withRerankCache(reranker: Reranker, options: { maxEntries: number }): CachedReranker {
  const { maxEntries } = options;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError("maxEntries must be >= 1");
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  const entries = new Map<string, number>();
  const stats: RerankCacheStats = { hits: 0, misses: 0, evictions: 0, size: 0 };
  const keyOf = (query: string, passage: string) =>
    `${reranker.id}\u0000${query}\u0000${createHash("sha256").update(passage, "utf8").digest("hex")}`;

  const remember = (key: string, score: number) => {
    entries.delete(key);
    entries.set(key, score);
    while (entries.size > maxEntries) {
      entries.delete(entries.keys().next().value as string);
      stats.evictions++;
    }
    stats.size = entries.size;
  };

  return {
    id: reranker.id,
    stats,
    clear() {
      entries.clear();
      stats.size = 0;
    },
    ...(reranker.close ? { close: () => reranker.close!() } : {}),
    async score(query: string, passages: string[], signal?: AbortSignal): Promise<number[]> {
      signal?.throwIfAborted();
      const keys = passages.map((passage) => keyOf(query, passage));
      const scores = new Array<number>(passages.length);
      // Passages to score, each once however often it appears in this call.
      const pending = new Map<string, number[]>();
      keys.forEach((key, index) => {
        const cached = entries.get(key);
        if (cached !== undefined) {
          remember(key, cached);
          scores[index] = cached;
          stats.hits++;
        } else if (pending.has(key)) {
          pending.get(key)!.push(index);
          stats.hits++;
        } else {
          pending.set(key, [index]);
        }
      });
      if (pending.size > 0) {
        const missing = [...pending.values()];
        stats.misses += missing.length;
        const fresh = await reranker.score(
          query,
          missing.map((indexes) => passages[indexes[0]!]!),
          signal,
        );
        if (fresh.length !== missing.length) {
          throw new Error(
            `reranker ${reranker.id} returned ${fresh.length} scores for ${missing.length} passages`,
          );
        }
        missing.forEach((indexes, i) => {
          const score = fresh[i]!;
          remember(keys[indexes[0]!]!, score);
          for (const index of indexes) scores[index] = score;
        });
      }
      return scores;
    },
  };
}

import { createHash } from "node:crypto";
import type { DocumentStore, Embedder, EmbeddingKind, EmbedOptions, EmbedResult } from "@sift/core";

/** The part of the system of record the cache needs. */
export type EmbeddingCacheStore = Pick<DocumentStore, "getCachedEmbeddings" | "putCachedEmbeddings">;

/** sha256 hex of the exact text given to the model (prefix included): the cache's text key. */
export function embeddingTextHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The cache key of an embedder: its `cacheKey` when it has one (the in-process and HTTP adapters name
 * weights variant and pooling there), else the profile's model id.
 */
export function embedderCacheKey(embedder: Embedder): string {
  const key = (embedder as { cacheKey?: unknown }).cacheKey;
  return typeof key === "string" ? key : embedder.profile.id;
}

function prefixFor(embedder: Embedder, kind: EmbeddingKind): string {
  return kind === "query" ? embedder.profile.queryPrefix : embedder.profile.passagePrefix;
}

export interface EmbeddingCacheStats {
  /** Texts served from the cache (or from an identical text earlier in the same call). */
  hits: number;
  /** Texts sent to the model. */
  misses: number;
}

export interface CachedEmbedder extends Embedder {
  readonly cacheKey: string;
  /** Running totals over every call. */
  readonly stats: Readonly<EmbeddingCacheStats>;
}

/**
 * Wraps an embedder so that only texts without a cached vector reach the model (queries and passages
 * alike); new vectors are written back. Each result carries a warning line with the call's hits and misses.
 * A cache that cannot be read or written degrades to plain embedding, loudly (a warning), never failing
 * the call.
 */
export function withEmbeddingCache(
  embedder: Embedder,
  store: EmbeddingCacheStore,
  options: { cacheKey?: string } = {},
): CachedEmbedder {
  const cacheKey = options.cacheKey ?? embedderCacheKey(embedder);
  const stats: EmbeddingCacheStats = { hits: 0, misses: 0 };
  const { dimensions } = embedder.profile;

  return {
    profile: embedder.profile,
    cacheKey,
    stats,
    async embed({ texts, kind, signal }: EmbedOptions): Promise<EmbedResult> {
      if (texts.length === 0) return { embeddings: [], warnings: [] };
      const prefix = prefixFor(embedder, kind);
      const hashes = texts.map((text) => embeddingTextHash(prefix + text));
      const warnings: string[] = [];
      let cached = new Map<string, Float32Array>();
      try {
        cached = await store.getCachedEmbeddings(cacheKey, hashes);
      } catch (error) {
        warnings.push(`embedding cache unreadable, embedding every text: ${(error as Error).message}`);
      }
      // One model input per distinct missing text, in first-seen order.
      const missing = new Map<string, number>();
      hashes.forEach((hash, index) => {
        const hit = cached.get(hash);
        if (hit?.length !== dimensions && !missing.has(hash)) missing.set(hash, index);
      });
      const fresh: { textHash: string; vector: Float32Array }[] = [];
      if (missing.size > 0) {
        const result = await embedder.embed({
          texts: [...missing.values()].map((index) => texts[index]!),
          kind,
          signal,
        });
        warnings.push(...result.warnings);
        [...missing.keys()].forEach((textHash, row) => {
          const vector = result.embeddings[row]!;
          cached.set(textHash, vector);
          fresh.push({ textHash, vector });
        });
        try {
          await store.putCachedEmbeddings(cacheKey, fresh);
        } catch (error) {
          warnings.push(`embedding cache not written: ${(error as Error).message}`);
        }
      }
      const hits = texts.length - fresh.length;
      stats.hits += hits;
      stats.misses += fresh.length;
      warnings.push(`embedding cache: ${hits} hits, ${fresh.length} misses`);
      return { embeddings: hashes.map((hash) => cached.get(hash)!), warnings };
    },
  };
}

export interface EmbeddingCostEstimate {
  cacheKey: string;
  /** Chunks examined. */
  chunks: number;
  /** Chunks whose passage vector is already cached for this embedder. */
  cached: number;
  /** Chunks without a cached vector. */
  missing: number;
  /** Distinct texts among the missing chunks: what would actually be embedded. */
  textsToEmbed: number;
  passagesPerSecond: number;
  /** `textsToEmbed / passagesPerSecond`, in seconds. */
  estimatedSeconds: number;
  /** Whether `passagesPerSecond` was measured just now (else it was given). */
  measured: boolean;
}

/**
 * How much work a switch to `embedder` would be: how many of `chunks` lack a cached passage vector and how
 * long embedding them would take, at `passagesPerSecond` when given, else at a rate measured now on up to
 * `sampleSize` (default 64) of the missing texts (after one warm-up text, so model loading is not counted).
 * Writes nothing. Feed it a collection's chunks, e.g. paged from `DocumentStore.scanChunks`.
 */
export async function estimateEmbeddingCost(input: {
  chunks: Iterable<{ text: string }> | AsyncIterable<{ text: string }>;
  store: EmbeddingCacheStore;
  embedder: Embedder;
  passagesPerSecond?: number;
  sampleSize?: number;
  signal?: AbortSignal;
}): Promise<EmbeddingCostEstimate> {
  const { embedder, store } = input;
  const cacheKey = embedderCacheKey(embedder);
  const prefix = prefixFor(embedder, "passage");
  const sampleSize = input.sampleSize ?? 64;
  const perHash = new Map<string, number>();
  const sample = new Map<string, string>();
  let chunks = 0;
  for await (const chunk of input.chunks) {
    chunks++;
    const hash = embeddingTextHash(prefix + chunk.text);
    perHash.set(hash, (perHash.get(hash) ?? 0) + 1);
    if (sample.size < sampleSize + 1 && !sample.has(hash)) sample.set(hash, chunk.text);
  }
  const cachedHashes = await store.getCachedEmbeddings(cacheKey, [...perHash.keys()]);
  let cached = 0;
  for (const hash of cachedHashes.keys()) cached += perHash.get(hash) ?? 0;
  const textsToEmbed = perHash.size - cachedHashes.size;

  let passagesPerSecond = input.passagesPerSecond;
  const measured = passagesPerSecond === undefined;
  if (passagesPerSecond === undefined) {
    const texts = [...sample].filter(([hash]) => !cachedHashes.has(hash)).map(([, text]) => text);
    // Nothing left to embed still gets a rate (from cached texts), so the figure is always comparable.
    const pool = texts.length > 0 ? texts : [...sample.values()];
    if (pool.length === 0) {
      passagesPerSecond = Number.POSITIVE_INFINITY;
    } else {
      await embedder.embed({ texts: pool.slice(0, 1), kind: "passage", signal: input.signal });
      const timed = pool.length > 1 ? pool.slice(1) : pool;
      const started = performance.now();
      await embedder.embed({ texts: timed, kind: "passage", signal: input.signal });
      passagesPerSecond = timed.length / ((performance.now() - started) / 1000);
    }
  }
  return {
    cacheKey,
    chunks,
    cached,
    missing: chunks - cached,
    textsToEmbed,
    passagesPerSecond,
    estimatedSeconds: textsToEmbed === 0 ? 0 : textsToEmbed / passagesPerSecond,
    measured,
  };
}

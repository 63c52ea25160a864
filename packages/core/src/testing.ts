// Test doubles of our own interfaces (not of a vendor SDK), shared by the packages' tests:
// `import { bagOfWordsEmbedder, exactVectorIndex } from "@sift/core/testing"`. Not part of the runtime API.
import type { Embedder, EmbeddingModelProfile } from "./embedding";
import type { VectorHit, VectorIndex } from "./vector";

export interface BagOfWordsOptions {
  /** Profile id (an embedding-model identity: caches and vector folders key on it). Default `test/bag-of-words`. */
  id?: string;
  /** Default 64. */
  dimensions?: number;
  /** Initial value of each word's hash; different seeds give different (deterministic) collisions. Default 0. */
  seed?: number;
}

/**
 * A deterministic "embedder": each lower-case word is hashed into one of `dimensions` buckets, the counts
 * L2-normalised. Texts sharing words get a higher cosine. `calls.texts` counts the texts it embedded.
 */
export function bagOfWordsEmbedder(options: BagOfWordsOptions = {}): {
  embedder: Embedder;
  calls: { texts: number };
  vector: (text: string) => Float32Array;
} {
  const dimensions = options.dimensions ?? 64;
  const seed = options.seed ?? 0;
  const profile: EmbeddingModelProfile = {
    id: options.id ?? "test/bag-of-words",
    dimensions,
    pooling: "mean",
    normalize: true,
    queryPrefix: "",
    passagePrefix: "",
    maxTokens: 256,
  };
  const vector = (text: string): Float32Array => {
    const v = new Float32Array(dimensions);
    for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
      let h = seed;
      for (const c of w) h = (h * 31 + c.charCodeAt(0)) % dimensions;
      v[h]! += 1;
    }
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  };
  const calls = { texts: 0 };
  const embedder: Embedder = {
    profile,
    async embed({ texts }) {
      calls.texts += texts.length;
      return { embeddings: texts.map(vector), warnings: [] };
    },
  };
  return { embedder, calls, vector };
}

/** An exact (brute-force dot product) read-only vector index over the given vectors. */
export function exactVectorIndex(vectors: Map<number, Float32Array>, dimensions: number): VectorIndex {
  return {
    dimensions,
    async upsert() {},
    async delete() {},
    async count() {
      return vectors.size;
    },
    async flush() {},
    async close() {},
    async search({ vector, limit, allowed }) {
      const pool = [...vectors].filter(([chunkId]) => allowed === undefined || allowed.has(chunkId));
      const hits: VectorHit[] = pool.map(([chunkId, v]) => ({
        chunkId,
        score: v.reduce((s, x, i) => s + x * vector[i]!, 0),
      }));
      hits.sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
      return { hits: hits.slice(0, limit), warnings: [] };
    },
  };
}

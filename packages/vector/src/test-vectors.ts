/**
 * Deterministic, embedding-like test vectors: a mixture of Gaussian clusters around random unit centres,
 * L2-normalised, from a seeded PRNG. No model needed, and the same seed gives the same vectors on every run.
 */
import { seededRandom } from "@sift/core";

/** Standard normal samples by Box–Muller. */
export function gaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), Number.EPSILON);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

export function normalize(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.sqrt(squares);
  return vector.map((value) => value / norm);
}

export interface ClusteredVectors {
  vectors: Float32Array[];
  /** Cluster of each vector. */
  clusters: number[];
  /** A fresh query near cluster `c`. */
  query(cluster: number): Float32Array;
}

/**
 * `count` unit vectors in `clusters` clusters. `spread` is the noise scale relative to the centre (0.6 gives
 * neighbours with cosine ~0.5–0.8, like sentence embeddings).
 */
export function clusteredVectors(options: {
  count: number;
  dimensions: number;
  clusters: number;
  seed: number;
  spread?: number;
}): ClusteredVectors {
  const random = seededRandom(options.seed);
  const normal = gaussian(random);
  const spread = options.spread ?? 0.6;
  const { dimensions } = options;
  const centres = Array.from({ length: options.clusters }, () =>
    normalize(Float32Array.from({ length: dimensions }, normal)),
  );
  const near = (cluster: number) => {
    const centre = centres[cluster % centres.length]!;
    const noise = spread / Math.sqrt(dimensions);
    return normalize(centre.map((value) => value + normal() * noise));
  };
  const clusters = Array.from({ length: options.count }, () => Math.floor(random() * options.clusters));
  return { vectors: clusters.map(near), clusters, query: near };
}

import { type FieldIssue, ValidationError, type VectorHit } from "@sift/core";

/** Distance metrics the embedded index supports. `cos` stores and compares L2-normalised vectors. */
export type VectorMetric = "cos" | "ip";

/** Sum of products, accumulated in float64. */
export function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < left.length; i += 1) sum += left[i]! * right[i]!;
  return sum;
}

/** A copy of `vector` scaled to unit length (for `cos`), or a plain copy (for `ip`). */
export function prepareVector(vector: Float32Array, metric: VectorMetric): Float32Array {
  const copy = new Float32Array(vector);
  if (metric === "ip") return copy;
  const norm = Math.sqrt(dot(copy, copy));
  for (let i = 0; i < copy.length; i += 1) copy[i] = copy[i]! / norm;
  return copy;
}

/**
 * Checks one vector against the index's dimensions: right length, finite values, and (for `cos`) not all
 * zeros, whose direction is undefined. Throws {@link ValidationError} naming `path`.
 */
export function validateVector(
  vector: unknown,
  dimensions: number,
  metric: VectorMetric,
  path: string,
): asserts vector is Float32Array {
  const issue = vectorIssue(vector, dimensions, metric);
  if (issue !== undefined) {
    const fields: FieldIssue[] = [{ path, message: issue }];
    throw new ValidationError(`${path}: ${issue}`, fields);
  }
}

function vectorIssue(vector: unknown, dimensions: number, metric: VectorMetric): string | undefined {
  if (!(vector instanceof Float32Array)) return "must be a Float32Array";
  if (vector.length !== dimensions) {
    return `has ${vector.length} dimensions, the index has ${dimensions}`;
  }
  let squares = 0;
  for (let i = 0; i < vector.length; i += 1) {
    const value = vector[i]!;
    if (!Number.isFinite(value)) return `element ${i} is not a finite number`;
    squares += value * value;
  }
  if (metric === "cos" && squares === 0) return "is all zeros (cosine similarity is undefined)";
  return undefined;
}

/** Chunk ids are unsigned integers that a double holds exactly (Qdrant and usearch keys are uint64). */
export function validateChunkId(chunkId: unknown, path: string): asserts chunkId is number {
  if (typeof chunkId !== "number" || !Number.isSafeInteger(chunkId) || chunkId < 0) {
    throw new ValidationError(`${path}: chunk ids must be non-negative safe integers`, [
      { path, message: "must be a non-negative safe integer" },
    ]);
  }
}

/** The hit order of every {@link VectorIndex}: score descending, then chunk id ascending. */
export function compareHits(left: VectorHit, right: VectorHit): number {
  return right.score - left.score || left.chunkId - right.chunkId;
}

/**
 * usearch reports distances, smaller is closer: `cos` distance is `1 − cosine similarity` and `ip` distance
 * is `1 − dot product`. Both turn back into a similarity (higher is better) the same way.
 */
export function similarityFromDistance(distance: number): number {
  return 1 - distance;
}

/**
 * The `limit` best of `candidates` by exact dot product with `query` (already prepared for the metric), in
 * hit order. A bounded selection would be faster for huge candidate sets; exact scans only run over sets
 * that are small by construction (under the exact-scan threshold or a selective filter).
 */
export function exactTopK(
  query: Float32Array,
  candidates: Iterable<[number, Float32Array]>,
  limit: number,
): VectorHit[] {
  const hits: VectorHit[] = [];
  for (const [chunkId, vector] of candidates) hits.push({ chunkId, score: dot(query, vector) });
  hits.sort(compareHits);
  return hits.slice(0, limit);
}

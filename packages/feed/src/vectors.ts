/**
 * Sum of products, accumulated in float64. Both vectors must have the same length. Four accumulators
 * break the loop's add dependency chain (matching computes ~10^3–10^4 of these per arriving document).
 */
export function dot(left: Float32Array, right: Float32Array): number {
  const n = left.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += left[i]! * right[i]!;
    s1 += left[i + 1]! * right[i + 1]!;
    s2 += left[i + 2]! * right[i + 2]!;
    s3 += left[i + 3]! * right[i + 3]!;
  }
  for (; i < n; i += 1) s0 += left[i]! * right[i]!;
  return s0 + s1 + s2 + s3;
}

/** A unit-length copy of `vector`, or `null` for an all-zero (directionless) or non-finite vector. */
export function normalized(vector: Float32Array): Float32Array | null {
  const norm = Math.sqrt(dot(vector, vector));
  if (!(norm > 0) || !Number.isFinite(norm)) return null;
  const copy = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i += 1) copy[i] = vector[i]! / norm;
  return copy;
}

/**
 * A document's embedding from its chunks' vectors: their mean, normalised; `null` without chunk vectors.
 *
 * The mean, not the first chunk: the feed matches a whole document against standing interests, and a long
 * report's first chunk is its preamble while its subject may sit further down. For a one-chunk document the
 * two are the same vector. The mean costs one pass over vectors that already exist (no model call).
 */
export function documentEmbedding(chunkVectors: readonly Float32Array[]): Float32Array | null {
  const first = chunkVectors[0];
  if (first === undefined) return null;
  const sum = new Float32Array(first.length);
  for (const vector of chunkVectors) {
    if (vector.length !== first.length) throw new Error("documentEmbedding: chunk vectors differ in length");
    for (let i = 0; i < vector.length; i += 1) sum[i]! += vector[i]!;
  }
  return normalized(sum);
}

/** The largest cosine of `vector` to any of `others` (unit vectors) and its index; `{-1, -Infinity}` if none. */
export function nearest(
  vector: Float32Array,
  others: readonly Float32Array[],
): { index: number; cosine: number } {
  let index = -1;
  let cosine = Number.NEGATIVE_INFINITY;
  for (const [i, other] of others.entries()) {
    const c = dot(vector, other);
    if (c > cosine) {
      cosine = c;
      index = i;
    }
  }
  return { index, cosine };
}

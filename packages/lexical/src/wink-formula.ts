import type { Bm25Config } from "./config";

/**
 * wink-bm25-text-search 3.1.2's BM25F, reproduced operation for operation (read in its source,
 * `src/wink-bm25-text-search.js`, `addDoc`, `updateFreq`, `consolidate`, `search`), so that scores agree bit for
 * bit with a wink index over the same live chunks:
 *
 * - a document's weighted term frequency ("freq") starts at the field weight on the term's first occurrence
 *   and adds the weight on each further one, title tokens first, then body tokens;
 * - its length is `0 + titleTokens × |titleWeight| + bodyTokens × |bodyWeight|`;
 * - `idf = ln((N − n + 0.5) / (n + 0.5) + k)` with IDF smoothing k = 1, N the documents, n the term's
 *   document frequency; the average length is the total length over N;
 * - a (term, document) score is `|freq (k1 + 1) / (k1 ((1 − b) + b · length / average) + freq)| · idf`,
 *   rounded to {@link SCORE_PRECISION} decimals as `Number(x.toFixed(6))` (wink's `consolidate(6)`);
 * - a document's score is the sum of its rounded term scores over the query's terms in query order, a
 *   repeated query term adding again.
 */
export const SCORE_PRECISION = 6;

/** wink's IDF smoothing `k` (its `bm25Params.k`), kept at wink's default. */
export const IDF_SMOOTHING = 1;

/** `ln((N − n + 0.5) / (n + 0.5) + k)`. */
export function inverseDocumentFrequency(documents: number, documentFrequency: number): number {
  return Math.log((documents - documentFrequency + 0.5) / (documentFrequency + 0.5) + IDF_SMOOTHING);
}

/**
 * `Number(x.toFixed(6))` without a string for almost every x: toFixed picks the integer n nearest to
 * x·10⁶ (the larger on an exact tie), computed on x's exact value. `x * 1e6` is off by at most half an ulp,
 * far below 1e-6 for x < 1000, so unless the product lies within 1e-6 of a half the nearest integer is the
 * same; `n / 1e6` is then the double nearest to n·10⁻⁶, exactly what parsing the decimal string gives.
 * Near a half (or for huge x) the string path decides.
 */
export function roundScore(x: number): number {
  const scaled = x * 1e6;
  const nearest = Math.round(scaled);
  const offset = scaled - nearest;
  if (offset < 0.499999 && offset > -0.499999 && scaled < 1e9) return nearest / 1e6;
  return Number(x.toFixed(SCORE_PRECISION));
}

/** The unrounded score of one (term, document): see the module comment. */
export function rawTermScore(
  frequency: number,
  length: number,
  averageLength: number,
  idf: number,
  config: Bm25Config,
): number {
  const { k1, b } = config;
  const normalization = 1 - b + b * (length / averageLength);
  return Math.abs((frequency * (k1 + 1)) / (k1 * normalization + frequency)) * idf;
}

/**
 * The saturation part of a term score, `freq (k1 + 1) / (k1 norm + freq)`, at a reference average length:
 * what block maxima store. For another average A the part is at most this value × max(1, A / reference)
 * (the denominator `freq + k1 (1 − b) + k1 b length / A` shrinks by at most the factor reference / A).
 */
export function saturation(
  frequency: number,
  length: number,
  averageLength: number,
  config: Bm25Config,
): number {
  const { k1, b } = config;
  return (frequency * (k1 + 1)) / (k1 * (1 - b + b * (length / averageLength)) + frequency);
}

/** A document's weighted term frequencies and length, accumulated exactly as wink's `addDoc` does. */
export function weighDocument(
  title: readonly string[],
  body: readonly string[],
  config: Bm25Config,
  frequencies: Map<string, number>,
): number {
  const fields: Array<[readonly string[], number]> = [
    [title, config.fieldWeights.title],
    [body, config.fieldWeights.body],
  ];
  let length = 0;
  for (const [tokens, weight] of fields) {
    for (const token of tokens) {
      const frequency = frequencies.get(token);
      frequencies.set(token, frequency === undefined ? weight : frequency + weight);
    }
    length += tokens.length * Math.abs(weight);
  }
  return length;
}

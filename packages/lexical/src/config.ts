import { ValidationError } from "@sift/core";

/** BM25F parameters of a lexical index. Changing any of them invalidates persisted generations. */
export interface Bm25Config {
  /** Term-frequency saturation (>= 0). */
  k1: number;
  /** Length normalisation, 0 (none) to 1 (full). */
  b: number;
  /** Multiplier applied to each field's term frequencies (and lengths), > 0. */
  fieldWeights: { title: number; body: number };
}

/**
 * Defaults. k1 and b are wink's (and Lucene's) defaults; wink's IDF smoothing k stays 1. Title weight 2 over
 * 1 measured nDCG@10 0.6942 vs 0.6918 on BEIR SciFact test (Recall@100 0.9209 for both; see
 * `scripts/scifact-ndcg.ts`): a small gain, not tuned further.
 */
export const defaultBm25Config: Bm25Config = Object.freeze({
  k1: 1.2,
  b: 0.75,
  fieldWeights: Object.freeze({ title: 2, body: 1 }),
}) as Bm25Config;

/** Fills a partial config from the defaults and rejects values wink would silently replace or refuse. */
export function resolveBm25Config(partial: Partial<Bm25Config> = {}): Bm25Config {
  const config: Bm25Config = {
    k1: partial.k1 ?? defaultBm25Config.k1,
    b: partial.b ?? defaultBm25Config.b,
    fieldWeights: {
      title: partial.fieldWeights?.title ?? defaultBm25Config.fieldWeights.title,
      body: partial.fieldWeights?.body ?? defaultBm25Config.fieldWeights.body,
    },
  };
  const issues: { path: string; message: string }[] = [];
  if (!Number.isFinite(config.k1) || config.k1 < 0)
    issues.push({ path: "k1", message: "must be a number >= 0" });
  if (!Number.isFinite(config.b) || config.b < 0 || config.b > 1) {
    issues.push({ path: "b", message: "must be a number between 0 and 1" });
  }
  for (const field of ["title", "body"] as const) {
    const weight = config.fieldWeights[field];
    if (!Number.isFinite(weight) || weight <= 0) {
      issues.push({ path: `fieldWeights.${field}`, message: "must be a number > 0" });
    }
  }
  if (issues.length > 0) throw new ValidationError("invalid BM25 configuration", issues);
  return config;
}

/** True when two configs score identically (used to decide whether a persisted generation is reusable). */
export function sameBm25Config(left: Bm25Config, right: Bm25Config): boolean {
  return (
    left.k1 === right.k1 &&
    left.b === right.b &&
    left.fieldWeights.title === right.fieldWeights.title &&
    left.fieldWeights.body === right.fieldWeights.body
  );
}

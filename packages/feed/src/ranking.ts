import type { CollaborativeSignal } from "./collaborative";
import type { FeedDocumentRecord } from "./feed-store";
import { nearestCentroid } from "./learning";
import { type Candidate, type FeatureName, type FeatureVector, featureNames, type Profile } from "./types";
import { dot } from "./vectors";

/**
 * Read-time ranking settings. Defaults are stated priors:
 * - `recencyHalfLifeHours` 48: an item's recency feature halves every two days since publication.
 * - `sourcePriors`: a prior per source in [0, 1] (e.g. editorial trust); unknown sources get
 *   `defaultSourcePrior` 0.5.
 */
export interface RankingOptions {
  recencyHalfLifeHours: number;
  sourcePriors: Readonly<Record<string, number>>;
  defaultSourcePrior: number;
}

export const defaultRankingOptions: RankingOptions = Object.freeze({
  recencyHalfLifeHours: 48,
  sourcePriors: Object.freeze({}),
  defaultSourcePrior: 0.5,
});

/**
 * Every feature of a candidate at read time `now`:
 * - `bm25` [0, 1]: normalised BM25 of the best saved query (match time);
 * - `queryCosine` [−1, 1]: cosine to the nearest saved query (match time);
 * - `centroid` [−1, 1]: cosine to the nearest learned centroid (0 without vectors);
 * - `coverage` {0, 1}: the profile has a coverage filter and the document passes it;
 * - `recency` (0, 1]: `2^(−age / half-life)`, age from publication (future dates count as 0);
 * - `sourcePrior` [0, 1];
 * - `avoid` [−1, 1]: cosine to the nearest document marked "less like this" (0 without any);
 * - `coEngagement`, `coRead` [0, 1]: see `CollaborativeView`.
 */
export function computeFeatures(
  profile: Profile,
  candidate: Candidate,
  record: FeedDocumentRecord | undefined,
  collaborative: CollaborativeSignal | null,
  now: number,
  options: RankingOptions = defaultRankingOptions,
): FeatureVector {
  const embedding = record?.embedding ?? null;
  const ageHours = Math.max(0, now - candidate.publishedAt) / 3_600_000;
  let avoid = 0;
  if (embedding !== null) {
    for (const avoided of profile.learned.avoided) {
      if (avoided.vector.length === embedding.length) avoid = Math.max(avoid, dot(avoided.vector, embedding));
    }
  }
  const prior =
    candidate.source === null
      ? options.defaultSourcePrior
      : (options.sourcePriors[candidate.source] ?? options.defaultSourcePrior);
  return {
    bm25: candidate.match.bm25,
    queryCosine: candidate.match.queryCosine,
    centroid: embedding === null ? 0 : (nearestCentroid(profile.learned, embedding)?.cosine ?? 0),
    coverage: candidate.match.coverage,
    recency: 2 ** (-ageHours / options.recencyHalfLifeHours),
    sourcePrior: prior,
    avoid,
    coEngagement: collaborative?.coEngagement ?? 0,
    coRead: collaborative?.coRead ?? 0,
  };
}

/** A score with each feature's additive share of it (for a linear model: weight × value). */
export interface RankedScore {
  score: number;
  contributions: Partial<Record<FeatureName, number>>;
}

/**
 * Scores feature vectors; higher is better. Implementations: {@link LinearRanker} (day one, transparent)
 * and the learned models (`RankingModel`). `id` names the ranker in served-feed logs.
 */
export interface Ranker {
  readonly id: string;
  score(features: FeatureVector): RankedScore;
}

export type Weights = Partial<Record<FeatureName, number>>;

export class LinearRanker implements Ranker {
  readonly id: string;
  constructor(
    name: string,
    readonly weights: Readonly<Weights>,
  ) {
    for (const [feature, weight] of Object.entries(weights)) {
      if (!(featureNames as readonly string[]).includes(feature))
        throw new RangeError(`unknown feature '${feature}'`);
      if (!Number.isFinite(weight)) throw new RangeError(`weight of ${feature} must be finite`);
    }
    this.id = `linear:${name}`;
  }

  score(features: FeatureVector): RankedScore {
    let score = 0;
    const contributions: Weights = {};
    for (const [feature, weight] of Object.entries(this.weights) as Array<[FeatureName, number]>) {
      const contribution = weight * features[feature];
      contributions[feature] = contribution;
      score += contribution;
    }
    return { score, contributions };
  }
}

/**
 * The linear presets, fixed before any simulation was run (docs/adr/0013):
 * - relevance: normalised BM25 and cosine weigh the same (0.5 each; both are roughly [0, 1] for matches);
 * - recency 0.2 and source prior 0.05: tie-breakers within relevance, never above it;
 * - feedback swaps the stated query cosine for the learned centroid cosine (which starts equal to it) and
 *   subtracts 0.25 × the cosine to "less like this" documents;
 * - collaborative features add up to 0.3 (co-engagement) and 0.2 (co-reads): a peer's read counts about as
 *   much as a strong lexical match.
 */
export const linearPresets = {
  recency: { recency: 1 },
  bm25: { bm25: 1 },
  dense: { queryCosine: 1 },
  hybrid: { bm25: 0.5, queryCosine: 0.5, coverage: 0.05, recency: 0.2, sourcePrior: 0.05 },
  "hybrid+feedback": {
    bm25: 0.5,
    centroid: 0.5,
    coverage: 0.05,
    recency: 0.2,
    sourcePrior: 0.05,
    avoid: -0.25,
  },
  "hybrid+feedback+collab": {
    bm25: 0.5,
    centroid: 0.5,
    coverage: 0.05,
    recency: 0.2,
    sourcePrior: 0.05,
    avoid: -0.25,
    coEngagement: 0.3,
    coRead: 0.2,
  },
} as const satisfies Record<string, Weights>;

export type LinearPreset = keyof typeof linearPresets;

export function presetRanker(preset: LinearPreset): LinearRanker {
  return new LinearRanker(preset, linearPresets[preset]);
}

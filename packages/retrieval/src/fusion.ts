/**
 * Rank fusion of retrieval legs. Every leg hands in its hits best first with raw scores (higher is
 * better); fusion returns one list, best first, where every hit explains itself: per leg its 1-based rank,
 * raw score, normalised score and the contribution that leg made to the fused score.
 *
 * Methods:
 * - `rrf`: reciprocal rank fusion, contribution = weight / (k + rank). Scores are ignored; robust default.
 * - `minmax`: convex combination of min-max normalised scores (each leg mapped to [0, 1]).
 * - `zscore`: convex combination of z-scores ((score − mean) / standard deviation within the leg).
 * - `dbsf`: distribution-based score fusion (as in Qdrant): scores mapped to [0, 1] between
 *   mean − 3σ and mean + 3σ (clipped), then combined like `minmax`.
 *
 * For the score-based methods the weights are normalised to sum to 1 over the legs present, and a hit
 * missing from a leg gets that leg's lowest normalised value (it ranked below everything the leg returned),
 * so a document found by one leg only is not favoured over one found by both.
 * Ties are broken by the best rank in any leg, then by chunk id (ascending), so the order is deterministic.
 */
export type FusionMethod = "rrf" | "minmax" | "zscore" | "dbsf";

export interface LegHits {
  leg: string;
  hits: ReadonlyArray<{ chunkId: number; score: number }>;
}

export interface FusionOptions {
  method: FusionMethod;
  /** RRF's rank constant; 60 by default (Cormack et al.). */
  rrfK?: number;
  /** Per-leg weights; a leg without a weight gets 1. */
  weights?: Readonly<Record<string, number>>;
}

export interface LegContribution {
  rank: number;
  score: number;
  /** The leg's score after normalisation (for `rrf`: 1 / (k + rank)). */
  normalized: number;
  /** What this leg added to the fused score. */
  contribution: number;
}

export interface FusedHit {
  chunkId: number;
  score: number;
  legs: Record<string, LegContribution>;
}

export const defaultRrfK = 60;

function normalizer(method: Exclude<FusionMethod, "rrf">, scores: number[]): (score: number) => number {
  if (scores.length === 0) return () => 0;
  if (method === "minmax") {
    const min = Math.min(...scores);
    const max = Math.max(...scores);
    return max === min ? () => 1 : (s) => (s - min) / (max - min);
  }
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  if (method === "zscore") return std === 0 ? () => 0 : (s) => (s - mean) / std;
  // dbsf
  if (std === 0) return () => 1;
  const low = mean - 3 * std;
  return (s) => Math.min(1, Math.max(0, (s - low) / (6 * std)));
}

export function fuse(legs: readonly LegHits[], options: FusionOptions): FusedHit[] {
  const k = options.rrfK ?? defaultRrfK;
  if (!(k >= 0) || !Number.isFinite(k)) throw new RangeError(`rrfK must be a finite number >= 0, got ${k}`);
  const present = legs.filter((l) => l.hits.length > 0);
  const rawWeight = (leg: string) => options.weights?.[leg] ?? 1;
  for (const l of legs) {
    const w = rawWeight(l.leg);
    if (!(w >= 0) || !Number.isFinite(w))
      throw new RangeError(`weight of leg '${l.leg}' must be >= 0, got ${w}`);
  }
  const weightSum = present.reduce((sum, l) => sum + rawWeight(l.leg), 0);
  const weight = (leg: string) =>
    options.method === "rrf" ? rawWeight(leg) : weightSum === 0 ? 0 : rawWeight(leg) / weightSum;

  const fused = new Map<number, FusedHit>();
  const floors = new Map<string, number>();
  for (const { leg, hits } of present) {
    const w = weight(leg);
    const norm =
      options.method === "rrf"
        ? undefined
        : normalizer(
            options.method,
            hits.map((h) => h.score),
          );
    let floor = Number.POSITIVE_INFINITY;
    const seen = new Set<number>();
    let rank = 0;
    for (const hit of hits) {
      if (seen.has(hit.chunkId)) continue; // a leg lists a chunk once, at its best rank
      seen.add(hit.chunkId);
      rank++;
      const normalized = norm === undefined ? 1 / (k + rank) : norm(hit.score);
      floor = Math.min(floor, normalized);
      const entry = fused.get(hit.chunkId) ?? { chunkId: hit.chunkId, score: 0, legs: {} };
      entry.legs[leg] = { rank, score: hit.score, normalized, contribution: w * normalized };
      entry.score += w * normalized;
      fused.set(hit.chunkId, entry);
    }
    floors.set(leg, floor);
  }
  if (options.method !== "rrf") {
    // A hit missing from a leg scores that leg's floor, so single-leg hits are not favoured.
    for (const entry of fused.values()) {
      for (const { leg } of present) {
        if (entry.legs[leg] === undefined) entry.score += weight(leg) * (floors.get(leg) ?? 0);
      }
    }
  }
  const bestRank = (h: FusedHit) => Math.min(...Object.values(h.legs).map((l) => l.rank));
  return [...fused.values()].sort(
    (a, b) => b.score - a.score || bestRank(a) - bestRank(b) || a.chunkId - b.chunkId,
  );
}

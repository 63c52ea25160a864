import type { FeedEvent, FeedEventType, InterestCentroid, LearnedState, SavedQuery } from "./types";
import { dot, nearest, normalized } from "./vectors";

/**
 * How feedback moves a profile. Every default is a stated prior, not fitted to any dataset:
 * - `halfLifeDays` 14: the evidence behind a centroid halves every two weeks, so recent feedback moves it more.
 * - `minDwellSeconds` 30: a click read for less than this is not evidence of interest (the usual
 *   "satisfied click" threshold in click-log studies).
 * - weights: a satisfied read 1, a save or "more like this" 2; a dismiss −0.5, "less like this" −1.5.
 * - `gamma` 0.25: the negative step's strength relative to a positive one (Rocchio's γ < β).
 * - `spawnBelow` 0.4: a positive document this far from every centroid (cosine) starts a new interest,
 *   up to `maxCentroids` 8.
 * - `querySeedMass` 2: a saved query's centroid starts as if two documents had confirmed it.
 */
export interface LearningOptions {
  halfLifeDays: number;
  minDwellSeconds: number;
  positiveWeights: Partial<Record<FeedEventType, number>>;
  negativeWeights: Partial<Record<FeedEventType, number>>;
  gamma: number;
  spawnBelow: number;
  maxCentroids: number;
  querySeedMass: number;
  /** Saved and avoided documents kept to explain and for the `avoid` feature. Default 50 each. */
  keepDocuments: number;
}

export const defaultLearningOptions: LearningOptions = Object.freeze({
  halfLifeDays: 14,
  minDwellSeconds: 30,
  positiveWeights: Object.freeze({ dwell: 1, save: 2, "more-like-this": 2 }),
  negativeWeights: Object.freeze({ dismiss: 0.5, "less-like-this": 1.5 }),
  gamma: 0.25,
  spawnBelow: 0.4,
  maxCentroids: 8,
  querySeedMass: 2,
  keepDocuments: 50,
}) as LearningOptions;

/**
 * The signed weight of an event as evidence of interest: > 0 pulls, < 0 pushes, 0 says nothing.
 * An `open` with `dwellSeconds` counts as a dwell.
 */
export function evidenceWeight(
  event: Pick<FeedEvent, "type" | "dwellSeconds">,
  options: LearningOptions = defaultLearningOptions,
): number {
  if (event.type === "dwell" || (event.type === "open" && event.dwellSeconds !== null)) {
    return (event.dwellSeconds ?? 0) >= options.minDwellSeconds ? (options.positiveWeights.dwell ?? 0) : 0;
  }
  const positive = options.positiveWeights[event.type];
  if (positive !== undefined) return positive;
  const negative = options.negativeWeights[event.type];
  return negative === undefined ? 0 : -negative;
}

const decayed = (centroid: InterestCentroid, now: number, options: LearningOptions) =>
  centroid.mass * 2 ** (-Math.max(0, now - centroid.updatedAt) / (options.halfLifeDays * 86_400_000));

/**
 * Aligns the centroids with the saved queries: one `query` centroid per saved query with a vector (kept
 * where the query survives, seeded at the query's vector when new, dropped when the query was removed);
 * feedback centroids stay.
 */
export function syncQueryCentroids(
  learned: LearnedState,
  savedQueries: readonly SavedQuery[],
  now: number,
  options: LearningOptions = defaultLearningOptions,
): LearnedState {
  const existing = new Map(
    learned.centroids.flatMap((c) => (c.origin.kind === "query" ? [[c.origin.queryId, c] as const] : [])),
  );
  const fromQueries = savedQueries.flatMap((query): InterestCentroid[] => {
    if (query.vector === undefined) return [];
    const kept = existing.get(query.id);
    if (kept !== undefined && kept.vector.length === query.vector.length) return [kept];
    return [
      {
        id: `q:${query.id}`,
        vector: new Float32Array(query.vector),
        mass: options.querySeedMass,
        updatedAt: now,
        origin: { kind: "query", queryId: query.id },
      },
    ];
  });
  const feedback = learned.centroids.filter((c) => c.origin.kind === "feedback");
  return { ...learned, centroids: [...fromQueries, ...feedback] };
}

/**
 * One Rocchio step. With `w` the event's evidence weight, `d` the document's vector and `c` the nearest
 * centroid carrying (decayed) mass `m`:
 * - `w > 0`: `c ← normalise(m·c + w·d)`, `m ← m + w`; or a new centroid at `d` with mass `w` when every
 *   centroid is further than `spawnBelow` and there is room;
 * - `w < 0`: `c ← normalise(m·c − γ·|w|·d)` (it moves away; its mass is unchanged).
 * Returns the new state (the input is not modified) and the centroid moved or created.
 */
export function applyFeedback(
  learned: LearnedState,
  event: Pick<FeedEvent, "type" | "dwellSeconds" | "documentKey" | "at">,
  vector: Float32Array | null,
  options: LearningOptions = defaultLearningOptions,
): { learned: LearnedState; centroidId: string | null } {
  const weight = evidenceWeight(event, options);
  if (weight === 0 || vector === null) return { learned, centroidId: null };
  const centroids = learned.centroids.filter((c) => c.vector.length === vector.length);
  const near = nearest(
    vector,
    centroids.map((c) => c.vector),
  );
  const target = centroids[near.index];
  let next: InterestCentroid[];
  let centroidId: string;
  if (
    weight > 0 &&
    (target === undefined || near.cosine < options.spawnBelow) &&
    centroids.length < options.maxCentroids
  ) {
    centroidId = `f:${event.documentKey}@${event.at}`;
    const spawned: InterestCentroid = {
      id: centroidId,
      vector: new Float32Array(vector),
      mass: weight,
      updatedAt: event.at,
      origin: { kind: "feedback", documentKey: event.documentKey },
    };
    next = [...learned.centroids, spawned];
  } else if (target !== undefined) {
    centroidId = target.id;
    const mass = decayed(target, event.at, options);
    const step = weight > 0 ? weight : -options.gamma * -weight;
    const moved = new Float32Array(target.vector.length);
    for (let i = 0; i < moved.length; i += 1) moved[i] = mass * target.vector[i]! + step * vector[i]!;
    const unit = normalized(moved) ?? target.vector;
    const updated = { ...target, vector: unit, mass: weight > 0 ? mass + weight : mass, updatedAt: event.at };
    next = learned.centroids.map((c) => (c.id === target.id ? updated : c));
  } else {
    return { learned, centroidId: null };
  }
  return { learned: { ...learned, centroids: next }, centroidId };
}

/** Records a saved or avoided document (newest first, bounded) for explanations and the `avoid` feature. */
export function rememberDocument(
  learned: LearnedState,
  kind: "saved" | "avoided",
  entry: { documentKey: string; title: string; vector: Float32Array; at: number },
  options: LearningOptions = defaultLearningOptions,
): LearnedState {
  if (kind === "saved") {
    const saved = [
      { documentKey: entry.documentKey, title: entry.title, vector: entry.vector, savedAt: entry.at },
      ...learned.saved.filter((s) => s.documentKey !== entry.documentKey),
    ].slice(0, options.keepDocuments);
    return { ...learned, saved };
  }
  const avoided = [
    { documentKey: entry.documentKey, vector: entry.vector, at: entry.at },
    ...learned.avoided.filter((a) => a.documentKey !== entry.documentKey),
  ].slice(0, options.keepDocuments);
  return { ...learned, avoided };
}

/** The centroid nearest to a vector (id and cosine), for explanations. */
export function nearestCentroid(
  learned: LearnedState,
  vector: Float32Array,
): { centroid: InterestCentroid; cosine: number } | null {
  let best: { centroid: InterestCentroid; cosine: number } | null = null;
  for (const centroid of learned.centroids) {
    if (centroid.vector.length !== vector.length) continue;
    const cosine = dot(centroid.vector, vector);
    if (best === null || cosine > best.cosine) best = { centroid, cosine };
  }
  return best;
}

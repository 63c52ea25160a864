import { defaultLearningOptions, type LearningOptions } from "./learning";
import { getOrCreate } from "./maps";
import type { SerializedModel } from "./model";
import { type FeatureName, type FeatureVector, type FeedEvent, featureNames, type ServedFeed } from "./types";

/** One served feed read with a label per shown item: the unit a ranker is trained on. */
export interface TrainingGroup {
  requestId: string;
  user: string;
  at: number;
  items: Array<{ itemId: string; position: number; features: FeatureVector; label: number }>;
}

/**
 * The graded label of an event: 2 for a save or "more like this", 1 for a read of at least
 * `minDwellSeconds`, else 0 (a short click, a dismiss, "less like this").
 */
export function eventGrade(event: FeedEvent, options: LearningOptions = defaultLearningOptions): number {
  if (event.type === "save" || event.type === "more-like-this") return 2;
  const dwell = event.type === "dwell" || event.type === "open" ? (event.dwellSeconds ?? 0) : 0;
  return dwell >= options.minDwellSeconds ? 1 : 0;
}

/**
 * Joins logged feed reads with the events that answer them (same request id and item id) into training
 * groups; an item's label is the best grade of its events. Groups without any positive label are kept
 * (they inform the propensities) but produce no pairs.
 */
export function buildTrainingGroups(
  served: readonly ServedFeed[],
  events: readonly FeedEvent[],
  options: LearningOptions = defaultLearningOptions,
): TrainingGroup[] {
  const grades = new Map<string, number>();
  for (const event of events) {
    if (event.requestId === null) continue;
    const key = `${event.requestId}\u0000${event.itemId}`;
    grades.set(key, Math.max(grades.get(key) ?? 0, eventGrade(event, options)));
  }
  return served.map((feed) => ({
    requestId: feed.requestId,
    user: feed.user,
    at: feed.at,
    items: feed.items.map((item) => ({
      itemId: item.itemId,
      position: item.position,
      features: item.features,
      label: grades.get(`${feed.requestId}\u0000${item.itemId}`) ?? 0,
    })),
  }));
}

/**
 * Examination propensities of the position-based click model, estimated from the logs by expectation
 * maximisation (Chuklin et al., "Click Models for Web Search", §4.2; Wang et al. 2018): P(click at k on item
 * i for user u) = θ_k · γ_{u,i}. Items shown to the same analyst at different positions over several reads
 * identify θ. Returned relative to position 1 (θ_1 = 1), one value per position 1..`positions`.
 */
export function estimatePropensities(
  groups: readonly TrainingGroup[],
  positions = 10,
  iterations = 60,
): number[] {
  const observations: Array<{ k: number; pair: number; click: boolean }> = [];
  const pairIds = new Map<string, number>();
  for (const group of groups) {
    for (const item of group.items) {
      if (item.position < 1 || item.position > positions) continue;
      const key = `${group.user}\u0000${item.itemId}`;
      const pair = getOrCreate(pairIds, key, () => pairIds.size);
      observations.push({ k: item.position - 1, pair, click: item.label > 0 });
    }
  }
  const theta = new Float64Array(positions).fill(0.5);
  const gamma = new Float64Array(pairIds.size).fill(0.5);
  for (let iteration = 0; iteration < iterations; iteration += 1) {
    const thetaSum = new Float64Array(positions);
    const thetaCount = new Float64Array(positions);
    const gammaSum = new Float64Array(pairIds.size);
    const gammaCount = new Float64Array(pairIds.size);
    for (const { k, pair, click } of observations) {
      const t = theta[k]!;
      const g = gamma[pair]!;
      const denominator = 1 - t * g;
      const examined = click ? 1 : (t * (1 - g)) / denominator;
      const relevant = click ? 1 : ((1 - t) * g) / denominator;
      thetaSum[k]! += examined;
      thetaCount[k]! += 1;
      gammaSum[pair]! += relevant;
      gammaCount[pair]! += 1;
    }
    for (let k = 0; k < positions; k += 1) {
      if (thetaCount[k]! > 0) theta[k] = clamp(thetaSum[k]! / thetaCount[k]!, 1e-3, 1 - 1e-6);
    }
    for (let p = 0; p < gamma.length; p += 1) gamma[p] = clamp(gammaSum[p]! / gammaCount[p]!, 1e-6, 1 - 1e-6);
  }
  const first = theta[0]! > 0 ? theta[0]! : 1;
  return Array.from(theta, (t) => clamp(t / first, 1e-3, 1));
}

const clamp = (x: number, low: number, high: number) => Math.min(high, Math.max(low, x));

export interface PairwiseOptions {
  /** Features the model uses; default all. */
  features?: readonly FeatureName[];
  /** L2 penalty on the standardised weights. Default 1e-3. */
  l2?: number;
  /** Inverse propensities are clipped at this value (limits variance). Default 10. */
  maxInverse?: number;
  /** Newton iterations. Default 25. */
  iterations?: number;
  /** Recorded in the model. */
  trainedAt: number;
  /** Examination propensity per position; default estimated from `groups` (position 1 = 1). */
  propensities?: readonly number[];
}

/**
 * Trains the TypeScript-native ranker: pairwise logistic regression (RankNet with a linear scorer) on
 * standardised features. Every pair (i preferred to j: higher label in the same read) weighs
 * `(label_i − label_j) / θ(position_i)`: inverse propensity weighting against position bias (Joachims,
 * Swaminathan and Schnabel 2017), with θ from {@link estimatePropensities}. Minimised by Newton's method.
 */
export function trainPairwiseLinear(
  groups: readonly TrainingGroup[],
  options: PairwiseOptions,
): SerializedModel {
  const features = [...(options.features ?? featureNames)];
  const propensities = options.propensities ?? estimatePropensities(groups);
  const maxInverse = options.maxInverse ?? 10;
  const { mean, scale } = standardisation(groups, features);
  const x = (f: FeatureVector) => features.map((name, i) => (f[name] - mean[i]!) / scale[i]!);
  const pairs: Array<{ difference: number[]; weight: number }> = [];
  let positives = 0;
  for (const group of groups) {
    for (const better of group.items) {
      if (better.label <= 0) continue;
      positives += 1;
      const inverse = Math.min(
        maxInverse,
        1 / (propensities[better.position - 1] ?? propensities.at(-1) ?? 1),
      );
      const xb = x(better.features);
      for (const worse of group.items) {
        if (worse.label >= better.label) continue;
        const xw = x(worse.features);
        pairs.push({
          difference: xb.map((v, i) => v - xw[i]!),
          weight: (better.label - worse.label) * inverse,
        });
      }
    }
  }
  const weights = newtonLogistic(pairs, features.length, options.l2 ?? 1e-3, options.iterations ?? 25);
  return {
    format: "sift-feed-model",
    formatVersion: 1,
    kind: "pairwise-linear",
    features,
    mean,
    scale,
    weights,
    training: {
      groups: groups.length,
      pairs: pairs.length,
      positives,
      propensities: [...propensities],
      trainedAt: options.trainedAt,
      notes: pairs.length === 0 ? ["no preference pairs: every weight is 0"] : [],
    },
  };
}

function standardisation(groups: readonly TrainingGroup[], features: readonly FeatureName[]) {
  const n = features.length;
  const sum = new Array<number>(n).fill(0);
  const squares = new Array<number>(n).fill(0);
  let count = 0;
  for (const group of groups) {
    for (const item of group.items) {
      count += 1;
      features.forEach((name, i) => {
        sum[i]! += item.features[name];
        squares[i]! += item.features[name] ** 2;
      });
    }
  }
  const mean = sum.map((s) => (count === 0 ? 0 : s / count));
  const scale = squares.map((s, i) => {
    const variance = count === 0 ? 0 : s / count - mean[i]! ** 2;
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { mean, scale };
}

/** Minimises Σ w·log(1 + e^(−β·d)) / Σ w + (λ/2)‖β‖² by Newton steps (the Hessian is n × n, n ≤ ~20). */
function newtonLogistic(
  pairs: ReadonlyArray<{ difference: number[]; weight: number }>,
  n: number,
  l2: number,
  iterations: number,
): number[] {
  const beta = new Array<number>(n).fill(0);
  const total = pairs.reduce((s, p) => s + p.weight, 0);
  if (total === 0) return beta;
  for (let iteration = 0; iteration < iterations; iteration += 1) {
    const gradient = beta.map((b) => l2 * b);
    const hessian = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => (i === j ? l2 : 0)),
    );
    for (const { difference: d, weight } of pairs) {
      const margin = d.reduce((s, v, i) => s + v * beta[i]!, 0);
      const p = 1 / (1 + Math.exp(margin));
      const w = weight / total;
      for (let i = 0; i < n; i += 1) {
        gradient[i]! -= w * p * d[i]!;
        for (let j = 0; j <= i; j += 1) hessian[i]![j]! += w * p * (1 - p) * d[i]! * d[j]!;
      }
    }
    for (let i = 0; i < n; i += 1) for (let j = 0; j < i; j += 1) hessian[j]![i] = hessian[i]![j]!;
    const step = solve(hessian, gradient);
    let change = 0;
    for (let i = 0; i < n; i += 1) {
      beta[i]! -= step[i]!;
      change = Math.max(change, Math.abs(step[i]!));
    }
    if (change < 1e-8) break;
  }
  return beta;
}

/** Solves A·x = b by Gaussian elimination with partial pivoting (A symmetric positive definite here). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col += 1) {
    let pivot = col;
    for (let r = col + 1; r < n; r += 1) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-15) continue;
    for (let r = 0; r < n; r += 1) {
      if (r === col) continue;
      const factor = m[r]![col]! / p;
      for (let c = col; c <= n; c += 1) m[r]![c]! -= factor * m[col]![c]!;
    }
  }
  return m.map((row, i) => (Math.abs(row[i]!) < 1e-15 ? 0 : row[n]! / row[i]!));
}

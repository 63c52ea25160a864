import { ValidationError } from "@sift/core";

/**
 * When to answer: the best passage's score must reach `threshold`. Scores are only comparable within one
 * score kind, so a threshold calibrated on reranker scores names that kind in `scoreKind`; passages scored
 * some other way (the reranker was skipped and the fused order stands) are then not judged at all, and the
 * decision says so (`threshold-not-applicable`) rather than compare unlike numbers.
 */
export interface EvidencePolicy {
  threshold: number;
  scoreKind?: string;
}

export type EvidenceReason =
  | "no-passages"
  | "below-threshold"
  | "at-or-above-threshold"
  | "threshold-not-applicable"
  | "nothing-fits-budget";

export interface EvidenceDecision {
  /** True when the pipeline generates an answer; false when it answers "not enough evidence". */
  sufficient: boolean;
  reason: EvidenceReason;
  /** The best passage score given, and its kind; null without passages. */
  topScore: number | null;
  scoreKind: string | null;
  threshold: number;
  thresholdScoreKind: string | null;
}

/** Judges the evidence from the best score among the passages. */
export function decideEvidence(
  passages: ReadonlyArray<{ score: number; scoreKind: string }>,
  policy: EvidencePolicy,
): EvidenceDecision {
  const base = { threshold: policy.threshold, thresholdScoreKind: policy.scoreKind ?? null };
  let best: { score: number; scoreKind: string } | undefined;
  for (const passage of passages) if (best === undefined || passage.score > best.score) best = passage;
  if (best === undefined) {
    return { ...base, sufficient: false, reason: "no-passages", topScore: null, scoreKind: null };
  }
  const found = { ...base, topScore: best.score, scoreKind: best.scoreKind };
  if (policy.scoreKind !== undefined && policy.scoreKind !== best.scoreKind) {
    return { ...found, sufficient: true, reason: "threshold-not-applicable" };
  }
  return best.score >= policy.threshold
    ? { ...found, sufficient: true, reason: "at-or-above-threshold" }
    : { ...found, sufficient: false, reason: "below-threshold" };
}

export interface CalibrationSample {
  /** The best passage score for one labelled question, of one score kind. */
  score: number;
  /** Whether that evidence is relevant (e.g. the top passage is judged relevant in the qrels). */
  relevant: boolean;
}

export interface CalibrationOptions {
  /** The precision the answered questions must reach, 0..1 (e.g. 0.9). */
  minPrecision: number;
  /** Fewest samples that must lie at or above the chosen threshold; default 5. */
  minSupport?: number;
}

export interface Calibration {
  /** Answer when the best score is >= threshold; null when no threshold reaches `minPrecision`. */
  threshold: number | null;
  /** Among samples at or above the threshold: the share that is relevant. */
  precision: number;
  /** The share of all relevant samples at or above the threshold. */
  recall: number;
  /** Samples at or above the threshold. */
  support: number;
  samples: number;
}

/**
 * Learns the evidence threshold from labelled data: the lowest threshold at which the samples scoring at or
 * above it are relevant with precision >= `minPrecision`, counting at least `minSupport` of them. The lowest
 * such threshold answers the most questions (highest recall) while keeping the precision bar.
 *
 * Method: sort the samples by score, descending; walk the distinct scores, keeping running counts; each
 * distinct score s is a candidate "answer when score >= s" with precision = relevant / counted. The chosen
 * threshold is then placed halfway between that score and the next lower distinct score, so unseen scores
 * that fall between two labelled ones are decided by the nearer side rather than always refused. Without a
 * candidate that qualifies the result is `threshold: null` (never answer from these scores).
 */
export function calibrateEvidenceThreshold(
  samples: readonly CalibrationSample[],
  options: CalibrationOptions,
): Calibration {
  const { minPrecision } = options;
  const minSupport = options.minSupport ?? 5;
  if (!(minPrecision >= 0 && minPrecision <= 1)) {
    throw new ValidationError("minPrecision must lie in [0, 1]", [
      { path: "minPrecision", message: "out of range" },
    ]);
  }
  if (samples.some((sample) => !Number.isFinite(sample.score))) {
    throw new ValidationError("every calibration score must be a finite number");
  }
  const sorted = [...samples].sort((a, b) => b.score - a.score);
  const totalRelevant = sorted.filter((sample) => sample.relevant).length;
  let counted = 0;
  let relevant = 0;
  let chosen: { index: number; precision: number; support: number; relevant: number } | undefined;
  for (let index = 0; index < sorted.length; index++) {
    counted++;
    if (sorted[index]!.relevant) relevant++;
    // Only at the last sample of a run of equal scores: a threshold cannot split ties.
    if (index + 1 < sorted.length && sorted[index + 1]!.score === sorted[index]!.score) continue;
    const precision = relevant / counted;
    if (counted >= minSupport && precision >= minPrecision)
      chosen = { index, precision, support: counted, relevant };
  }
  if (chosen === undefined) {
    return { threshold: null, precision: 0, recall: 0, support: 0, samples: samples.length };
  }
  const score = sorted[chosen.index]!.score;
  const next = sorted[chosen.index + 1]?.score;
  return {
    threshold: next === undefined ? score : (score + next) / 2,
    precision: chosen.precision,
    recall: totalRelevant === 0 ? 0 : chosen.relevant / totalRelevant,
    support: chosen.support,
    samples: samples.length,
  };
}

import { ValidationError } from "@sift/core";
import { describe, expect, it } from "vitest";
import { type CalibrationSample, calibrateEvidenceThreshold, decideEvidence } from "./evidence";

const hit = (score: number, scoreKind = "rerank") => ({ score, scoreKind });

describe("decideEvidence", () => {
  it("refuses without passages and below the threshold, answers at or above it", () => {
    expect(decideEvidence([], { threshold: 0.5 })).toEqual({
      sufficient: false,
      reason: "no-passages",
      topScore: null,
      scoreKind: null,
      threshold: 0.5,
      thresholdScoreKind: null,
    });
    expect(decideEvidence([hit(0.2), hit(0.49)], { threshold: 0.5 })).toMatchObject({
      sufficient: false,
      reason: "below-threshold",
      topScore: 0.49,
    });
    expect(decideEvidence([hit(0.2), hit(0.5)], { threshold: 0.5 })).toMatchObject({
      sufficient: true,
      reason: "at-or-above-threshold",
      topScore: 0.5,
    });
  });

  it("does not compare scores of another kind than the threshold was calibrated on", () => {
    expect(decideEvidence([hit(0.01, "fused:rrf")], { threshold: 0.5, scoreKind: "rerank" })).toEqual({
      sufficient: true,
      reason: "threshold-not-applicable",
      topScore: 0.01,
      scoreKind: "fused:rrf",
      threshold: 0.5,
      thresholdScoreKind: "rerank",
    });
    expect(decideEvidence([hit(0.4)], { threshold: 0.5, scoreKind: "rerank" })).toMatchObject({
      sufficient: false,
      reason: "below-threshold",
    });
  });
});

describe("calibrateEvidenceThreshold", () => {
  // Hand-made: relevant evidence mostly scores high, but not cleanly.
  const samples: CalibrationSample[] = [
    { score: 0.95, relevant: true },
    { score: 0.9, relevant: true },
    { score: 0.85, relevant: true },
    { score: 0.8, relevant: false },
    { score: 0.75, relevant: true },
    { score: 0.7, relevant: true },
    { score: 0.6, relevant: false },
    { score: 0.55, relevant: false },
    { score: 0.5, relevant: true },
    { score: 0.4, relevant: false },
    { score: 0.3, relevant: false },
    { score: 0.2, relevant: false },
  ];
  const shuffled = [...samples].reverse();

  /** Precision and support of a threshold measured directly, to cross-check the result. */
  const measure = (threshold: number) => {
    const above = samples.filter((sample) => sample.score >= threshold);
    return {
      support: above.length,
      precision: above.filter((sample) => sample.relevant).length / above.length,
    };
  };

  it("picks the lowest threshold that keeps the precision bar, halfway to the next score", () => {
    const calibration = calibrateEvidenceThreshold(shuffled, { minPrecision: 0.8, minSupport: 3 });
    expect(calibration).toEqual({
      threshold: expect.closeTo(0.65, 10),
      precision: 5 / 6,
      recall: 5 / 6,
      support: 6,
      samples: 12,
    });
    expect(measure(0.65)).toEqual({ support: 6, precision: 5 / 6 });
    // Lower thresholds miss the bar: 0.6 gives 5 of 7.
    expect(measure(0.6).precision).toBeLessThan(0.8);
  });

  it("trades recall for precision as the bar rises", () => {
    const strict = calibrateEvidenceThreshold(samples, { minPrecision: 1, minSupport: 3 });
    expect(strict).toEqual({
      threshold: expect.closeTo(0.825, 10),
      precision: 1,
      recall: 0.5,
      support: 3,
      samples: 12,
    });
    const lax = calibrateEvidenceThreshold(samples, { minPrecision: 0, minSupport: 1 });
    expect(lax.threshold).toBe(0.2);
    expect(lax.recall).toBe(1);
  });

  it("returns null when no threshold reaches the bar with enough support", () => {
    expect(calibrateEvidenceThreshold(samples, { minPrecision: 1, minSupport: 4 })).toEqual({
      threshold: null,
      precision: 0,
      recall: 0,
      support: 0,
      samples: 12,
    });
    expect(calibrateEvidenceThreshold([], { minPrecision: 0.5 }).threshold).toBeNull();
  });

  it("never splits tied scores", () => {
    const tied: CalibrationSample[] = [
      { score: 0.9, relevant: true },
      { score: 0.9, relevant: false },
      { score: 0.8, relevant: true },
    ];
    expect(calibrateEvidenceThreshold(tied, { minPrecision: 0.6, minSupport: 1 })).toMatchObject({
      threshold: 0.8,
      support: 3,
    });
  });

  it("rejects a precision outside [0, 1] and non-finite scores", () => {
    expect(() => calibrateEvidenceThreshold(samples, { minPrecision: 1.5 })).toThrow(ValidationError);
    expect(() =>
      calibrateEvidenceThreshold([{ score: Number.NaN, relevant: true }], { minPrecision: 0.5 }),
    ).toThrow(ValidationError);
  });
});

import { describe, expect, it } from "vitest";
import { duplicateMetrics, policyMetrics, readMetrics } from "./feed-metrics";
import type { World } from "./feed-world";

const world = {
  copies: new Map([
    ["a~dup1", "a"],
    ["a~dup2", "a"],
  ]),
} as unknown as World;

describe("feed metrics", () => {
  it("scores one read like MIND: AUC, MRR and nDCG over the ranked labels", () => {
    const m = readMetrics([false, true, false, true], 0, world);
    // Relevant at ranks 2 and 4: of the 4 (relevant, non-relevant) pairs only (2, 3) is ordered right.
    expect(m.auc).toBeCloseTo(0.25, 10);
    expect(readMetrics([true, false, true, false], 0, world).auc).toBeCloseTo(0.75, 10);
    expect(m.mrr).toBe(0.5);
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    expect(m["ndcg@10"]).toBeCloseTo(dcg / (1 + 1 / Math.log2(3)), 10);
    expect(readMetrics([true, true], 0, world).auc).toBe(1);
  });

  it("splits the learning curve into thirds and tenths of the run", () => {
    const reads = [0, 40, 95].map((at, i) => ({ at, auc: 1, mrr: 1, "ndcg@5": i, "ndcg@10": i }));
    const m = policyMetrics(
      reads,
      { start: 0, end: 100 },
      {
        relevantShownWithinDay: 0.5,
        intraListDiversity: 0.7,
        relevantArrivals: 2,
        modelsTrained: 0,
        seconds: 1,
      },
    );
    expect(m["ndcg@10FirstThird"]).toBe(0);
    expect(m["ndcg@10LastThird"]).toBe(2);
    expect(m.curve).toEqual([0, null, null, null, 1, null, null, null, null, 2]);
  });

  it("measures near-duplicate clusters by pairs against the injected copies", () => {
    const clusters = new Map([
      ["a", "a"],
      ["a~dup1", "a"],
      ["a~dup2", "x"],
      ["b", "a"],
      ["c", "c"],
    ]);
    // Predicted pairs in cluster a: (a, dup1) right, (a, b) and (dup1, b) wrong; true pairs: 3 among a's copies.
    expect(duplicateMetrics(world, clusters)).toMatchObject({
      precision: 1 / 3,
      recall: 1 / 3,
      predictedPairs: 3,
      truePairs: 3,
    });
  });
});

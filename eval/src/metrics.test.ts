import { describe, expect, it } from "vitest";
import {
  averagePrecisionAt,
  dedupe,
  evaluateQuery,
  meanMetrics,
  ndcgAt,
  percentile,
  recallAt,
  reciprocalRankAt,
  trecOrder,
} from "./metrics";

const qrels = new Map([
  ["a", 1],
  ["b", 1],
]);

describe("ranking metrics (hand-computed)", () => {
  it("nDCG@10 is 1 for a perfect ranking and 0 when nothing relevant is retrieved", () => {
    expect(ndcgAt(["a", "b", "x"], qrels, 10)).toBeCloseTo(1, 10);
    expect(ndcgAt(["x", "y"], qrels, 10)).toBe(0);
  });

  it("nDCG@10 discounts by log2(rank + 1)", () => {
    // relevant at ranks 2 and 3: (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3))
    const expected = (1 / Math.log2(3) + 0.5) / (1 + 1 / Math.log2(3));
    expect(ndcgAt(["x", "a", "b"], qrels, 10)).toBeCloseTo(expected, 12);
  });

  it("nDCG uses linear graded gain and ignores hits past the cut-off", () => {
    const graded = new Map([
      ["a", 2],
      ["b", 1],
    ]);
    // ranking b, a: (1 + 2/log2(3)) / (2 + 1/log2(3))
    expect(ndcgAt(["b", "a"], graded, 10)).toBeCloseTo((1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3)), 12);
    expect(ndcgAt(["x", "a"], graded, 1)).toBe(0);
  });

  it("recall@k counts relevant documents in the first k", () => {
    expect(recallAt(["a", "x", "b"], qrels, 2)).toBe(0.5);
    expect(recallAt(["a", "x", "b"], qrels, 100)).toBe(1);
  });

  it("dedupes chunk-level ids keeping the best rank, and takes nearest-rank percentiles", () => {
    expect(dedupe(["a", "b", "a", "c"])).toEqual(["a", "b", "c"]);
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
  });
});

describe("MAP@k and MRR@k (hand-computed, trec_eval conventions)", () => {
  const three = new Map([
    ["a", 1],
    ["b", 1],
    ["c", 1],
  ]);

  it("average precision divides by every relevant document in the qrels, retrieved or not", () => {
    // relevant at ranks 2 and 4, c never retrieved: (1/2 + 2/4) / 3
    expect(averagePrecisionAt(["x", "a", "y", "b"], three, 100)).toBeCloseTo(1 / 3, 12);
    // cut at 2: only a counts, still over 3 relevant
    expect(averagePrecisionAt(["x", "a", "y", "b"], three, 2)).toBeCloseTo(1 / 6, 12);
    expect(averagePrecisionAt(["a", "b", "c"], three, 100)).toBe(1);
  });

  it("reciprocal rank is 1/rank of the first relevant document within k, else 0", () => {
    expect(reciprocalRankAt(["x", "y", "a"], three, 10)).toBeCloseTo(1 / 3, 12);
    expect(reciprocalRankAt(["x", "y", "a"], three, 2)).toBe(0);
    expect(reciprocalRankAt([], three, 10)).toBe(0);
  });

  it("grade 0 is judged non-relevant; grades only change nDCG gains", () => {
    const graded = new Map([
      ["a", 0],
      ["b", 1],
      ["c", 3],
    ]);
    const ranked = ["a", "b", "c"];
    expect(reciprocalRankAt(ranked, graded, 10)).toBe(0.5);
    // b at 2 (precision 1/2), c at 3 (precision 2/3), two relevant
    expect(averagePrecisionAt(ranked, graded, 100)).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
    expect(recallAt(ranked, graded, 2)).toBe(0.5);
    // DCG = 1/log2(3) + 3/log2(4); ideal = 3 + 1/log2(3)
    expect(ndcgAt(ranked, graded, 10)).toBeCloseTo((1 / Math.log2(3) + 1.5) / (3 + 1 / Math.log2(3)), 12);
  });

  it("a repeated document counts once, at its first rank, and does not use up a rank", () => {
    expect(reciprocalRankAt(["x", "x", "a"], three, 2)).toBe(0.5);
    expect(averagePrecisionAt(["a", "a", "b"], three, 2)).toBeCloseTo(2 / 3, 12);
  });

  it("a query without relevant judgements scores 0 everywhere", () => {
    const none = new Map([["a", 0]]);
    expect(evaluateQuery(["a", "b"], none)).toEqual({
      "ndcg@10": 0,
      "recall@100": 0,
      "mrr@10": 0,
      "map@100": 0,
    });
  });

  it("trecOrder ranks by score, ties by document id descending (as trec_eval)", () => {
    expect(
      trecOrder([
        ["d1", 1],
        ["d3", 1],
        ["d2", 2],
        ["d10", 1],
      ]),
    ).toEqual(["d2", "d3", "d10", "d1"]);
    // an id given twice keeps its best score
    expect(
      trecOrder([
        ["a", 1],
        ["b", 2],
        ["a", 3],
      ]),
    ).toEqual(["a", "b"]);
  });

  it("meanMetrics averages each metric", () => {
    const perQuery = [evaluateQuery(["a"], three), evaluateQuery(["x"], three)];
    expect(meanMetrics(perQuery)["mrr@10"]).toBe(0.5);
    expect(meanMetrics(perQuery)["map@100"]).toBeCloseTo(1 / 6, 12);
  });
});

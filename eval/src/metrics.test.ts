import { describe, expect, it } from "vitest";
import { dedupe, ndcgAt, percentile, recallAt } from "./metrics";

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

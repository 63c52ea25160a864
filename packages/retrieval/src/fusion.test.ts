import { describe, expect, it } from "vitest";
import { type FusionMethod, fuse } from "./fusion";

const bm25 = {
  leg: "bm25",
  hits: [
    { chunkId: 1, score: 12 },
    { chunkId: 2, score: 8 },
    { chunkId: 3, score: 4 },
  ],
};
const dense = {
  leg: "dense",
  hits: [
    { chunkId: 2, score: 0.9 },
    { chunkId: 4, score: 0.8 },
    { chunkId: 1, score: 0.5 },
  ],
};
const methods: FusionMethod[] = ["rrf", "minmax", "zscore", "dbsf"];

describe("fuse", () => {
  it("RRF adds weight / (k + rank) per leg", () => {
    const fused = fuse([bm25, dense], { method: "rrf" });
    const byId = new Map(fused.map((h) => [h.chunkId, h]));
    expect(byId.get(2)!.score).toBeCloseTo(1 / 62 + 1 / 61, 12);
    expect(byId.get(1)!.score).toBeCloseTo(1 / 61 + 1 / 63, 12);
    expect(byId.get(4)!.score).toBeCloseTo(1 / 62, 12);
    expect(fused.map((h) => h.chunkId)).toEqual([2, 1, 4, 3]);
    expect(byId.get(2)!.legs).toEqual({
      bm25: { rank: 2, score: 8, normalized: 1 / 62, contribution: 1 / 62 },
      dense: { rank: 1, score: 0.9, normalized: 1 / 61, contribution: 1 / 61 },
    });
  });

  it("RRF honours k and per-leg weights", () => {
    const fused = fuse([bm25, dense], { method: "rrf", rrfK: 0, weights: { bm25: 3 } });
    expect(fused[0]!.chunkId).toBe(1); // 3/1 + 1/3
    expect(fused[0]!.score).toBeCloseTo(3 + 1 / 3, 12);
  });

  it("min-max maps each leg to [0, 1] and combines convexly", () => {
    const fused = fuse([bm25, dense], { method: "minmax", weights: { bm25: 1, dense: 3 } });
    const byId = new Map(fused.map((h) => [h.chunkId, h]));
    // bm25: 1→1, 2→0.5, 3→0 ; dense: 2→1, 4→0.75, 1→0 ; weights 0.25 / 0.75
    expect(byId.get(2)!.score).toBeCloseTo(0.25 * 0.5 + 0.75 * 1, 12);
    expect(byId.get(1)!.score).toBeCloseTo(0.25 * 1 + 0, 12);
    // chunk 4 is missing from bm25: it gets bm25's floor (0)
    expect(byId.get(4)!.score).toBeCloseTo(0.75 * 0.75, 12);
    expect(byId.get(4)!.legs.bm25).toBeUndefined();
  });

  it("z-score and DBSF normalise by the leg's distribution", () => {
    const z = fuse([bm25], { method: "zscore" });
    const std = Math.sqrt(((12 - 8) ** 2 + 0 + (4 - 8) ** 2) / 3);
    expect(z[0]!.legs.bm25!.normalized).toBeCloseTo((12 - 8) / std, 12);
    const d = fuse([bm25], { method: "dbsf" });
    expect(d[0]!.legs.bm25!.normalized).toBeCloseTo((12 - (8 - 3 * std)) / (6 * std), 12);
    expect(d.every((h) => h.score >= 0 && h.score <= 1)).toBe(true);
  });

  it.each(methods)("%s: empty legs are ignored and one leg keeps its order", (method) => {
    expect(fuse([], { method })).toEqual([]);
    expect(
      fuse(
        [
          { leg: "bm25", hits: [] },
          { leg: "dense", hits: [] },
        ],
        { method },
      ),
    ).toEqual([]);
    const only = fuse([bm25, { leg: "dense", hits: [] }], { method });
    expect(only.map((h) => h.chunkId)).toEqual([1, 2, 3]);
  });

  it.each(methods)("%s: ties break by best rank, then chunk id", (method) => {
    const a = {
      leg: "a",
      hits: [
        { chunkId: 9, score: 1 },
        { chunkId: 5, score: 1 },
      ],
    };
    const b = {
      leg: "b",
      hits: [
        { chunkId: 5, score: 1 },
        { chunkId: 9, score: 1 },
      ],
    };
    expect(fuse([a, b], { method }).map((h) => h.chunkId)).toEqual([5, 9]);
  });

  it("counts a chunk listed twice by one leg once, at its best rank", () => {
    const dup = {
      leg: "bm25",
      hits: [
        { chunkId: 1, score: 3 },
        { chunkId: 1, score: 2 },
        { chunkId: 2, score: 1 },
      ],
    };
    const fused = fuse([dup], { method: "rrf" });
    expect(fused.map((h) => [h.chunkId, h.legs.bm25!.rank])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("rejects negative weights and k", () => {
    expect(() => fuse([bm25], { method: "rrf", rrfK: -1 })).toThrow(RangeError);
    expect(() => fuse([bm25], { method: "minmax", weights: { bm25: -1 } })).toThrow(RangeError);
  });
});

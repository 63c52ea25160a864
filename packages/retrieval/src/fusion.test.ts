import { describe, expect, it } from "vitest";
import {
  defaultFusionMethod,
  defaultRrfK,
  type FusedHit,
  type FusionMethod,
  type FusionOptions,
  fuse,
  type LegHits,
} from "./fusion";
import { defaultFusionSettings } from "./search";

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

  it("z-score is the default fusion of a hybrid search", () => {
    expect(defaultFusionMethod).toBe("zscore");
    expect(defaultFusionSettings).toEqual({
      method: "zscore",
      rrfK: 60,
      weights: { bm25: 1, dense: 1 },
      candidates: 100,
    });
  });

  it("z-score fuses the example by hand: convex mean of the legs' z-scores, floors for missing legs", () => {
    const z = (scores: number[], s: number) => {
      const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
      const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
      return (s - mean) / std;
    };
    const b = [12, 8, 4];
    const d = [0.9, 0.8, 0.5];
    const fused = fuse([bm25, dense], { method: "zscore" });
    const byId = new Map(fused.map((h) => [h.chunkId, h.score]));
    expect(byId.get(1)).toBeCloseTo(0.5 * z(b, 12) + 0.5 * z(d, 0.5), 12);
    expect(byId.get(2)).toBeCloseTo(0.5 * z(b, 8) + 0.5 * z(d, 0.9), 12);
    // 3 is missing from dense, 4 from bm25: each gets that leg's lowest z-score
    expect(byId.get(3)).toBeCloseTo(0.5 * z(b, 4) + 0.5 * z(d, 0.5), 12);
    expect(byId.get(4)).toBeCloseTo(0.5 * z(b, 4) + 0.5 * z(d, 0.8), 12);
    expect(fused.map((h) => h.chunkId)).toEqual([2, 1, 4, 3]);
  });

  it.each(methods)(
    "%s: the typed-array implementation returns exactly what the map-and-sort one did",
    (method) => {
      const random = seeded(0x5eed + methods.indexOf(method));
      for (let round = 0; round < 300; round++) {
        const legs = randomLegs(random);
        const options: FusionOptions = {
          method,
          ...(random() < 0.5 ? { rrfK: Math.floor(random() * 100) } : {}),
          ...(random() < 0.5 ? { weights: { a: Math.floor(random() * 4), b: random() * 3 } } : {}),
        };
        expect(fuse(legs, options)).toStrictEqual(referenceFuse(legs, options));
      }
    },
  );
});

/** Mulberry32: a small seeded generator, so a failure reproduces. */
function seeded(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Up to three legs of up to 40 hits over 30 chunk ids: duplicates, tied and constant scores included. */
function randomLegs(random: () => number): LegHits[] {
  const legs: LegHits[] = [];
  for (const leg of ["a", "b", "c"].slice(0, 1 + Math.floor(random() * 3))) {
    const size = Math.floor(random() * 41);
    const constant = random() < 0.1;
    const hits = Array.from({ length: size }, () => ({
      chunkId: Math.floor(random() * 30),
      score: constant ? 2 : random() < 0.3 ? Math.floor(random() * 3) : random() * 20 - 5,
    }));
    hits.sort((x, y) => y.score - x.score);
    legs.push({ leg, hits });
  }
  return legs;
}

/** The implementation before the typed-array rewrite (closures, a Set per leg, bestRank per comparison). */
function referenceFuse(legs: readonly LegHits[], options: FusionOptions): FusedHit[] {
  const k = options.rrfK ?? defaultRrfK;
  const present = legs.filter((l) => l.hits.length > 0);
  const rawWeight = (leg: string) => options.weights?.[leg] ?? 1;
  const weightSum = present.reduce((sum, l) => sum + rawWeight(l.leg), 0);
  const weight = (leg: string) =>
    options.method === "rrf" ? rawWeight(leg) : weightSum === 0 ? 0 : rawWeight(leg) / weightSum;
  const normalizer = (method: FusionMethod, scores: number[]): ((s: number) => number) => {
    if (method === "minmax") {
      const min = Math.min(...scores);
      const max = Math.max(...scores);
      return max === min ? () => 1 : (s) => (s - min) / (max - min);
    }
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
    if (method === "zscore") return std === 0 ? () => 0 : (s) => (s - mean) / std;
    if (std === 0) return () => 1;
    const low = mean - 3 * std;
    return (s) => Math.min(1, Math.max(0, (s - low) / (6 * std)));
  };
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
      if (seen.has(hit.chunkId)) continue;
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

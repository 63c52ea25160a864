import { DeadlineExceededError, seededRandom } from "@sift/core";
import { createAnalyzer } from "@sift/text";
import { describe, expect, it, vi } from "vitest";
import { analyzeChunk, type SegmentDocument } from "./analyzed-document";
import { type Bm25Config, defaultBm25Config, resolveBm25Config } from "./config";
import { LexicalSnapshot, searchSnapshot } from "./lexical-snapshot";
import { loadScifact, scifactPresent } from "./scifact-test-support";
import type { Segment } from "./segment";
import { buildSegment } from "./segment-builder";
import { mergeSegments } from "./segment-merge";
import { SegmentView } from "./segment-view";
import { changeSnapshot, inMemoryForward } from "./snapshot-changes";
import type { TopKAlgorithm } from "./top-k-search";
import { roundScore } from "./wink-formula";
import { WinkBm25Index } from "./wink-reference-index";

const analyzer = createAnalyzer();
const algorithms: TopKAlgorithm[] = ["auto", "maxscore", "block-max-wand", "exhaustive"];

function snapshotOf(segments: Segment[], config: Bm25Config = defaultBm25Config): LexicalSnapshot {
  return new LexicalSnapshot(segments.map(SegmentView.of), { analyzer, config, revision: 1 });
}

/** A seeded PRNG (one home: @sift/core), so a failing case can be replayed from its seed. */
const random = seededRandom;

describe("roundScore", () => {
  it("equals Number(x.toFixed(6)) on random values and on values next to a rounding half", () => {
    const next = random(7);
    for (let i = 0; i < 50_000; i += 1) {
      const plain = next() * 40;
      const nearHalf = (Math.floor(next() * 4e7) + 0.5) / 1e6 + (next() - 0.5) * 1e-14;
      for (const x of [plain, nearHalf, Math.floor(next() * 1e7) / 1e6]) {
        expect(roundScore(x)).toBe(Number(x.toFixed(6)));
      }
    }
  });
});

describe.skipIf(!scifactPresent())(
  "parity with wink-bm25-text-search on BEIR SciFact (300 test queries)",
  () => {
    // Without the dataset the describe block is skipped and vitest prints it as skipped.
    const scifact = scifactPresent() ? loadScifact() : undefined;
    const documents = scifact?.chunks.map((chunk) => analyzeChunk(chunk, analyzer)) ?? [];

    function expectSameTop100(snapshot: LexicalSnapshot, wink: WinkBm25Index): void {
      for (const query of scifact!.queries) {
        const want = wink.search(query.text, 100);
        for (const algorithm of algorithms) {
          const got = searchSnapshot(snapshot, { query: query.text, limit: 100 }, algorithm).result.hits;
          expect(
            got.map((hit) => hit.chunkId),
            `${algorithm}: ${query.text}`,
          ).toEqual(want.map((hit) => hit.chunkId));
          for (const [i, hit] of got.entries()) {
            expect(Math.abs(hit.score - want[i]!.score)).toBeLessThanOrEqual(1e-6);
          }
        }
      }
    }

    it("one segment: the same top-100 chunk ids, and scores within 1e-6", { timeout: 120_000 }, () => {
      expect(documents).toHaveLength(6346);
      const wink = WinkBm25Index.buildAnalyzed(documents, defaultBm25Config, analyzer);
      expectSameTop100(snapshotOf([buildSegment(documents, defaultBm25Config)]), wink);
    });

    it("base + deltas + deletes + updates score exactly like a fresh wink index over the live chunks, and so does their merge", {
      timeout: 180_000,
    }, async () => {
      const next = random(11);
      const base = documents.slice(0, 5000);
      const deltas = [documents.slice(5000, 5800), documents.slice(5800)];
      let snapshot = snapshotOf([buildSegment(base, defaultBm25Config)]);
      // Updates: a chunk's text under a new id (as the store does), from another chunk's terms.
      const updates: SegmentDocument[] = [];
      const removed = new Set<number>();
      for (const delta of deltas) {
        const removeNow = documents.filter((document) => next() < 0.03 && snapshot.has(document.id));
        for (const document of removeNow) removed.add(document.id);
        const updated = removeNow.slice(0, 40).map((_, i) => ({
          ...documents[(i * 97) % documents.length]!,
          id: 10_000 + updates.length + i,
        }));
        updates.push(...updated);
        snapshot = await changeSnapshot(
          snapshot,
          {
            remove: removeNow.map((document) => document.id),
            add: [buildSegment([...delta, ...updated], defaultBm25Config)],
            revision: 2,
          },
          inMemoryForward,
        );
      }
      const live = [...documents, ...updates].filter((document) => !removed.has(document.id));
      expect(snapshot.stats.documents).toBe(live.length);
      const wink = WinkBm25Index.buildAnalyzed(live, defaultBm25Config, analyzer);
      expectSameTop100(snapshot, wink);
      const merged = snapshotOf([await mergeSegments(snapshot.views, defaultBm25Config)]);
      expect(merged.stats).toMatchObject({ documents: live.length, tombstones: 0 });
      expectSameTop100(merged, wink);
    });
  },
);

describe("property: random corpora, queries, filters, deletes and merges against wink", () => {
  const vocabulary = Array.from({ length: 60 }, (_, i) => `w${i}x`);
  /** Zipf-like: low ranks much more frequent. */
  const word = (next: () => number) => vocabulary[Math.floor(vocabulary.length * next() ** 2.5)]!;
  const words = (next: () => number, max: number) =>
    Array.from({ length: Math.floor(next() * max) }, () => word(next));

  it("agrees on ids and scores in 300 seeded cases", { timeout: 120_000 }, async () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const next = random(seed);
      const config =
        seed % 3 === 0
          ? resolveBm25Config({ k1: 0.9, b: 0.4, fieldWeights: { title: 3, body: 1 } })
          : defaultBm25Config;
      let id = 0;
      const document = (): SegmentDocument => {
        id += 1 + Math.floor(next() * 3);
        return { id, title: words(next, 4), body: words(next, 30) };
      };
      const segments = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
        Array.from({ length: 1 + Math.floor(next() * 40) }, document),
      );
      let snapshot = snapshotOf([buildSegment(segments[0]!, config)], config);
      const all = [...segments[0]!];
      for (const segment of segments.slice(1)) {
        const remove = all.filter(() => next() < 0.15).map((d) => d.id);
        snapshot = await changeSnapshot(
          snapshot,
          { remove, add: [buildSegment(segment, config)], revision: 2 },
          inMemoryForward,
        );
        all.push(...segment);
      }
      if (next() < 0.3) snapshot = snapshotOf([await mergeSegments(snapshot.views, config)], config);
      const live = all.filter((d) => snapshot.has(d.id));
      if (live.length < 3) continue; // wink pads tinier indexes with empty documents, which shifts N
      const wink = WinkBm25Index.buildAnalyzed(live, config, analyzer);
      for (let q = 0; q < 6; q += 1) {
        const terms = [...words(next, 6), ...(next() < 0.3 ? ["unknownterm"] : [])];
        if (next() < 0.3 && terms.length > 0) terms.push(terms[0]!); // a repeated term counts again
        const query = terms.join(" ");
        const limit = 1 + Math.floor(next() * 12);
        const modulus = 1 + Math.floor(next() * 4);
        const accept = next() < 0.5 ? (chunkId: number) => chunkId % modulus === 0 : undefined;
        const want = wink.search(query, limit, accept);
        for (const algorithm of algorithms) {
          const got = searchSnapshot(snapshot, { query, limit, accept }, algorithm).result.hits;
          expect(got, `seed ${seed}, ${algorithm}, "${query}", limit ${limit}`).toEqual(want);
        }
      }
    }
  });
});

describe("LexicalSnapshot.search", () => {
  const documents: SegmentDocument[] = Array.from({ length: 400 }, (_, i) => ({
    id: i + 1,
    title: i % 7 === 0 ? ["alpha"] : [],
    body: ["alpha", "beta", ...(i % 3 === 0 ? ["gamma"] : []), ...(i % 50 === 0 ? ["delta"] : [])],
  }));
  const snapshot = snapshotOf([buildSegment(documents, defaultBm25Config)]);

  it("calls accept only for candidates that would enter the top k, at most once per matching chunk", () => {
    const calls: number[] = [];
    const { result, counters } = searchSnapshot(
      snapshot,
      {
        query: "alpha beta gamma delta",
        limit: 5,
        accept: (id) => {
          calls.push(id);
          return true;
        },
      },
      "maxscore",
    );
    expect(result.hits).toHaveLength(5);
    expect(new Set(calls).size).toBe(calls.length);
    // 400 chunks match, with 400 + 400 + 134 + 8 postings; accept ran for a small fraction of them.
    expect(calls.length).toBe(counters.accepted);
    expect(calls.length).toBeLessThan(60);
  });

  it("fills `limit` from accepted chunks when the filter rejects the best ones", () => {
    const accept = (id: number) => id % 2 === 0;
    // "delta" is in chunks 1, 51, 101, …, 351: of them only the even ones, none, pass; "beta" fills up.
    const { hits } = snapshot.search({ query: "delta beta", limit: 8, accept });
    expect(hits).toHaveLength(8);
    expect(hits.every((hit) => hit.chunkId % 2 === 0)).toBe(true);
    expect(
      snapshot.search({ query: "delta", limit: 8, accept: (id) => id > 300 }).hits.map((h) => h.chunkId),
    ).toEqual([301, 351]);
  });

  it("orders by score descending, then ascending chunk id", () => {
    const { hits } = snapshot.search({ query: "beta", limit: 400 });
    expect(hits).toHaveLength(400);
    for (let i = 1; i < hits.length; i += 1) {
      const [previous, hit] = [hits[i - 1]!, hits[i]!];
      expect(
        previous.score > hit.score || (previous.score === hit.score && previous.chunkId < hit.chunkId),
      ).toBe(true);
    }
  });

  it("returns nothing for an empty, stop-word-only or unknown query and for a limit below 1", () => {
    for (const query of ["", "   ", "the and of", "zzzunknown"]) {
      expect(snapshot.search({ query, limit: 10 })).toEqual({ hits: [], warnings: [] });
    }
    expect(snapshot.search({ query: "alpha", limit: 0 }).hits).toEqual([]);
    expect(snapshot.search({ query: "alpha", limit: Number.NaN }).hits).toEqual([]);
    expect(snapshot.search({ query: "alpha", limit: 2.9 }).hits).toHaveLength(2);
  });

  it("throws DeadlineExceededError when the deadline passes inside the scoring loop", () => {
    const now = performance.now();
    let calls = 0;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => (calls++ === 0 ? now : now + 1000));
    try {
      const large = snapshotOf([
        buildSegment(
          Array.from({ length: 3000 }, (_, i) => ({ id: i + 1, title: [], body: ["alpha", `t${i % 13}`] })),
          defaultBm25Config,
        ),
      ]);
      expect(() => large.search({ query: "alpha", limit: 3000, deadline: now + 1 })).toThrow(
        DeadlineExceededError,
      );
      expect(calls).toBeGreaterThan(1);
    } finally {
      clock.mockRestore();
    }
    expect(() => snapshot.search({ query: "alpha", limit: 1, deadline: performance.now() - 1 })).toThrow(
      DeadlineExceededError,
    );
  });

  it("throws the abort reason of an aborted signal", () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    expect(() => snapshot.search({ query: "alpha", limit: 3, signal: controller.signal })).toThrow("stop");
  });
});

describe("LexicalSnapshot.scoreDocument", () => {
  const documents: SegmentDocument[] = Array.from({ length: 30 }, (_, i) => ({
    id: i + 1,
    title: [`t${i % 4}`],
    body: Array.from({ length: 3 + (i % 5) }, (_, j) => `b${(i + j) % 9}`),
  }));
  const snapshot = snapshotOf([buildSegment(documents, defaultBm25Config)]);

  it("equals the search score for every live chunk, prepared or not", () => {
    for (const query of ["t1 b3", "b2 b2 b5 t0", "b8"]) {
      const prepared = snapshot.prepare(query);
      for (const hit of snapshot.search({ query, limit: 30 }).hits) {
        const document = documents[hit.chunkId - 1]!;
        expect(snapshot.scoreDocument(prepared, document)).toBe(hit.score);
        expect(snapshot.scoreDocument(query, document)).toBe(hit.score);
      }
    }
  });

  it("scores an unindexed document with the snapshot's statistics as they are (df 0 for unseen terms)", () => {
    const document = { id: 999, title: ["new"], body: ["b1", "new", "b1"] };
    const { documents: n, averageLength } = snapshot.stats;
    const length = 1 * 2 + 3 * 1;
    const term = (frequency: number, df: number) => {
      const idf = Math.log((n - df + 0.5) / (df + 0.5) + 1);
      const normalization = 1 - 0.75 + 0.75 * (length / averageLength);
      return Number((Math.abs((frequency * 2.2) / (1.2 * normalization + frequency)) * idf).toFixed(6));
    };
    const df = documents.filter((d) => d.body.includes("b1")).length;
    expect(snapshot.scoreDocument(["new", "b1"], document)).toBe(term(2, df) + term(3, 0));
    expect(snapshot.scoreDocument("unrelated words", document)).toBe(0);
  });
});

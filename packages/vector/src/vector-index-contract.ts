/**
 * The `VectorIndex` contract suite. Every implementation (embedded usearch, Qdrant) runs it unchanged from
 * its own test file: `describeVectorIndexContract("usearch", async ({ dimensions }) => ...)`.
 *
 * `create` must return an EMPTY index over storage of its own each time it is called, plus `reopen`, which
 * opens that same storage again after the suite has closed the index. The suite closes what it opened;
 * `dispose` (optional) removes the storage afterwards.
 *
 * Data: deterministic clustered unit vectors (seeded PRNG) with metadata covering every filter operator.
 * Expected answers come from an exact scan in the suite itself. Approximate implementations may miss a few
 * true neighbours (`minRecall`), but never return a hit that does not match the filter, never return fewer
 * than `min(limit, matching chunks)` hits, and always order hits by score descending, then chunk id.
 */
import {
  type Filter,
  type Metadata,
  matchesFilter,
  SiftError,
  type VectorHit,
  type VectorIndex,
  type VectorRecord,
} from "@sift/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusteredVectors, normalize } from "./test-vectors";
import { compareHits, dot } from "./vector-math";

export interface VectorIndexContractSubject {
  index: VectorIndex;
  /** Opens the storage behind `index` again (the suite has closed `index` before calling it). */
  reopen(): Promise<VectorIndex>;
  dispose?(): Promise<void>;
}

export interface VectorIndexContractOptions {
  /** Required overlap of a hit list with the exact top-k (1 for exact implementations). Default 0.9. */
  minRecall?: number;
}

const DIMENSIONS = 32;
const CLUSTERS = 12;
const COUNT = 600;
/** Chunk ids start high so that ids and array positions never coincide by accident. */
const FIRST_ID = 1_000_000;
const PINNED = 10;

/** The metadata of chunk `i` (0-based) of the shared data set. */
function metadataOf(i: number, cluster: number): Metadata {
  return {
    lang: i % 4 === 0 ? "de" : "en",
    year: 2015 + (i % 10),
    cluster,
    tags: i % 3 === 0 ? ["a", "b"] : ["c"],
    published: new Date(Date.UTC(2024, 0, 1 + (i % 60))).toISOString(),
    rare: i % 75 === 0, // 8 chunks
    score: (i % 7) / 2, // 0, 0.5, ... 3: non-integer numbers
    ...(i < PINNED ? { pinned: true } : {}),
    source: { kind: i % 2 === 0 ? "web" : "pdf" },
  };
}

export function describeVectorIndexContract(
  name: string,
  create: (options: { dimensions: number }) => Promise<VectorIndexContractSubject>,
  options: VectorIndexContractOptions = {},
): void {
  const minRecall = options.minRecall ?? 0.9;

  describe(`VectorIndex contract: ${name}`, () => {
    const data = clusteredVectors({ count: COUNT, dimensions: DIMENSIONS, clusters: CLUSTERS, seed: 7 });
    const records: VectorRecord[] = data.vectors.map((vector, i) => ({
      chunkId: FIRST_ID + i,
      vector,
      metadata: metadataOf(i, data.clusters[i]!),
    }));
    const subjects: VectorIndexContractSubject[] = [];
    const open: VectorIndex[] = [];
    let shared: VectorIndex;

    async function fresh(): Promise<VectorIndexContractSubject> {
      const subject = await create({ dimensions: DIMENSIONS });
      subjects.push(subject);
      open.push(subject.index);
      return subject;
    }

    /** The exact answer over `pool` (normalised vectors, so dot = cosine). */
    function expected(pool: readonly VectorRecord[], query: Float32Array, limit: number, filter?: Filter) {
      const q = normalize(query);
      return pool
        .filter((r) => filter === undefined || matchesFilter(filter, r.metadata))
        .map((r) => ({ chunkId: r.chunkId, score: dot(q, normalize(r.vector)) }))
        .sort(compareHits)
        .slice(0, limit);
    }

    function matchCount(pool: readonly VectorRecord[], filter: Filter): number {
      return pool.filter((r) => matchesFilter(filter, r.metadata)).length;
    }

    /** Checks the guarantees every implementation gives, and recall against the exact answer. */
    function checkHits(hits: VectorHit[], want: VectorHit[], filter?: Filter) {
      expect(hits.length).toBe(want.length);
      const byId = new Map(records.map((r) => [r.chunkId, r]));
      for (const hit of hits) {
        const record = byId.get(hit.chunkId);
        expect(record, `hit ${hit.chunkId} is a known chunk`).toBeDefined();
        if (filter !== undefined) expect(matchesFilter(filter, record!.metadata)).toBe(true);
      }
      expect([...hits].sort(compareHits)).toEqual(hits);
      const wanted = new Set(want.map((h) => h.chunkId));
      const found = hits.filter((h) => wanted.has(h.chunkId)).length;
      expect(found / Math.max(1, want.length)).toBeGreaterThanOrEqual(minRecall);
    }

    /** Scores are similarities: each hit's score equals the exact cosine of its vector with the query. */
    function checkScores(hits: VectorHit[], query: Float32Array) {
      const q = normalize(query);
      const byId = new Map(records.map((r) => [r.chunkId, r.vector]));
      for (const hit of hits) expect(hit.score).toBeCloseTo(dot(q, normalize(byId.get(hit.chunkId)!)), 4);
    }

    beforeAll(async () => {
      shared = (await fresh()).index;
      for (let i = 0; i < records.length; i += 100) await shared.upsert(records.slice(i, i + 100));
    });

    afterAll(async () => {
      for (const index of open) await index.close().catch(() => {});
      for (const subject of subjects) await subject.dispose?.();
    });

    describe("empty index", () => {
      it("counts zero, finds nothing, ignores deletes of unknown ids", async () => {
        const { index } = await fresh();
        expect(index.dimensions).toBe(DIMENSIONS);
        expect(await index.count()).toBe(0);
        await index.delete([1, 2, 3]);
        expect(await index.search({ vector: data.query(0), limit: 10 })).toEqual({ hits: [], warnings: [] });
        const filtered = await index.search({
          vector: data.query(0),
          limit: 10,
          filter: { field: "lang", eq: "en" },
        });
        expect(filtered.hits).toEqual([]);
        await index.upsert([]);
        expect(await index.count()).toBe(0);
      });
    });

    describe("upsert and search", () => {
      it("counts every vector and finds each by its own vector first, with score ~1", async () => {
        expect(await shared.count()).toBe(COUNT);
        for (const i of [0, 17, 333, 599]) {
          const record = records[i]!;
          const { hits } = await shared.search({ vector: record.vector, limit: 5 });
          expect(hits[0]?.chunkId).toBe(record.chunkId);
          expect(hits[0]?.score).toBeCloseTo(1, 4);
        }
      });

      it("returns the (approximately) exact top-k, best first, with cosine scores", async () => {
        for (let cluster = 0; cluster < 4; cluster += 1) {
          const query = data.query(cluster);
          const { hits } = await shared.search({ vector: query, limit: 20 });
          checkHits(hits, expected(records, query, 20));
          checkScores(hits, query);
          for (let i = 1; i < hits.length; i += 1)
            expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
        }
      });

      it("returns every vector when the limit exceeds the count, and nothing for a limit below 1", async () => {
        const { index } = await fresh();
        await index.upsert(records.slice(0, 7));
        const query = data.query(1);
        const { hits } = await index.search({ vector: query, limit: 50 });
        expect(hits.map((h) => h.chunkId)).toEqual(
          expected(records.slice(0, 7), query, 50).map((h) => h.chunkId),
        );
        expect((await index.search({ vector: query, limit: 0 })).hits).toEqual([]);
      });

      it("scores are cosine similarities even for vectors that are not unit length", async () => {
        const { index } = await fresh();
        const scaled = records
          .slice(0, 5)
          .map((r, i) => ({ ...r, vector: r.vector.map((v) => v * (i + 2)) }));
        await index.upsert(scaled);
        const query = data.query(2).map((v) => v * 3);
        const { hits } = await index.search({ vector: query, limit: 5 });
        expect(hits).toHaveLength(5);
        checkScores(hits, query);
      });
    });

    describe("replace", () => {
      it("an upsert of an existing id replaces its vector and metadata, at once", async () => {
        const { index } = await fresh();
        await index.upsert(records.slice(0, 50));
        const target = records[3]!;
        const other = records.find((_, i) => i >= 50 && data.clusters[i] !== data.clusters[3])!;
        await index.upsert([{ chunkId: target.chunkId, vector: other.vector, metadata: { lang: "xx" } }]);
        expect(await index.count()).toBe(50);
        const moved = await index.search({ vector: other.vector, limit: 1 });
        expect(moved.hits[0]).toMatchObject({ chunkId: target.chunkId });
        expect(moved.hits[0]!.score).toBeCloseTo(1, 4);
        const old = await index.search({ vector: target.vector, limit: 50 });
        expect(old.hits.find((h) => h.chunkId === target.chunkId)?.score ?? 0).toBeLessThan(0.99);
        const byNew = await index.search({
          vector: other.vector,
          limit: 5,
          filter: { field: "lang", eq: "xx" },
        });
        expect(byNew.hits.map((h) => h.chunkId)).toEqual([target.chunkId]);
        const byOld = await index.search({
          vector: target.vector,
          limit: 50,
          filter: { field: "year", eq: target.metadata.year as number },
        });
        expect(byOld.hits.map((h) => h.chunkId)).not.toContain(target.chunkId);
      });

      it("within one batch the last record of an id wins", async () => {
        const { index } = await fresh();
        const [a, b] = [records[0]!, records[1]!];
        await index.upsert([
          { ...a, metadata: { v: 1 } },
          { chunkId: a.chunkId, vector: b.vector, metadata: { v: 2 } },
        ]);
        expect(await index.count()).toBe(1);
        const { hits } = await index.search({ vector: b.vector, limit: 1, filter: { field: "v", eq: 2 } });
        expect(hits[0]?.chunkId).toBe(a.chunkId);
        expect(hits[0]?.score).toBeCloseTo(1, 4);
      });
    });

    describe("allowed chunks", () => {
      it("hits come only from `allowed` (the filter's matches, as the searcher passes them), k filled", async () => {
        const filter: Filter = { field: "lang", eq: "de" };
        const matches = records.filter((r) => matchesFilter(filter, r.metadata));
        const allowed = new Set(matches.map((r) => r.chunkId));
        const query = data.query(1);
        const { hits } = await shared.search({ vector: query, limit: 20, filter, allowed });
        expect(hits.every((h) => allowed.has(h.chunkId))).toBe(true);
        checkHits(hits, expected(records, query, 20, filter), filter);
        // A catalog that no longer holds some matches: they never come back.
        const dropped = new Set(hits.slice(0, 3).map((h) => h.chunkId));
        const fewer = new Set([...allowed].filter((id) => !dropped.has(id)));
        const again = await shared.search({ vector: query, limit: 20, filter, allowed: fewer });
        expect(again.hits.some((h) => dropped.has(h.chunkId))).toBe(false);
        expect(again.hits.length).toBeGreaterThan(0);
      });
    });

    describe("delete", () => {
      it("deleted vectors are gone from the next search, filtered or not", async () => {
        const { index } = await fresh();
        const pool = records.slice(0, 200);
        await index.upsert(pool);
        const victims = pool.slice(0, 200).filter((_, i) => i % 3 === 0);
        await index.delete([...victims.map((r) => r.chunkId), 42, 43]);
        const gone = new Set(victims.map((r) => r.chunkId));
        const left = pool.filter((r) => !gone.has(r.chunkId));
        expect(await index.count()).toBe(left.length);
        for (const victim of victims.slice(0, 10)) {
          const { hits } = await index.search({ vector: victim.vector, limit: 20 });
          expect(hits.some((h) => gone.has(h.chunkId))).toBe(false);
          checkHits(hits, expected(left, victim.vector, 20));
        }
        const filter: Filter = { field: "lang", eq: "de" };
        const { hits } = await index.search({ vector: data.query(0), limit: 100, filter });
        expect(hits.some((h) => gone.has(h.chunkId))).toBe(false);
        expect(hits).toHaveLength(matchCount(left, filter));
      });

      it("a deleted id can be added again", async () => {
        const { index } = await fresh();
        const record = records[5]!;
        await index.upsert([record]);
        await index.delete([record.chunkId]);
        expect(await index.count()).toBe(0);
        expect((await index.search({ vector: record.vector, limit: 1 })).hits).toEqual([]);
        await index.upsert([record]);
        expect((await index.search({ vector: record.vector, limit: 1 })).hits[0]?.chunkId).toBe(
          record.chunkId,
        );
      });
    });

    describe("filtered top-k", () => {
      const filters: Array<[string, Filter]> = [
        ["eq string", { field: "lang", eq: "de" }],
        ["eq number", { field: "cluster", eq: 3 }],
        ["eq non-integer number", { field: "score", eq: 1.5 }],
        ["eq boolean", { field: "rare", eq: true }],
        ["eq on an array field", { field: "tags", eq: "b" }],
        ["eq on a nested field", { field: "source.kind", eq: "pdf" }],
        ["in", { field: "year", in: [2016, 2019, 2024] }],
        ["in strings", { field: "tags", in: ["a", "zzz"] }],
        ["numeric range", { field: "year", gte: 2017, lt: 2020 }],
        ["non-integer range", { field: "score", gt: 0.5, lte: 2 }],
        ["date range", { field: "published", gte: "2024-01-10T00:00:00Z", lt: "2024-02-01T00:00:00Z" }],
        [
          "and",
          {
            and: [
              { field: "lang", eq: "en" },
              { field: "year", gte: 2020 },
            ],
          },
        ],
        [
          "or",
          {
            or: [
              { field: "cluster", eq: 1 },
              { field: "cluster", eq: 2 },
            ],
          },
        ],
        ["not", { not: { field: "lang", eq: "en" } }],
        ["not of a missing field (true)", { not: { field: "pinned", eq: true } }],
        [
          "nested combination",
          {
            and: [
              {
                or: [
                  { field: "tags", eq: "a" },
                  { field: "rare", eq: true },
                ],
              },
              { not: { field: "year", lt: 2018 } },
            ],
          },
        ],
      ];
      for (const [label, filter] of filters) {
        it(`${label}: every hit matches, ordered, k filled`, async () => {
          for (const [cluster, limit] of [
            [0, 10],
            [5, 40],
          ] as const) {
            const query = data.query(cluster);
            const { hits } = await shared.search({ vector: query, limit, filter });
            expect(hits.length).toBe(Math.min(limit, matchCount(records, filter)));
            checkHits(hits, expected(records, query, limit, filter), filter);
            checkScores(hits, query);
          }
        });
      }

      it("a selective filter (8 matches) returns all 8 for k = 10, far from the query or not", async () => {
        const filter: Filter = { field: "rare", eq: true };
        expect(matchCount(records, filter)).toBe(8);
        for (let cluster = 0; cluster < CLUSTERS; cluster += 1) {
          const query = data.query(cluster);
          const { hits } = await shared.search({ vector: query, limit: 10, filter });
          expect(hits.map((h) => h.chunkId)).toEqual(
            expected(records, query, 10, filter).map((h) => h.chunkId),
          );
        }
      });

      it("a filter matching exactly k chunks returns exactly those k", async () => {
        const filter: Filter = { field: "pinned", eq: true };
        const query = data.query(7);
        const { hits } = await shared.search({ vector: query, limit: PINNED, filter });
        expect(hits.map((h) => h.chunkId).sort()).toEqual(
          records
            .slice(0, PINNED)
            .map((r) => r.chunkId)
            .sort(),
        );
        expect(hits).toEqual(
          expected(records, query, PINNED, filter).map((h) => ({ ...h, score: expect.any(Number) })),
        );
      });

      it("a filter matching nothing returns no hits", async () => {
        for (const filter of [
          { field: "lang", eq: "fr" },
          { field: "missing", gte: 1 },
          {
            and: [
              { field: "lang", eq: "en" },
              { field: "lang", eq: "de" },
            ],
          },
        ] satisfies Filter[]) {
          expect((await shared.search({ vector: data.query(0), limit: 10, filter })).hits).toEqual([]);
        }
      });

      it("a broad filter whose matches lie away from the query still fills k", async () => {
        // Two clusters the query is not near (~1/6 of the data): the graph's nearest are all filtered out.
        const query = data.query(0);
        const far = [...new Set(data.clusters)].filter((c) => c !== 0).slice(0, 2);
        const filter: Filter = { field: "cluster", in: far };
        for (const limit of [10, 50, 90]) {
          const { hits } = await shared.search({ vector: query, limit, filter });
          expect(hits.length).toBe(Math.min(limit, matchCount(records, filter)));
          checkHits(hits, expected(records, query, limit, filter), filter);
        }
      });

      it("a broad filter (~75% of chunks) fills large k", async () => {
        const filter: Filter = { field: "lang", eq: "en" };
        const query = data.query(4);
        const { hits } = await shared.search({ vector: query, limit: 300, filter });
        expect(hits).toHaveLength(300);
        checkHits(hits, expected(records, query, 300, filter), filter);
      });
    });

    describe("ordering", () => {
      it("ties are broken by chunk id ascending", async () => {
        const { index } = await fresh();
        const vector = records[0]!.vector;
        await index.upsert(
          [30, 10, 20, 40].map((chunkId) => ({ chunkId, vector, metadata: {} })).concat(records.slice(1, 20)),
        );
        const { hits } = await index.search({ vector, limit: 4 });
        expect(hits.map((h) => h.chunkId)).toEqual([10, 20, 30, 40]);
        expect(new Set(hits.map((h) => h.score.toFixed(5))).size).toBe(1);
      });
    });

    describe("validation", () => {
      it("rejects vectors of the wrong dimension with a ValidationError and writes nothing", async () => {
        const { index } = await fresh();
        await index.upsert(records.slice(0, 3));
        const bad = { chunkId: 77, vector: new Float32Array(DIMENSIONS + 1), metadata: {} };
        const error = await index.upsert([records[4]!, bad]).catch((e: unknown) => e);
        expect(SiftError.is(error) && error.code).toBe("invalid_request");
        expect(await index.count()).toBe(3);
        const query = await index
          .search({ vector: new Float32Array(DIMENSIONS - 1), limit: 3 })
          .catch((e) => e);
        expect(SiftError.is(query) && query.code).toBe("invalid_request");
      });

      it("rejects non-finite values and invalid chunk ids", async () => {
        const { index } = await fresh();
        const nan = new Float32Array(DIMENSIONS).fill(Number.NaN);
        for (const record of [
          { chunkId: 1, vector: nan, metadata: {} },
          { chunkId: -1, vector: records[0]!.vector, metadata: {} },
          { chunkId: 1.5, vector: records[0]!.vector, metadata: {} },
        ]) {
          const error = await index.upsert([record]).catch((e: unknown) => e);
          expect(SiftError.is(error) && error.code).toBe("invalid_request");
        }
        expect(await index.count()).toBe(0);
      });

      it("an aborted signal rejects the search", async () => {
        const controller = new AbortController();
        controller.abort();
        await expect(
          shared.search({ vector: data.query(0), limit: 3, signal: controller.signal }),
        ).rejects.toThrow();
      });
    });

    describe("persistence", () => {
      it("flush, close, reopen: same count and same results", async () => {
        const subject = await fresh();
        const pool = records.slice(0, 300);
        await subject.index.upsert(pool);
        await subject.index.delete([pool[0]!.chunkId]);
        await subject.index.flush();
        const queries: Array<{ vector: Float32Array; limit: number; filter?: Filter }> = [
          { vector: data.query(0), limit: 10 },
          { vector: data.query(3), limit: 25, filter: { field: "lang", eq: "de" } },
          { vector: data.query(6), limit: 5, filter: { field: "published", gte: "2024-02-01T00:00:00Z" } },
        ];
        const before: VectorHit[][] = [];
        for (const query of queries) before.push((await subject.index.search(query)).hits);
        await subject.index.close();
        const reopened = await subject.reopen();
        open.push(reopened);
        expect(await reopened.count()).toBe(299);
        for (const [i, query] of queries.entries()) {
          const { hits } = await reopened.search(query);
          expect(hits.map((h) => h.chunkId)).toEqual(before[i]!.map((h) => h.chunkId));
          for (const [j, hit] of hits.entries()) expect(hit.score).toBeCloseTo(before[i]![j]!.score, 5);
        }
        // Still writable after the reopen.
        await reopened.upsert([pool[0]!]);
        expect((await reopened.search({ vector: pool[0]!.vector, limit: 1 })).hits[0]?.chunkId).toBe(
          pool[0]!.chunkId,
        );
      });

      it("an empty index survives flush and reopen", async () => {
        const subject = await fresh();
        await subject.index.flush();
        await subject.index.close();
        const reopened = await subject.reopen();
        open.push(reopened);
        expect(await reopened.count()).toBe(0);
      });
    });
  });
}

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Filter, matchesFilter, SiftError, type VectorRecord } from "@sift/core";
import { afterAll, describe, expect, it } from "vitest";
import { clusteredVectors, normalize } from "./test-vectors";
import { loadUsearch } from "./usearch-loader";
import {
  openUsearchIndex,
  PAYLOAD_FILE,
  USEARCH_INDEX_FILE,
  type UsearchIndexOptions,
} from "./usearch-vector-index";
import { describeVectorIndexContract } from "./vector-index-contract";
import { compareHits, dot, similarityFromDistance } from "./vector-math";

const directories: string[] = [];
async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "sift-vector-"));
  directories.push(directory);
  return directory;
}
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

function contractFactory(extra: Partial<UsearchIndexOptions>) {
  return async ({ dimensions }: { dimensions: number }) => {
    const path = join(await temporaryDirectory(), "index");
    const options: UsearchIndexOptions = { path, dimensions, metric: "cos", ...extra };
    return { index: await openUsearchIndex(options), reopen: () => openUsearchIndex(options) };
  };
}

// Defaults: the contract's 600 vectors sit under the exact-scan threshold, so answers are exact.
describeVectorIndexContract("usearch (exact scans)", contractFactory({}), { minRecall: 1 });
// No exact scans unless needed: unfiltered searches and broad filters go through the HNSW graph.
describeVectorIndexContract(
  "usearch (graph and over-fetch)",
  contractFactory({ exactScanThreshold: 0, selectiveFilterRatio: 0 }),
  { minRecall: 0.9 },
);

const DIMENSIONS = 48;

function dataset(count: number, seed = 11) {
  const data = clusteredVectors({ count, dimensions: DIMENSIONS, clusters: 40, seed });
  const records: VectorRecord[] = data.vectors.map((vector, i) => ({
    chunkId: i + 1,
    vector,
    metadata: { cluster: data.clusters[i]!, bucket: i % 100, even: i % 2 === 0 },
  }));
  return { data, records };
}

function exact(records: VectorRecord[], query: Float32Array, limit: number, filter?: Filter) {
  const q = normalize(query);
  return records
    .filter((r) => filter === undefined || matchesFilter(filter, r.metadata))
    .map((r) => ({ chunkId: r.chunkId, score: dot(q, r.vector) }))
    .sort(compareHits)
    .slice(0, limit);
}

describe("UsearchVectorIndex", () => {
  describe("scores", () => {
    it("usearch's cos distance is 1 − cosine similarity: the conversion matches exact dot products", () => {
      const { Index, MetricKind, ScalarKind } = loadUsearch();
      const { data, records } = dataset(300);
      for (const metric of [MetricKind.Cos, MetricKind.IP]) {
        const graph = new Index({
          dimensions: DIMENSIONS,
          metric,
          quantization: ScalarKind.F32,
          connectivity: 16,
          expansion_add: 128,
          expansion_search: 64,
          multi: false,
        });
        graph.add(
          BigUint64Array.from(records, (r) => BigInt(r.chunkId)),
          new Float32Array(records.flatMap((r) => [...r.vector])),
        );
        const query = normalize(data.query(3));
        const matches = graph.search(query, 20, 1);
        expect(matches.keys.length).toBe(20);
        for (let i = 0; i < matches.keys.length; i += 1) {
          const record = records[Number(matches.keys[i]) - 1]!;
          expect(similarityFromDistance(matches.distances[i]!)).toBeCloseTo(dot(query, record.vector), 5);
        }
      }
    });

    it("graph scores and exact-scan scores agree for the same chunk", async () => {
      const { data, records } = dataset(3000);
      const graph = await openUsearchIndex({
        path: await temporaryDirectory(),
        dimensions: DIMENSIONS,
        metric: "cos",
        exactScanThreshold: 0,
      });
      const scan = await openUsearchIndex({
        path: await temporaryDirectory(),
        dimensions: DIMENSIONS,
        metric: "cos",
        exactScanThreshold: 10_000,
      });
      await graph.upsert(records);
      await scan.upsert(records);
      const query = data.query(5);
      const fromGraph = (await graph.search({ vector: query, limit: 10 })).hits;
      const fromScan = (await scan.search({ vector: query, limit: 10 })).hits;
      expect(graph.stats().graphSearches).toBe(1);
      expect(scan.stats().exactScans).toBe(1);
      const scanScores = new Map(fromScan.map((h) => [h.chunkId, h.score]));
      let shared = 0;
      for (const hit of fromGraph) {
        const other = scanScores.get(hit.chunkId);
        if (other === undefined) continue;
        shared += 1;
        expect(hit.score).toBeCloseTo(other, 5);
      }
      expect(shared).toBeGreaterThanOrEqual(9);
      await graph.close();
      await scan.close();
    });

    it("ip metric scores raw dot products", async () => {
      const index = await openUsearchIndex({ path: await temporaryDirectory(), dimensions: 3, metric: "ip" });
      await index.upsert([
        { chunkId: 1, vector: Float32Array.of(2, 0, 0), metadata: {} },
        { chunkId: 2, vector: Float32Array.of(0, 1, 0), metadata: {} },
      ]);
      const { hits } = await index.search({ vector: Float32Array.of(1.5, 1, 0), limit: 2 });
      expect(hits).toEqual([
        { chunkId: 1, score: 3 },
        { chunkId: 2, score: 1 },
      ]);
      await index.close();
    });
  });

  describe("filtered search strategies (5,000 vectors)", () => {
    const { data, records } = dataset(5000);
    const open = async (extra: Partial<UsearchIndexOptions> = {}) => {
      const index = await openUsearchIndex({
        path: await temporaryDirectory(),
        dimensions: DIMENSIONS,
        metric: "cos",
        ...extra,
      });
      await index.upsert(records);
      return index;
    };

    it("unfiltered: graph top-k with high recall above the threshold", async () => {
      const index = await open();
      let found = 0;
      for (let cluster = 0; cluster < 20; cluster += 1) {
        const query = data.query(cluster);
        const { hits } = await index.search({ vector: query, limit: 10 });
        expect(hits).toHaveLength(10);
        const want = new Set(exact(records, query, 10).map((h) => h.chunkId));
        found += hits.filter((h) => want.has(h.chunkId)).length;
      }
      expect(found / 200).toBeGreaterThanOrEqual(0.95);
      expect(index.stats()).toMatchObject({ graphSearches: 20, exactScans: 0 });
      await index.close();
    });

    it("a selective filter (1%) is an exact scan over its matches: exact answer", async () => {
      const index = await open();
      const filter: Filter = { field: "bucket", eq: 42 };
      const query = data.query(1);
      const { hits } = await index.search({ vector: query, limit: 10 });
      expect(hits).toHaveLength(10);
      const filtered = await index.search({ vector: query, limit: 10, filter });
      expect(filtered.hits).toEqual(exact(records, query, 10, filter));
      expect(index.stats().exactScans).toBe(1);
      await index.close();
    });

    it("a filter under exactScanThreshold but over 10% is exact too", async () => {
      const index = await open({ exactScanThreshold: 1000, selectiveFilterRatio: 0.1 });
      const filter: Filter = { field: "bucket", lt: 15 }; // 750 matches = 15%
      const query = data.query(2);
      const { hits } = await index.search({ vector: query, limit: 20, filter });
      expect(hits).toEqual(exact(records, query, 20, filter));
      expect(index.stats()).toMatchObject({ exactScans: 1, graphSearches: 0 });
      await index.close();
    });

    it("a broad filter (50%) over-fetches from the graph and post-filters, k filled", async () => {
      const index = await open({ exactScanThreshold: 100 });
      const filter: Filter = { field: "even", eq: true };
      let found = 0;
      for (let cluster = 0; cluster < 10; cluster += 1) {
        const query = data.query(cluster);
        const { hits } = await index.search({ vector: query, limit: 20, filter });
        expect(hits).toHaveLength(20);
        expect(hits.every((h) => h.chunkId % 2 === 1)).toBe(true); // chunk i+1 for even i
        const want = new Set(exact(records, query, 20, filter).map((h) => h.chunkId));
        found += hits.filter((h) => want.has(h.chunkId)).length;
      }
      expect(found / 200).toBeGreaterThanOrEqual(0.95);
      expect(index.stats()).toMatchObject({ graphSearches: 10, exactScans: 0 });
      await index.close();
    });

    it("a broad filter whose matches are far from the query doubles the over-fetch until k are found", async () => {
      const index = await open({ exactScanThreshold: 100, selectiveFilterRatio: 0.05 });
      // ~5 of 40 clusters (12%), none near the query's cluster.
      const far = [10, 11, 12, 13, 14];
      const filter: Filter = { field: "cluster", in: far };
      const query = data.query(0);
      const { hits } = await index.search({ vector: query, limit: 30, filter });
      expect(hits).toHaveLength(30);
      expect(hits.every((h) => far.includes(records[h.chunkId - 1]!.metadata.cluster as number))).toBe(true);
      const stats = index.stats();
      expect(stats.graphSearches).toBe(1);
      expect(stats.overFetchRounds).toBeGreaterThan(1);
      await index.close();
    });

    it("a filter matching exactly k chunks returns them all, for k and for a larger limit", async () => {
      const index = await open({ exactScanThreshold: 0, selectiveFilterRatio: 0 });
      const query = data.query(3);
      const exactlyK: Filter = {
        and: [
          { field: "bucket", eq: 7 },
          { field: "cluster", gte: 0 },
        ],
      };
      const k = records.filter((r) => matchesFilter(exactlyK, r.metadata)).length;
      expect(k).toBe(50);
      expect((await index.search({ vector: query, limit: k, filter: exactlyK })).hits).toEqual(
        exact(records, query, k, exactlyK),
      );
      const { hits } = await index.search({ vector: query, limit: k + 5, filter: exactlyK });
      expect(hits).toHaveLength(k);
      await index.close();
    });

    it("deletes are honoured on the graph path (removed keys never come back)", async () => {
      const index = await open({ exactScanThreshold: 0 });
      const query = data.query(4);
      const first = (await index.search({ vector: query, limit: 50 })).hits.map((h) => h.chunkId);
      await index.delete(first);
      const second = (await index.search({ vector: query, limit: 50 })).hits;
      expect(second).toHaveLength(50);
      expect(second.some((h) => first.includes(h.chunkId))).toBe(false);
      expect(await index.count()).toBe(4950);
      await index.close();
    });
  });

  describe("persistence", () => {
    const { data, records } = dataset(400);
    const options = async (): Promise<UsearchIndexOptions> => ({
      path: join(await temporaryDirectory(), "vectors"),
      dimensions: DIMENSIONS,
      metric: "cos",
      exactScanThreshold: 0,
    });

    it("writes index.usearch and payload.bin atomically, leaving no temporary files", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      await index.upsert(records);
      await Promise.all([index.flush(), index.flush()]);
      expect((await readdir(settings.path)).sort()).toEqual([USEARCH_INDEX_FILE, PAYLOAD_FILE].sort());
      const payload = await readFile(join(settings.path, PAYLOAD_FILE));
      expect(payload.toString("latin1", 0, 8)).toBe("SIFTVEC1");
      await index.close();
    });

    it("close flushes pending writes", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      await index.upsert(records.slice(0, 10));
      await index.close();
      expect(await (await openUsearchIndex(settings)).count()).toBe(10);
    });

    it("a closed index refuses further calls", async () => {
      const index = await openUsearchIndex(await options());
      await index.close();
      const error = await index.count().catch((e: unknown) => e);
      expect(SiftError.is(error) && error.code).toBe("unavailable");
    });

    it("a corrupt payload is a clear SiftError", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      await index.upsert(records);
      await index.close();
      const file = join(settings.path, PAYLOAD_FILE);
      const bytes = await readFile(file);
      bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
      await writeFile(file, bytes);
      await expect(openUsearchIndex(settings)).rejects.toMatchObject({
        code: "invalid_vector_index",
        message: expect.stringMatching(/corrupt \(checksum mismatch\).*rebuild/),
      });
      await writeFile(file, bytes.subarray(0, 5));
      await expect(openUsearchIndex(settings)).rejects.toMatchObject({ code: "invalid_vector_index" });
    });

    it("a missing payload beside an index file is a clear SiftError", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      await index.upsert(records);
      await index.close();
      await rm(join(settings.path, PAYLOAD_FILE));
      const error = await openUsearchIndex(settings).catch((e: unknown) => e);
      expect(SiftError.is(error)).toBe(true);
      expect(error).toMatchObject({
        code: "invalid_vector_index",
        message: expect.stringContaining("missing"),
      });
    });

    it("other dimensions or metric than the files were made with: a clear SiftError", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      await index.upsert(records.slice(0, 5));
      await index.close();
      await expect(openUsearchIndex({ ...settings, dimensions: 64 })).rejects.toMatchObject({
        code: "invalid_vector_index",
        message: expect.stringContaining("48-d cos vectors, not 64-d cos"),
      });
      await expect(openUsearchIndex({ ...settings, metric: "ip" })).rejects.toMatchObject({
        code: "invalid_vector_index",
      });
    });

    it("a torn pair (index file from another flush) or a missing index file: graph rebuilt from the payload", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      await index.upsert(records.slice(0, 200));
      await index.flush();
      const oldGraph = await readFile(join(settings.path, USEARCH_INDEX_FILE));
      await index.upsert(records.slice(200));
      await index.close();
      await writeFile(join(settings.path, USEARCH_INDEX_FILE), oldGraph);
      const warnings: string[] = [];
      const logger = {
        debug() {},
        info() {},
        warn(message: string) {
          warnings.push(message);
        },
        error() {},
      };
      const reopened = await openUsearchIndex({ ...settings, logger });
      expect(warnings).toEqual(["vector: rebuilding the HNSW graph from the payload"]);
      expect(await reopened.count()).toBe(400);
      const query = data.query(2);
      const { hits } = await reopened.search({ vector: query, limit: 10 });
      expect(hits.map((h) => h.chunkId)).toEqual(exact(records, query, 10).map((h) => h.chunkId));
      await reopened.close(); // rewrites the pair
      await rm(join(settings.path, USEARCH_INDEX_FILE));
      const again = await openUsearchIndex({ ...settings, logger });
      expect(await again.count()).toBe(400);
      expect(warnings).toHaveLength(2);
      await again.close();
    });

    it("stale temporary files of a crashed flush are removed on open", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      await index.upsert(records.slice(0, 5));
      await index.close();
      await writeFile(join(settings.path, `${PAYLOAD_FILE}.123.456.tmp`), "partial");
      await (await openUsearchIndex(settings)).close();
      expect((await readdir(settings.path)).some((name) => name.endsWith(".tmp"))).toBe(false);
    });

    it("chunk ids above 2^32 round-trip through the graph and the payload", async () => {
      const settings = await options();
      const index = await openUsearchIndex(settings);
      const big = 2 ** 40 + 7;
      await index.upsert([{ ...records[0]!, chunkId: big }, records[1]!]);
      await index.close();
      const reopened = await openUsearchIndex(settings);
      const { hits } = await reopened.search({ vector: records[0]!.vector, limit: 1 });
      expect(hits[0]?.chunkId).toBe(big);
      await reopened.close();
    });
  });
});

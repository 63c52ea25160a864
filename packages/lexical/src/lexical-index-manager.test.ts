import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocumentStore, DocumentWrite, Filter, LexicalIndex, Metadata } from "@sift/core";
import { openStore } from "@sift/store";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { LexicalIndexManager, type LexicalManagerOptions } from "./lexical-index-manager";
import { readManifest } from "./segment-file";

interface TestDocument {
  id: string;
  title?: string;
  /** One chunk per entry. */
  chunks: string[];
  headings?: string[];
  metadata?: Metadata;
}

let store: DocumentStore;
let dataDir: string;
let collectionCounter = 0;
const managers: LexicalIndexManager[] = [];

beforeAll(async () => {
  store = await openStore({ driver: "pglite", dataDir: "memory://" });
  await store.migrate();
});

afterAll(async () => {
  await store.close();
});

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "sift-lexical-"));
});

afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
  vi.restoreAllMocks();
  await rm(dataDir, { recursive: true, force: true });
});

function toWrite(document: TestDocument): DocumentWrite {
  const text = document.chunks.join("\n\n");
  let offset = 0;
  const chunks = document.chunks.map((chunkText, ordinal) => {
    const charStart = text.indexOf(chunkText, offset);
    offset = charStart + chunkText.length;
    return {
      ordinal,
      text: chunkText,
      charStart,
      charEnd: offset,
      headingPath: document.headings ?? [],
      tokenCount: chunkText.split(/\s+/).length,
    };
  });
  const input = { externalId: document.id, title: document.title, text, metadata: document.metadata ?? {} };
  return {
    document: input,
    contentHash: createHash("sha256").update(JSON.stringify(input)).digest("hex"),
    chunks,
  };
}

async function newCollection(documents: TestDocument[] = []): Promise<number> {
  collectionCounter += 1;
  const { collection } = await store.ensureCollection({
    tenant: "test",
    name: `lexical-${collectionCounter}`,
  });
  await write(collection.id, documents);
  return collection.id;
}

async function write(collectionId: number, documents: TestDocument[]): Promise<void> {
  if (documents.length > 0) await store.writeDocuments(collectionId, documents.map(toWrite));
}

function manager(options: Partial<LexicalManagerOptions> = {}): LexicalIndexManager {
  const created = new LexicalIndexManager({ store, dataDir, ...options });
  managers.push(created);
  return created;
}

/** Never merges on its own: writes stay deltas and tombstones. */
const deltaMode = {
  mergePolicy: { deltaMinChunks: 1e9, deltaRatio: 1e9, tombstoneMinChunks: 1e9, maxDeltaSegments: 1e9 },
};

async function ids(index: LexicalIndex, query: string, limit = 10, filter?: Filter): Promise<string[]> {
  const { hits } = await index.search({ query, limit, filter });
  const chunks = await store.getChunks(hits.map((hit) => hit.chunkId));
  const external = new Map(chunks.map((chunk) => [chunk.id, `${chunk.externalId}#${chunk.ordinal}`]));
  return hits.map((hit) => external.get(hit.chunkId) ?? `missing:${hit.chunkId}`);
}

const basics: TestDocument[] = [
  { id: "volcano", title: "Volcanoes", chunks: ["Magma rises through the crust and erupts as lava."] },
  { id: "weather", title: "Weather", chunks: ["Rain, wind and clouds; an ash cloud can ground flights."] },
  { id: "pasta", title: "Cooking pasta", chunks: ["Boil salted water, add the pasta, stir and drain."] },
  { id: "running", title: "Training", chunks: ["She runs every morning and stretches first."] },
  {
    id: "guide",
    title: "Postgres guide",
    headings: ["Storage", "Vacuum"],
    chunks: ["Rows live in pages.", "Indexes speed up lookups of rows."],
  },
];

describe("LexicalIndexManager search", () => {
  it("ranks the relevant chunk first, stems, and indexes the heading path", async () => {
    const collectionId = await newCollection(basics);
    const index = await manager().open(collectionId);
    expect((await ids(index, "how to boil pasta"))[0]).toBe("pasta#0");
    expect(await ids(index, "running")).toEqual(["running#0"]);
    expect((await ids(index, "vacuum")).sort()).toEqual(["guide#0", "guide#1"]);
    expect((await ids(index, "index lookups"))[0]).toBe("guide#1");
  });

  it("rejects a search whose signal is already aborted", async () => {
    const index = await manager().open(await newCollection(basics));
    const controller = new AbortController();
    controller.abort();
    await expect(index.search({ query: "pasta", limit: 5, signal: controller.signal })).rejects.toThrow();
  });

  it("weighs the title by the configured title weight", async () => {
    const collectionId = await newCollection([
      { id: "a", title: "Volcano", chunks: ["A mountain opening onto a chamber of molten rock."] },
      { id: "b", title: "Mountains", chunks: ["A volcano is one kind of mountain near plate edges."] },
      ...basics.slice(2),
    ]);
    const heavy = await manager({ config: { fieldWeights: { title: 3, body: 1 } } }).open(collectionId);
    expect(await ids(heavy, "volcano", 2)).toEqual(["a#0", "b#0"]);
    const light = await manager({
      dataDir: join(dataDir, "light"),
      config: { fieldWeights: { title: 0.2, body: 1 } },
    }).open(collectionId);
    expect(await ids(light, "volcano", 2)).toEqual(["b#0", "a#0"]);
  });

  it("returns no hits for an empty or stop-word-only query, or a limit of 0", async () => {
    const index = await manager().open(await newCollection(basics));
    for (const query of ["", "   ", "the and of", "?!"]) {
      expect(await index.search({ query, limit: 10 })).toEqual({ hits: [], warnings: [] });
    }
    expect((await index.search({ query: "pasta", limit: 0 })).hits).toEqual([]);
  });

  it.each([0, 1, 2])("works for a collection of %i chunks, and grows from there", async (count) => {
    const documents = basics.slice(0, count);
    const collectionId = await newCollection(documents);
    const lexical = manager();
    const index = await lexical.open(collectionId);
    expect(lexical.stats(collectionId)).toMatchObject({ baseChunks: count, deltaChunks: 0, tombstones: 0 });
    expect((await ids(index, "magma rain lava clouds")).sort()).toEqual(
      ["volcano#0", "weather#0"].slice(0, count),
    );
    await write(collectionId, [basics[2]!]);
    await lexical.sync(collectionId);
    expect(await ids(index, "pasta")).toEqual(["pasta#0"]);
  });

  it("honours the query limit across base and delta", async () => {
    const collectionId = await newCollection(
      Array.from({ length: 8 }, (_, i) => ({ id: `base-${i}`, chunks: [`shared term number ${i}`] })),
    );
    const lexical = manager(deltaMode);
    const index = await lexical.open(collectionId);
    await write(
      collectionId,
      Array.from({ length: 5 }, (_, i) => ({ id: `new-${i}`, chunks: [`shared term later ${i}`] })),
    );
    await lexical.sync(collectionId);
    expect(lexical.stats(collectionId)).toMatchObject({ baseChunks: 8, deltaChunks: 5 });
    const result = await index.search({ query: "shared term", limit: 10 });
    expect(result.hits).toHaveLength(10);
    expect(new Set(result.hits.map((hit) => hit.chunkId)).size).toBe(10);
    expect((await index.search({ query: "shared", limit: 20 })).hits).toHaveLength(13);
  });
});

describe("LexicalIndexManager filters", () => {
  // 40 chunks mention "alpha"; the "en" ones mention it more and outrank every "de" one.
  const filtered: TestDocument[] = Array.from({ length: 40 }, (_, i) => ({
    id: `doc-${String(i).padStart(2, "0")}`,
    title: i % 2 === 0 ? "alpha report" : "report",
    chunks: [i % 2 === 0 ? `alpha alpha alpha item ${i}` : `alpha item ${i} with several other filler words`],
    metadata: {
      lang: i % 2 === 0 ? "en" : "de",
      year: 2000 + i,
      tags: i % 3 === 0 ? ["red", "blue"] : ["green"],
      published: `20${String(10 + (i % 10)).padStart(2, "0")}-06-01T00:00:00Z`,
      nested: { source: i < 20 ? "web" : "print" },
    },
  }));

  const cases: Array<[string, Filter, (i: number) => boolean]> = [
    ["eq", { field: "lang", eq: "de" }, (i) => i % 2 === 1],
    ["eq on an array element", { field: "tags", eq: "red" }, (i) => i % 3 === 0],
    ["in", { field: "year", in: [2001, 2004, 2033, 1999] }, (i) => [1, 4, 33].includes(i)],
    ["numeric range", { field: "year", gte: 2010, lt: 2030 }, (i) => i >= 10 && i < 30],
    ["date range", { field: "published", gt: "2015-01-01" }, (i) => i % 10 >= 5],
    ["dotted path", { field: "nested.source", eq: "print" }, (i) => i >= 20],
    [
      "and",
      {
        and: [
          { field: "lang", eq: "de" },
          { field: "year", lte: 2011 },
        ],
      },
      (i) => i % 2 === 1 && i <= 11,
    ],
    [
      "or",
      {
        or: [
          { field: "year", lt: 2003 },
          { field: "tags", in: ["red"] },
        ],
      },
      (i) => i < 3 || i % 3 === 0,
    ],
    ["not", { not: { field: "lang", eq: "en" } }, (i) => i % 2 === 1],
    ["missing field", { field: "nope", eq: 1 }, () => false],
  ];

  it.each(["base", "delta"] as const)(
    "applies every filter form before the top-k cut (%s)",
    async (where) => {
      const collectionId = await newCollection(where === "base" ? filtered : []);
      const lexical = manager(deltaMode);
      const index = await lexical.open(collectionId);
      if (where === "delta") {
        await write(collectionId, filtered);
        await lexical.sync(collectionId);
        expect(lexical.stats(collectionId)).toMatchObject({ baseChunks: 0, deltaChunks: 40 });
      }
      for (const [name, filter, expected] of cases) {
        const matching = filtered.flatMap((document, i) => (expected(i) ? [`${document.id}#0`] : []));
        const limit = 10;
        const got = await ids(index, "alpha", limit, filter);
        expect(got.length, name).toBe(Math.min(limit, matching.length));
        expect(
          got.every((id) => matching.includes(id)),
          name,
        ).toBe(true);
      }
      // Without a filter the top 10 are all "en", so a "de" filter could only be filled before the cut.
      expect((await ids(index, "alpha", 10)).every((id) => Number(id.slice(4, 6)) % 2 === 0)).toBe(true);
    },
  );
});

describe.each([
  ["default merge policy", {}],
  ["large collection: delta and tombstones", deltaMode],
])("LexicalIndexManager sync (%s)", (_, options) => {
  it("drops deleted documents from results right after sync", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager(options);
    const index = await lexical.open(collectionId);
    expect(await ids(index, "pasta")).toEqual(["pasta#0"]);
    await store.deleteDocuments(collectionId, ["pasta"]);
    await lexical.sync(collectionId);
    expect(await ids(index, "pasta")).toEqual([]);
    expect(await ids(index, "boil water drain magma")).toEqual(["volcano#0"]);
  });

  it("replaces updated text: the old text no longer matches, the new does", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager(options);
    const index = await lexical.open(collectionId);
    await write(collectionId, [
      { id: "pasta", title: "Baking bread", chunks: ["Knead the dough and let it rise."] },
    ]);
    await lexical.sync(collectionId);
    expect(await ids(index, "pasta boil")).toEqual([]);
    expect(await ids(index, "knead dough")).toEqual(["pasta#0"]);
    // A document deleted after being added to the delta is gone too.
    await store.deleteDocuments(collectionId, ["pasta"]);
    await lexical.sync(collectionId);
    expect(await ids(index, "knead dough")).toEqual([]);
  });

  it("is a cheap no-op when the revision did not change", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager(options);
    await lexical.open(collectionId);
    const listChunkIds = vi.spyOn(store, "listChunkIds");
    const getRevision = vi.spyOn(store, "getRevision");
    await lexical.sync(collectionId);
    await lexical.sync(collectionId);
    expect(getRevision).toHaveBeenCalledTimes(2);
    expect(listChunkIds).not.toHaveBeenCalled();
  });
});

describe("LexicalIndexManager generations", () => {
  /** A corpus with distinctive and shared terms, for comparing delta/merge with a fresh build. */
  const corpus: TestDocument[] = Array.from({ length: 60 }, (_, i) => ({
    id: `d${String(i).padStart(2, "0")}`,
    title: `topic ${["apple", "banana", "cherry", "date", "elder"][i % 5]}`,
    chunks: [
      `${["apple", "banana", "cherry", "date", "elder"][(i * 7) % 5]} grows near ${["river", "hill", "lake"][i % 3]} ` +
        `${"orchard ".repeat(1 + (i % 4))}harvest ${i}`,
    ],
    metadata: { i },
  }));
  const queries = ["apple orchard", "banana river", "cherry hill harvest", "lake", "elder date orchard"];

  async function results(index: LexicalIndex): Promise<string[][]> {
    return Promise.all(queries.map((query) => ids(index, query, 10)));
  }

  it("delta then merge gives the same results as a fresh rebuild", async () => {
    const collectionId = await newCollection(corpus.slice(0, 40));
    const lexical = manager(deltaMode);
    const index = await lexical.open(collectionId);
    await write(collectionId, corpus.slice(40));
    await store.deleteDocuments(collectionId, ["d03", "d07"]);
    await lexical.sync(collectionId);
    expect(lexical.stats(collectionId)).toMatchObject({ baseChunks: 40, deltaChunks: 20, tombstones: 2 });
    const fresh = await manager({ dataDir: join(dataDir, "fresh") }).open(collectionId);
    // Global statistics: before any merge, base + delta + tombstones score exactly like a fresh build.
    expect((await index.search({ query: "orchard", limit: 60 })).warnings).toEqual([]);
    for (const query of queries) {
      expect(await index.search({ query, limit: 10 })).toEqual(await fresh.search({ query, limit: 10 }));
    }

    await lexical.merge(collectionId);
    expect(lexical.stats(collectionId)).toMatchObject({ baseChunks: 58, deltaChunks: 0, tombstones: 0 });
    expect(await results(index)).toEqual(await results(fresh));
    for (const query of queries) {
      expect(await index.search({ query, limit: 10 })).toEqual(await fresh.search({ query, limit: 10 }));
    }
  });

  it("merges on sync once the delta passes the threshold", async () => {
    const collectionId = await newCollection(corpus.slice(0, 20));
    const lexical = manager({ mergePolicy: { deltaMinChunks: 5, deltaRatio: 0.1 } });
    await lexical.open(collectionId);
    const first = lexical.stats(collectionId)!.generation;
    await write(collectionId, corpus.slice(20, 24));
    await lexical.sync(collectionId);
    // Every write is a generation (a delta segment and a manifest), not a rebuild.
    expect(lexical.stats(collectionId)).toMatchObject({
      generation: first + 1,
      baseChunks: 20,
      deltaChunks: 4,
    });
    await write(collectionId, corpus.slice(24, 26));
    await lexical.sync(collectionId);
    expect(lexical.stats(collectionId)).toMatchObject({ baseChunks: 26, deltaChunks: 0, deltaSegments: 0 });
  });

  it("merges the deltas (not the base) once there are more than maxDeltaSegments", async () => {
    const collectionId = await newCollection(corpus.slice(0, 20));
    const lexical = manager({ mergePolicy: { ...deltaMode.mergePolicy, maxDeltaSegments: 2 } });
    await lexical.open(collectionId);
    for (let i = 0; i < 3; i += 1) {
      await write(collectionId, corpus.slice(20 + i, 21 + i));
      await lexical.sync(collectionId);
    }
    expect(lexical.stats(collectionId)).toMatchObject({ baseChunks: 20, deltaChunks: 3, deltaSegments: 1 });
  });

  it("reopens from the persisted generation without a rebuild, with identical results", async () => {
    const collectionId = await newCollection(corpus);
    const first = manager(deltaMode);
    const before = await results(await first.open(collectionId));
    const stats = first.stats(collectionId);
    await first.close();

    const scanChunks = vi.spyOn(store, "scanChunks");
    const listChunkIds = vi.spyOn(store, "listChunkIds");
    const second = manager(deltaMode);
    const index = await second.open(collectionId);
    expect(scanChunks).not.toHaveBeenCalled();
    // Same revision as the generation: not even the chunk ids are listed.
    expect(listChunkIds).not.toHaveBeenCalled();
    expect(second.stats(collectionId)).toEqual(stats);
    expect(await results(index)).toEqual(before);
  });

  it("reconciles a reopened generation with writes made while closed, still without a rebuild", async () => {
    const collectionId = await newCollection(corpus.slice(0, 50));
    const first = manager(deltaMode);
    await first.open(collectionId);
    const generation = first.stats(collectionId)!.generation;
    await first.close();

    await write(collectionId, corpus.slice(50));
    await store.deleteDocuments(collectionId, ["d00"]);
    const scanChunks = vi.spyOn(store, "scanChunks");
    const second = manager(deltaMode);
    const index = await second.open(collectionId);
    expect(scanChunks).not.toHaveBeenCalled();
    expect(second.stats(collectionId)).toMatchObject({ baseChunks: 50, deltaChunks: 10, tombstones: 1 });
    expect(second.stats(collectionId)!.generation).toBeGreaterThan(generation);
    expect(await ids(index, "harvest 55")).toContain("d55#0");
    expect(await ids(index, "harvest 0", 60)).not.toContain("d00#0");
  });

  it("merges from the segments, without reading the store", async () => {
    const collectionId = await newCollection(corpus.slice(0, 5));
    const lexical = manager();
    const scanChunks = vi.spyOn(store, "scanChunks");
    await lexical.merge(collectionId);
    expect(scanChunks).toHaveBeenCalledTimes(1); // the first open builds from the store
    expect(lexical.stats(collectionId)?.generation).toBe(2);
    const getChunks = vi.spyOn(store, "getChunks");
    await lexical.merge(collectionId);
    expect(lexical.stats(collectionId)?.generation).toBe(3);
    expect(scanChunks).toHaveBeenCalledTimes(1);
    expect(getChunks).not.toHaveBeenCalled();
  });

  it("keeps the current and previous generation files and deletes older ones", async () => {
    const collectionId = await newCollection(corpus.slice(0, 5));
    const lexical = manager();
    await lexical.open(collectionId);
    await lexical.merge(collectionId);
    await lexical.merge(collectionId);
    await lexical.merge(collectionId);
    const generation = lexical.stats(collectionId)!.generation;
    const files = await readdir(join(dataDir, "lexical", String(collectionId)));
    // The current and the previous state: one manifest and one (merged) segment each.
    expect(files.filter((f) => f.startsWith("manifest-"))).toHaveLength(2);
    expect(files.filter((f) => f.startsWith("seg-"))).toHaveLength(2);
    expect(files).toHaveLength(4);
    const rows = await store.listGenerations(collectionId, "bm25");
    expect(rows.map((row) => [row.generation, row.status])).toEqual([
      [generation, "ready"],
      [generation - 1, "retired"],
    ]);
  });

  it("falls back to the previous generation when the latest file is corrupt", async () => {
    const collectionId = await newCollection(corpus.slice(0, 30));
    const first = manager(deltaMode);
    await first.open(collectionId);
    await write(collectionId, corpus.slice(30, 35));
    await first.sync(collectionId);
    const latest = (await store.latestGeneration(collectionId, "bm25"))!;
    await first.close();
    await writeFile(join(dataDir, latest.path), "SIFTGEN2 damaged");

    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message: string) => void warnings.push(message),
    };
    const scanChunks = vi.spyOn(store, "scanChunks");
    const second = manager({ ...deltaMode, logger });
    const index = await second.open(collectionId);
    expect(scanChunks).not.toHaveBeenCalled();
    expect(second.stats(collectionId)).toMatchObject({ baseChunks: 30, deltaChunks: 5 });
    expect(warnings).toContain("lexical: generation unusable");
    expect(await ids(index, "harvest 33")).toContain("d33#0");
  });

  it("rebuilds when no generation file is usable (missing, or built with another config)", async () => {
    const collectionId = await newCollection(corpus.slice(0, 12));
    const first = manager();
    await first.open(collectionId);
    const generation = first.stats(collectionId)!.generation;
    await first.close();
    await rm(join(dataDir, "lexical", String(collectionId)), { recursive: true });

    const second = manager();
    const index = await second.open(collectionId);
    expect(second.stats(collectionId)).toMatchObject({ generation: generation + 1, baseChunks: 12 });
    expect(await ids(index, "harvest 7")).toContain("d07#0");
    await second.close();

    const reconfigured = manager({ config: { k1: 0.9 } });
    await reconfigured.open(collectionId);
    expect(reconfigured.stats(collectionId)).toMatchObject({ generation: generation + 2, baseChunks: 12 });
  });

  it("writes a binary, self-describing manifest whose checksum the store records", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager();
    await lexical.open(collectionId);
    const generation = (await store.latestGeneration(collectionId, "bm25"))!;
    expect(generation.path).toMatch(
      new RegExp(`^lexical/${collectionId}/manifest-${process.pid}-.+\\.bm25$`),
    );
    const data = await readFile(join(dataDir, generation.path));
    expect(createHash("sha256").update(data).digest("hex")).toBe(generation.checksum);
    expect(data.subarray(0, 8).toString("latin1")).toBe("SIFTGEN2");
    const manifest = await readManifest(join(dataDir, generation.path), {
      sha256: generation.checksum!,
      analyzer: "english-v1",
      config: { k1: 1.2, b: 0.75, fieldWeights: { title: 2, body: 1 } },
      collectionId,
      chunkCount: 6,
    });
    expect(manifest.header).toMatchObject({
      format: "sift-bm25-generation",
      version: 2,
      revision: await store.getRevision(collectionId),
      chunkCount: 6,
    });
    expect(manifest.segments).toHaveLength(1);
    expect(generation.chunkCount).toBe(6);
  });

  it("drop forgets the collection and deletes its files", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager();
    const index = await lexical.open(collectionId);
    await lexical.drop(collectionId);
    expect(lexical.stats(collectionId)).toBeUndefined();
    await expect(readdir(join(dataDir, "lexical", String(collectionId)))).rejects.toThrow(/ENOENT/);
    await expect(index.search({ query: "pasta", limit: 5 })).rejects.toThrow(/does not exist/);
  });

  it("rejects an unknown collection", async () => {
    await expect(manager().open(987_654)).rejects.toThrow(/collection '987654' does not exist/);
  });
});

describe("LexicalIndexManager concurrency", () => {
  it("shares one load between concurrent opens", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager();
    const latestGeneration = vi.spyOn(store, "latestGeneration");
    const [a, b, c] = await Promise.all([
      lexical.open(collectionId),
      lexical.open(collectionId),
      lexical.open(collectionId),
    ]);
    expect(latestGeneration).toHaveBeenCalledTimes(1);
    expect(await ids(a!, "pasta")).toEqual(await ids(c!, "pasta"));
    expect(b).toBeDefined();
  });

  it("serialises concurrent syncs and merges while searches keep answering", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager({ mergePolicy: { deltaMinChunks: 6, deltaRatio: 0 } });
    const index = await lexical.open(collectionId);
    const batches = Array.from({ length: 6 }, (_, b) =>
      Array.from({ length: 4 }, (_, i) => ({ id: `batch-${b}-${i}`, chunks: [`zebra number ${b * 4 + i}`] })),
    );
    const work: Promise<unknown>[] = [];
    for (const [b, batch] of batches.entries()) {
      work.push(write(collectionId, batch).then(() => lexical.sync(collectionId)));
      work.push(lexical.sync(collectionId));
      if (b % 2 === 0) work.push(lexical.merge(collectionId));
      work.push(index.search({ query: "zebra pasta", limit: 50 }));
    }
    await Promise.all(work);
    await lexical.sync(collectionId);
    const { hits } = await index.search({ query: "zebra", limit: 50 });
    expect(hits).toHaveLength(24);
    expect(new Set(hits.map((hit) => hit.chunkId)).size).toBe(24);
    const stats = lexical.stats(collectionId)!;
    expect(stats.baseChunks + stats.deltaChunks).toBe(basics.flatMap((d) => d.chunks).length + 24);
    const generations = await store.listGenerations(collectionId, "bm25");
    expect(generations.filter((g) => g.status === "ready")).toHaveLength(1);
    expect(generations.some((g) => g.status === "building")).toBe(false);
  });

  it("refreshIfStale checks the revision at most once per window", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager();
    await lexical.open(collectionId);
    const getRevision = vi.spyOn(store, "getRevision");
    await lexical.refreshIfStale(collectionId, 60_000);
    await lexical.refreshIfStale(collectionId, 60_000);
    expect(getRevision).not.toHaveBeenCalled();
    await write(collectionId, [{ id: "late", chunks: ["a late walrus"] }]);
    await lexical.refreshIfStale(collectionId, 0);
    expect(getRevision).toHaveBeenCalled();
    expect(await ids(await lexical.open(collectionId), "walrus")).toEqual(["late#0"]);
  });

  it("close waits for running work and makes handles unavailable", async () => {
    const collectionId = await newCollection(basics);
    const lexical = manager();
    const index = await lexical.open(collectionId);
    const merging = lexical.merge(collectionId);
    await lexical.close();
    await merging;
    await expect(index.search({ query: "pasta", limit: 5 })).rejects.toThrow(/closed/);
    await expect(lexical.open(collectionId)).rejects.toThrow(/closed/);
  });
});

describe("LexicalIndexManager seam (apply, merge, current)", () => {
  const corpus: TestDocument[] = Array.from({ length: 40 }, (_, i) => ({
    id: `s${String(i).padStart(2, "0")}`,
    title: `note ${["red", "green", "blue"][i % 3]}`,
    chunks: [`${["alpha", "beta", "gamma", "delta"][i % 4]} river ${"stone ".repeat(1 + (i % 3))}item ${i}`],
  }));
  const queries = ["alpha river", "stone item", "blue note gamma", "delta delta stone"];

  async function chunksOf(collectionId: number, externalIds: string[]) {
    const ids = await store.listChunkIds(collectionId);
    return (await store.getChunks(ids)).filter((chunk) => externalIds.includes(chunk.externalId));
  }

  it("apply reads nothing from the store, replaces re-added ids, ignores unknown removals, scores exactly", async () => {
    const collectionId = await newCollection(corpus.slice(0, 30));
    const lexical = manager(deltaMode);
    const before = await lexical.openSnapshot(collectionId);
    await write(collectionId, corpus.slice(30));
    const added = await chunksOf(
      collectionId,
      corpus.slice(30).map((d) => d.id),
    );
    const [gone] = await chunksOf(collectionId, ["s03"]);
    await store.deleteDocuments(collectionId, ["s03"]);
    const revision = await store.getRevision(collectionId);
    const reads = (["getChunks", "listChunkIds", "scanChunks", "getRevision"] as const).map((method) =>
      vi.spyOn(store, method),
    );
    // s31 twice (replace), an unknown id removed: both harmless.
    const snapshot = await lexical.apply(collectionId, {
      revision,
      added: [...added, added[1]!],
      removed: [gone!.id, 987_654_321],
    });
    for (const read of reads) expect(read).not.toHaveBeenCalled();
    expect(lexical.current(collectionId)).toBe(snapshot);
    expect(before.stats.documents).toBe(30);
    expect(snapshot.stats).toMatchObject({ documents: 39, tombstones: 1 });
    expect(snapshot.revision).toBe(revision);
    vi.restoreAllMocks();
    const fresh = await manager({ dataDir: join(dataDir, "fresh") }).openSnapshot(collectionId);
    for (const query of queries) {
      expect(snapshot.search({ query, limit: 20 })).toEqual(fresh.search({ query, limit: 20 }));
    }
    // The old snapshot still answers from its own state.
    expect(before.search({ query: "item 3", limit: 40 }).hits.some((h) => h.chunkId === gone!.id)).toBe(true);
  });

  it("a write writes only a delta segment and a manifest, never the base", async () => {
    const documents = Array.from({ length: 1000 }, (_, i) => ({
      id: `w${i}`,
      title: `w ${i}`,
      chunks: [`word${i % 97} text ${i} lorem ipsum dolor sit amet`],
    }));
    const collectionId = await newCollection(documents);
    const lexical = manager(deltaMode);
    await lexical.open(collectionId);
    const directory = join(dataDir, "lexical", String(collectionId));
    const baseFiles = await readdir(directory);
    const base = baseFiles.find((name) => name.startsWith("seg-"))!;
    const baseStat = await stat(join(directory, base));
    await write(collectionId, [{ id: "fresh", chunks: ["a brand new walrus"] }]);
    await lexical.sync(collectionId);
    const after = await readdir(directory);
    const created = after.filter((name) => !baseFiles.includes(name));
    expect(created.filter((name) => name.startsWith("seg-"))).toHaveLength(1);
    expect(created.filter((name) => name.startsWith("manifest-"))).toHaveLength(1);
    expect((await stat(join(directory, base))).mtimeMs).toBe(baseStat.mtimeMs);
    let written = 0;
    for (const name of created) written += (await stat(join(directory, name))).size;
    expect(written).toBeLessThan(baseStat.size / 10);
    expect(await ids(await lexical.open(collectionId), "walrus")).toEqual(["fresh#0"]);
  });

  it("merges off the hot path: searches during the merge see a complete state, applies made meanwhile survive", async () => {
    const collectionId = await newCollection(corpus.slice(0, 20));
    const lexical = manager({ ...deltaMode, mergeSliceMs: 0 });
    await lexical.open(collectionId);
    for (let i = 20; i < 40; i += 5) {
      await write(collectionId, corpus.slice(i, i + 5));
      await lexical.sync(collectionId);
    }
    await store.deleteDocuments(collectionId, ["s01"]);
    await lexical.sync(collectionId);
    const expected = queries.map((query) => lexical.current(collectionId)!.search({ query, limit: 10 }));
    let slices = 0;
    let appliedDuringMerge = false;
    const merging = lexical.merge(collectionId);
    // While the merge yields, searches keep answering from the last complete snapshot, and a write lands.
    while (!appliedDuringMerge) {
      await new Promise((resolve) => setImmediate(resolve));
      slices += 1;
      const snapshot = lexical.current(collectionId)!;
      if (snapshot.stats.segments.length > 1) {
        expect(queries.map((query) => snapshot.search({ query, limit: 10 }))).toEqual(expected);
      }
      if (slices === 2) {
        await store.deleteDocuments(collectionId, ["s02"]);
        await write(collectionId, [{ id: "late", chunks: ["alpha river late arrival"] }]);
        await lexical.sync(collectionId);
        appliedDuringMerge = true;
      }
    }
    const merged = await merging;
    expect(merged.stats.documents).toBe(39);
    expect(merged.search({ query: "late arrival", limit: 1 }).hits).toHaveLength(1);
    const fresh = await manager({ dataDir: join(dataDir, "fresh") }).openSnapshot(collectionId);
    for (const query of queries) {
      expect(merged.search({ query, limit: 20 })).toEqual(fresh.search({ query, limit: 20 }));
    }
  });

  it("a commit landing between a merge's segment write and its commit does not delete the merged segment", async () => {
    const collectionId = await newCollection(corpus.slice(0, 20));
    let armed = false;
    let hold: (() => void) | undefined;
    let paused: (() => void) | undefined;
    const pausedAtWrite = new Promise<void>((resolve) => (paused = resolve));
    const lexical = manager({
      ...deltaMode,
      mergeSliceMs: 0,
      faults: async (step) => {
        // The merge's own segment is on disk, its manifest not yet: stop there once.
        if (step === "segment-written" && armed && hold === undefined) {
          await new Promise<void>((resolve) => {
            hold = resolve;
            paused!();
          });
        }
      },
    });
    await lexical.open(collectionId);
    await write(collectionId, corpus.slice(20, 30));
    await lexical.sync(collectionId);
    const merging = lexical.merge(collectionId);
    armed = true; // the merge has not reached its first await's continuation yet
    await pausedAtWrite;
    // Another write commits (and collects garbage) while the merged segment waits for its manifest.
    // (`apply`, not `sync`: a sync would wait for the merge in progress.)
    await write(collectionId, corpus.slice(30, 35));
    await lexical.apply(collectionId, {
      revision: await store.getRevision(collectionId),
      added: await chunksOf(
        collectionId,
        corpus.slice(30, 35).map((d) => d.id),
      ),
      removed: [],
    });
    hold!();
    await merging;
    // Tombstoning a chunk of the merged segment reads its forward index from the file.
    await store.deleteDocuments(collectionId, ["s05", "s25"]);
    await lexical.sync(collectionId);
    const snapshot = lexical.current(collectionId)!;
    expect(snapshot.stats.documents).toBe(33);
    const fresh = await manager({ dataDir: join(dataDir, "fresh") }).openSnapshot(collectionId);
    for (const query of queries) {
      expect(snapshot.search({ query, limit: 20 })).toEqual(fresh.search({ query, limit: 20 }));
    }
  });

  it.each([
    "segment-written",
    "manifest-written",
    "generation-begun",
    "generation-completed",
    "merge-slice",
  ] as const)(
    "a crash at %s during a write or merge leaves the last complete state loadable",
    async (step) => {
      const collectionId = await newCollection(corpus.slice(0, 25));
      const setup = manager(deltaMode);
      await setup.open(collectionId);
      await write(collectionId, corpus.slice(25, 30));
      await setup.sync(collectionId);
      await setup.close();
      const crash = new Error(`crash at ${step}`);
      let armed = true;
      const crashing = manager({
        ...deltaMode,
        mergeSliceMs: 0,
        faults: (at) => {
          if (armed && at === step) {
            armed = false;
            throw crash;
          }
        },
      });
      await crashing.open(collectionId);
      await write(collectionId, corpus.slice(30));
      if (step !== "merge-slice") await expect(crashing.sync(collectionId)).rejects.toBe(crash);
      await write(collectionId, [{ id: "late", chunks: ["late walrus"] }]);
      await crashing.sync(collectionId).catch(() => {});
      await expect(
        (async () => {
          armed = true;
          await crashing.merge(collectionId);
        })(),
      ).rejects.toBe(crash);
      // "Restart": a new manager on the same files; it loads the last complete state and catches up.
      const scanChunks = vi.spyOn(store, "scanChunks");
      const restarted = manager(deltaMode);
      const snapshot = await restarted.openSnapshot(collectionId);
      expect(scanChunks).not.toHaveBeenCalled();
      expect(snapshot.stats.documents).toBe(41);
      vi.restoreAllMocks();
      const fresh = await manager({ dataDir: join(dataDir, "fresh") }).openSnapshot(collectionId);
      for (const query of [...queries, "late walrus"]) {
        expect(snapshot.search({ query, limit: 20 })).toEqual(fresh.search({ query, limit: 20 }));
      }
      const rows = await store.listGenerations(collectionId, "bm25");
      expect(rows.filter((row) => row.status === "ready")).toHaveLength(1);
    },
  );

  it("a segment file whose checksum does not match falls back to the previous generation, then rebuilds", async () => {
    const collectionId = await newCollection(corpus.slice(0, 20));
    const first = manager(deltaMode);
    await first.open(collectionId);
    await write(collectionId, corpus.slice(20, 25));
    await first.sync(collectionId);
    await first.close();
    const directory = join(dataDir, "lexical", String(collectionId));
    const segments = (await readdir(directory)).filter((name) => name.startsWith("seg-"));
    expect(segments).toHaveLength(2);
    // Flip one byte of every segment file: no generation is usable, so the collection is rebuilt.
    for (const name of segments) {
      const data = await readFile(join(directory, name));
      data[data.length - 1] = data[data.length - 1]! ^ 0xff;
      await writeFile(join(directory, name), data);
    }
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message: string) => void warnings.push(message),
    };
    const scanChunks = vi.spyOn(store, "scanChunks");
    const second = manager({ ...deltaMode, logger });
    const snapshot = await second.openSnapshot(collectionId);
    expect(warnings).toContain("lexical: generation unusable");
    expect(scanChunks).toHaveBeenCalled();
    expect(snapshot.stats.documents).toBe(25);
  });

  it("deletes only its own files and those of processes that are gone", async () => {
    const collectionId = await newCollection(corpus.slice(0, 5));
    const lexical = manager(deltaMode);
    await lexical.open(collectionId);
    const directory = join(dataDir, "lexical", String(collectionId));
    const alive = `seg-${process.ppid}-zz-1.bin`;
    const aliveTemporary = `manifest-x.bm25.${process.ppid}.123.tmp`;
    const dead = `seg-${2 ** 22 + 12_345}-zz-1.bin`;
    const legacy = "gen-1.json";
    for (const name of [alive, aliveTemporary, dead, legacy]) await writeFile(join(directory, name), "x");
    await write(collectionId, corpus.slice(5, 6));
    await lexical.sync(collectionId);
    const names = await readdir(directory);
    expect(names).toContain(alive);
    expect(names).toContain(aliveTemporary);
    expect(names).not.toContain(dead);
    expect(names).not.toContain(legacy);
  });
});

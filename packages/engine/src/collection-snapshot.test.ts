import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type DocumentStore,
  type DocumentWrite,
  type Logger,
  type Reranker,
  UnavailableError,
  type VectorIndex,
  type VectorRecord,
  type VectorSearchOptions,
} from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { deleteDocuments } from "@sift/ingest";
import type { SearchRequest } from "@sift/retrieval";
import { openStore } from "@sift/store";
import { openUsearchIndex } from "@sift/vector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SnapshotChange } from "./collection-refresher";
import { Engine, type EngineOptions } from "./engine";

/**
 * A real PGlite store behind a proxy that counts every call (so a test can say "a search makes none")
 * and can be switched into an outage (every call rejects, as a store that cannot be reached does).
 */
function instrumented(inner: DocumentStore) {
  const state = { calls: [] as string[], down: false };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        state.calls.push(String(property));
        if (state.down)
          return Promise.reject(new UnavailableError("the store cannot be reached (test outage)"));
        return value.apply(target, args);
      };
    },
  });
  return { store, state };
}

function capturingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const at =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message });
    };
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

/** A document of `parts` chunks; each chunk says its document, version and part (version in its heading too). */
function versioned(
  id: string,
  version: number,
  parts = 3,
  extra: Record<string, string> = {},
): DocumentWrite {
  const texts = Array.from(
    { length: parts },
    (_, p) => `marker ${id} version${version} part${p} ${extra.word ?? ""}`,
  );
  let offset = 0;
  return {
    document: { externalId: id, title: id, text: texts.join("\n"), metadata: { version, ...extra } },
    contentHash: `${id}:${version}:${parts}:${JSON.stringify(extra)}`,
    chunks: texts.map((text, ordinal) => {
      const chunk = {
        ordinal,
        text,
        charStart: offset,
        charEnd: offset + text.length,
        headingPath: [`v${version}`],
        tokenCount: 5,
      };
      offset += text.length + 1;
      return chunk;
    }),
  };
}

const until = async (condition: () => Promise<boolean>, timeoutMs = 10_000) => {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("collection snapshots", () => {
  let dataDir: string;
  let raw: DocumentStore;
  let collectionId: number;
  const engines: Engine[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sift-snapshot-"));
    raw = await openStore({ driver: "pglite", dataDir: "memory://" });
    await raw.migrate();
    collectionId = (await raw.ensureCollection({ tenant: "t", name: "c" })).collection.id;
  });
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    await raw.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  // A reranker double of our own interface: longer passages first.
  const reranker: Reranker = {
    id: "test:length",
    score: async (_query, passages) => passages.map((p) => p.length),
  };
  /**
   * The embedded vector index, acknowledging each write a moment after applying it, as a remote index
   * (Qdrant) does: searches may run while it already holds chunks no snapshot has swapped in yet.
   */
  const remoteLike: EngineOptions["openVectorIndex"] = async (_id, directory) => {
    const inner = await openUsearchIndex({ path: directory, dimensions: 64, metric: "cos" });
    const acknowledge = () => new Promise((resolve) => setTimeout(resolve, 2));
    return Object.assign(Object.create(inner) as VectorIndex, {
      dimensions: inner.dimensions,
      upsert: async (records: readonly VectorRecord[]) => {
        await inner.upsert(records);
        await acknowledge();
      },
      delete: async (chunkIds: readonly number[]) => {
        await inner.delete(chunkIds);
        await acknowledge();
      },
      search: (options: VectorSearchOptions) => inner.search(options),
      count: () => inner.count(),
      flush: () => inner.flush(),
      close: () => inner.close(),
    });
  };
  const build = (
    store: DocumentStore,
    options: Pick<EngineOptions, "refreshIntervalMs" | "logger" | "openVectorIndex"> = {},
  ) => {
    const engine = new Engine({
      store,
      dataDir,
      embedder: bagOfWordsEmbedder({ seed: 3 }).embedder,
      rerank: { reranker },
      ...options,
    });
    engines.push(engine);
    return engine;
  };
  const request = (query: string, extra: Partial<SearchRequest> = {}): SearchRequest => ({
    collectionId,
    query,
    k: 1000,
    offset: 0,
    mode: "bm25",
    ...extra,
  });
  const documentsFound = async (engine: Engine, query: string, extra: Partial<SearchRequest> = {}) =>
    new Set((await engine.searcher.search(request(query, extra))).hits.map((hit) => hit.documentId));

  it("a search makes no store call, whatever its mode, filter, page or rerank", async () => {
    const { store, state } = instrumented(raw);
    const engine = build(store);
    await engine.load(collectionId);
    await raw.writeDocuments(
      collectionId,
      Array.from({ length: 30 }, (_, i) =>
        versioned(`d${i}`, 1, 2, { tag: `t${i % 3}`, word: i % 2 ? "zinc" : "iron" }),
      ),
    );
    await engine.refresh(collectionId);
    state.calls.length = 0;
    const searches: Array<Partial<SearchRequest>> = [
      { mode: "bm25" },
      { mode: "dense" },
      { mode: "hybrid" },
      { mode: "hybrid", filter: { field: "tag", in: ["t1", "t2"] } },
      { mode: "dense", filter: { not: { field: "tag", eq: "t0" } } },
      { mode: "bm25", k: 3, offset: 6 },
      { mode: "hybrid", rerank: true },
    ];
    for (const extra of searches) {
      for (const query of ["zinc marker", "iron part1", "zinc marker"]) {
        const { hits, degraded } = await engine.searcher.search(request(query, extra));
        expect(degraded).toEqual([]);
        expect(hits.length).toBeGreaterThan(0);
        if (extra.filter !== undefined) expect(hits.every((hit) => hit.metadata.tag !== "t0")).toBe(true);
      }
    }
    expect(state.calls).toEqual([]);
  });

  it("the filter's allowed chunks are the same in both legs (hybrid = the union of its filtered legs)", async () => {
    const engine = build(raw);
    await engine.load(collectionId);
    await raw.writeDocuments(
      collectionId,
      Array.from({ length: 20 }, (_, i) => versioned(`d${i}`, 1, 2, { tag: `t${i % 4}`, word: "zinc" })),
    );
    const filter = { field: "tag", in: ["t1", "t3"] };
    await engine.refresh(collectionId);
    const legs = await Promise.all(
      (["bm25", "dense"] as const).map((mode) => documentsFound(engine, "zinc marker", { mode, filter })),
    );
    const hybrid = await documentsFound(engine, "zinc marker", { mode: "hybrid", filter });
    expect(hybrid).toEqual(new Set([...legs[0]!, ...legs[1]!]));
    expect([...hybrid].sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => i)
        .filter((i) => i % 4 === 1 || i % 4 === 3)
        .map((i) => `d${i}`)
        .sort(),
    );
  });

  it("reads its writes: a write through the engine is visible to the next search, a delete gone", async () => {
    const engine = build(raw);
    await engine.load(collectionId);
    await raw.writeDocuments(collectionId, [versioned("whale", 1, 2, { word: "blowhole" })]);
    // Nothing polls (no interval): the write is not visible until the writer refreshes.
    expect(await documentsFound(engine, "blowhole")).toEqual(new Set());
    await engine.indexes.sync(collectionId);
    expect(await documentsFound(engine, "blowhole")).toEqual(new Set(["whale"]));
    await raw.writeDocuments(collectionId, [versioned("whale", 2, 2, { word: "krill" })]);
    await engine.indexes.sync(collectionId);
    expect(await documentsFound(engine, "blowhole")).toEqual(new Set());
    expect(await documentsFound(engine, "krill", { mode: "bm25" })).toEqual(new Set(["whale"]));
    await deleteDocuments({ store: raw, lexical: engine.indexes, collectionId, externalIds: ["whale"] });
    expect(await documentsFound(engine, "krill")).toEqual(new Set());
  });

  it("under concurrent writes and searches no search sees a half state, and the end state is exact", async () => {
    const engine = build(raw, { refreshIntervalMs: 5, openVectorIndex: remoteLike });
    const ids = Array.from({ length: 12 }, (_, i) => `d${i}`);
    const versions = new Map(ids.map((id) => [id, 1]));
    await engine.load(collectionId);
    await raw.writeDocuments(
      collectionId,
      ids.map((id) => versioned(id, 1)),
    );
    await engine.refresh(collectionId);
    let writing = true;
    let searches = 0;
    const problems: string[] = [];
    const reader = (async () => {
      while (writing) {
        for (const mode of ["bm25", "dense", "hybrid"] as const) {
          const { hits } = await engine.searcher.search(request("marker part0 part1 part2", { mode }));
          searches += 1;
          // A search settles in microtasks only (nothing to wait for): let the writer's I/O in between.
          await new Promise((resolve) => setImmediate(resolve));
          const byDocument = new Map<string, Set<string>>();
          for (const hit of hits) {
            const seen = byDocument.get(hit.documentId) ?? new Set<string>();
            seen.add(`${hit.headingPath[0]}:${hit.metadata.version}`);
            byDocument.set(hit.documentId, seen);
            const chunks = hits.filter((other) => other.documentId === hit.documentId).length;
            if (chunks !== 3) problems.push(`${mode}: ${hit.documentId} with ${chunks} of its 3 chunks`);
          }
          for (const [id, seen] of byDocument) {
            if (seen.size !== 1) problems.push(`${mode}: ${id} mixes versions ${[...seen].join(", ")}`);
          }
        }
      }
    })();
    try {
      await writeConcurrently();
    } finally {
      writing = false;
      await reader;
    }
    async function writeConcurrently() {
      for (let round = 0; round < 40; round += 1) {
        const id = ids[(round * 7) % ids.length]!;
        if (round % 5 === 4) {
          await raw.deleteDocuments(collectionId, [id]);
          versions.delete(id);
        } else {
          const version = (versions.get(id) ?? 0) + 1;
          await raw.writeDocuments(collectionId, [versioned(id, version)]);
          versions.set(id, version);
        }
        // Half the writes refresh at once (this process's API), the others wait for the poll (another process).
        if (round % 2 === 0) {
          await engine.indexes.sync(collectionId);
          const found = await engine.searcher.search(request(`marker ${id}`, { mode: "bm25" }));
          const versionsOf = found.hits
            .filter((hit) => hit.documentId === id)
            .map((hit) => hit.metadata.version);
          expect(versionsOf).toEqual(
            versions.has(id) ? [versions.get(id), versions.get(id), versions.get(id)] : [],
          );
        }
      }
    }
    expect(problems).toEqual([]);
    expect(searches).toBeGreaterThan(10);
    await engine.refresh(collectionId);
    const { hits } = await engine.searcher.search(request("marker", { mode: "hybrid" }));
    const expected = [...versions].map(([id, version]) => `${id}@${version}`).sort();
    expect([...new Set(hits.map((hit) => `${hit.documentId}@${hit.metadata.version}`))].sort()).toEqual(
      expected,
    );
    // Every index holds exactly the catalog's chunks.
    const snapshot = engine.snapshot(collectionId)!;
    const catalogIds = [...snapshot.catalog.chunkIds()].sort((a, b) => a - b);
    expect(snapshot.lexical.liveChunkIds().sort((a, b) => a - b)).toEqual(catalogIds);
    expect(catalogIds).toEqual(await raw.listChunkIds(collectionId));
    expect(await ("index" in snapshot.dense ? snapshot.dense.index.count() : -1)).toBe(catalogIds.length);
  });

  it("keeps serving the last snapshot through a store outage, then recovers", async () => {
    const { store, state } = instrumented(raw);
    const { logger, lines } = capturingLogger();
    const engine = build(store, { refreshIntervalMs: 20, logger });
    await engine.load(collectionId);
    await raw.writeDocuments(collectionId, [versioned("old", 1, 2, { word: "anchovy" })]);
    await engine.refresh(collectionId);
    state.down = true;
    // Another process writes while this one cannot reach the store.
    await raw.writeDocuments(collectionId, [versioned("new", 1, 2, { word: "anchovy" })]);
    await until(
      async () => lines.filter((line) => line.message.startsWith("index refresh failed")).length >= 2,
    );
    expect(await documentsFound(engine, "anchovy")).toEqual(new Set(["old"]));
    await expect(engine.refresh(collectionId)).rejects.toThrow("test outage");
    expect(await documentsFound(engine, "anchovy")).toEqual(new Set(["old"]));
    state.down = false;
    await until(async () => (await documentsFound(engine, "anchovy")).has("new"));
    expect(await documentsFound(engine, "anchovy")).toEqual(new Set(["old", "new"]));
    // The poll says so once its refresh returns (the swap itself comes a moment earlier).
    await until(async () => lines.some((line) => line.message === "index refresh recovered"));
  });

  it("recovers from an outage that struck in the middle of a refresh (an index ahead of the catalog)", async () => {
    const { store, state } = instrumented(raw);
    const engine = build(store);
    await engine.load(collectionId);
    await raw.writeDocuments(collectionId, [versioned("a", 1, 2, { word: "sprat" })]);
    await engine.refresh(collectionId);
    await raw.writeDocuments(collectionId, [versioned("b", 1, 2, { word: "sprat" })]);
    // Fail at the lexical generation's registration, after the store was read and the segment written.
    const original = raw.beginGeneration.bind(raw);
    let failing = true;
    raw.beginGeneration = async (input) => {
      if (failing) throw new UnavailableError("the store went away mid-refresh (test)");
      return original(input);
    };
    await expect(engine.refresh(collectionId)).rejects.toThrow("mid-refresh");
    expect(await documentsFound(engine, "sprat")).toEqual(new Set(["a"]));
    failing = false;
    // Meanwhile b is deleted and c written: the retry must not keep b in any index.
    await raw.deleteDocuments(collectionId, ["b"]);
    await raw.writeDocuments(collectionId, [versioned("c", 1, 2, { word: "sprat" })]);
    await engine.refresh(collectionId);
    for (const mode of ["bm25", "dense", "hybrid"] as const) {
      expect(await documentsFound(engine, "sprat", { mode })).toEqual(new Set(["a", "c"]));
    }
    const snapshot = engine.snapshot(collectionId)!;
    expect(snapshot.lexical.liveChunkIds().sort((x, y) => x - y)).toEqual(
      await raw.listChunkIds(collectionId),
    );
    expect(state.down).toBe(false);
  });

  it("tells listeners which documents each swap added, updated and removed", async () => {
    const engine = build(raw);
    await engine.load(collectionId);
    const changes: SnapshotChange[] = [];
    const unsubscribe = engine.onChange((change) => changes.push(change));
    await raw.writeDocuments(collectionId, [versioned("a", 1), versioned("b", 1)]);
    await engine.indexes.sync(collectionId);
    await raw.writeDocuments(collectionId, [versioned("a", 2), versioned("c", 1)]);
    await raw.deleteDocuments(collectionId, ["b"]);
    await engine.indexes.sync(collectionId);
    await engine.indexes.sync(collectionId); // nothing changed: no event
    expect(changes.map(({ revision: _, ...change }) => change)).toEqual([
      { collectionId, added: ["a", "b"], updated: [], removed: [] },
      { collectionId, added: ["c"], updated: ["a"], removed: ["b"] },
    ]);
    expect(changes[1]!.revision).toBe(await raw.getRevision(collectionId));
    unsubscribe();
    await raw.deleteDocuments(collectionId, ["a"]);
    await engine.indexes.sync(collectionId);
    expect(changes).toHaveLength(2);
  });
});

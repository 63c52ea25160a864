import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DocumentStore, DocumentWrite, Embedder } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { openStore } from "@sift/store";
import { openUsearchIndex } from "@sift/vector";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DenseIndexManager, passageText } from "./dense-index-manager";

// A deterministic bag-of-words embedder (a double of our own interface; real models are tested in
// @sift/models) that counts its calls, over a real usearch index and a real PGlite store.
const countingEmbedder = () => bagOfWordsEmbedder({ seed: 7, dimensions: 32 });
const _profile = countingEmbedder().embedder.profile;

const write = (id: string, text: string): DocumentWrite => ({
  document: { externalId: id, text, metadata: { id } },
  contentHash: id + text,
  chunks: [{ ordinal: 0, text, charStart: 0, charEnd: text.length, headingPath: [], tokenCount: 3 }],
});

describe("DenseIndexManager", () => {
  let store: DocumentStore;
  let dataDir: string;
  let collectionId: number;
  const manager = (embedder: Embedder) =>
    new DenseIndexManager({
      store,
      embedder,
      dataDir,
      batchSize: 2,
      openIndex: (id) =>
        openUsearchIndex({ path: path.join(dataDir, "vectors", String(id)), dimensions: 32, metric: "cos" }),
    });
  const search = async (m: DenseIndexManager, e: Embedder, text: string) => {
    const index = await m.open(collectionId);
    const { embeddings } = await e.embed({ texts: [text], kind: "query" });
    const { hits } = await index.search({ vector: embeddings[0]!, limit: 10 });
    const chunks = await store.getChunks(hits.map((h) => h.chunkId));
    const byId = new Map(chunks.map((c) => [c.id, c.externalId]));
    return hits.map((h) => byId.get(h.chunkId));
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sift-dense-"));
    store = await openStore({ driver: "pglite", dataDir: "memory://" });
    await store.migrate();
    collectionId = (await store.ensureCollection({ tenant: "t", name: "c" })).collection.id;
    await store.writeDocuments(collectionId, [
      write("a", "alpha beta gamma"),
      write("b", "delta epsilon zeta"),
      write("c", "eta theta iota"),
    ]);
  });
  afterAll(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("embeds every chunk on first open, then follows updates and deletes", async () => {
    const { embedder, calls } = countingEmbedder();
    const m = manager(embedder);
    expect((await search(m, embedder, "delta epsilon"))[0]).toBe("b");
    expect(calls.texts).toBe(3 + 1);
    expect(m.stats(collectionId)?.vectors).toBe(3);

    await store.writeDocuments(collectionId, [write("b", "kappa lambda mu")]);
    expect(await m.sync(collectionId)).toEqual({ added: 1, removed: 1 });
    expect((await search(m, embedder, "kappa lambda"))[0]).toBe("b");

    await store.deleteDocuments(collectionId, ["c"]);
    expect(await m.sync(collectionId)).toEqual({ added: 0, removed: 1 });
    expect(await search(m, embedder, "eta theta iota")).not.toContain("c");
    // Nothing changed: nothing to do.
    expect(await m.sync(collectionId)).toEqual({ added: 0, removed: 0 });
    await m.close();
  });

  it("reopens without embedding again, and picks up writes made while closed", async () => {
    const { embedder, calls } = countingEmbedder();
    await store.writeDocuments(collectionId, [write("d", "nu xi omicron")]);
    const m = manager(embedder);
    const found = await search(m, embedder, "nu xi omicron");
    expect(found[0]).toBe("d");
    expect(calls.texts).toBe(1 + 1); // only the new chunk, plus the query
    expect(m.stats(collectionId)?.vectors).toBe(3);
    await m.close();
  });

  it("builds the passage text from title and heading path", () => {
    expect(passageText({ title: "T", headingPath: ["T", "Part"], text: "body" })).toBe("T\nPart\nbody");
    expect(passageText({ title: null, headingPath: [], text: "body" })).toBe("body");
  });
});

describe("DenseIndexManager persistence policy (ADR 23)", () => {
  let dataDir: string;
  let store: DocumentStore;
  beforeAll(async () => {
    store = await openStore({ driver: "pglite", dataDir: "memory://" });
    await store.migrate();
  });
  afterAll(async () => store.close());

  const passage = (id: number) => ({
    id,
    title: null,
    text: `passage number ${id} word${id}`,
    metadata: {},
    headingPath: [],
  });
  const manager = (flush: { flushEvery?: number; flushIntervalMs?: number }) =>
    new DenseIndexManager({
      store,
      embedder: countingEmbedder().embedder,
      dataDir,
      ...flush,
      openIndex: (id) =>
        openUsearchIndex({ path: path.join(dataDir, "vectors", String(id)), dimensions: 32, metric: "cos" }),
    });
  /** A write as the refresher makes it: new vectors, then the removal (often of nothing) at a revision. */
  const writeThrough = async (m: DenseIndexManager, ids: number[], revision: number) => {
    await m.add(1, ids.map(passage));
    await m.remove(1, [], revision);
  };
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sift-dense-policy-"));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  it("persists once flushEvery vectors changed, not on every write", async () => {
    const m = manager({ flushEvery: 4, flushIntervalMs: 60_000 });
    // The first vectors are recorded at once: without a record the engine would ask for a reindex.
    await writeThrough(m, [1], 1);
    expect(m.persists).toBe(1);
    await writeThrough(m, [2, 3], 2);
    await writeThrough(m, [4], 3);
    expect(m.persists).toBe(1);
    await writeThrough(m, [5], 4);
    expect(m.persists).toBe(2);
    await m.remove(1, [1, 2, 3, 4], 5);
    expect(m.persists).toBe(3);
    await m.close();
  });

  it("persists unflushed changes within flushIntervalMs, and at close", async () => {
    const timed = manager({ flushIntervalMs: 50 });
    await writeThrough(timed, [1], 1);
    await writeThrough(timed, [2], 2);
    expect(timed.persists).toBe(1);
    await vi.waitFor(() => expect(timed.persists).toBe(2), { timeout: 5000 });
    const slow = manager({ flushIntervalMs: 60_000 });
    await timed.close();
    await writeThrough(slow, [3], 3);
    await slow.close();
    expect(slow.persists).toBe(1);
    const reopened = manager({});
    expect([...(await reopened.handle(1)).ids].sort()).toEqual([1, 2, 3]);
    expect(await (await reopened.handle(1)).index.count()).toBe(3);
    await reopened.close();
  });

  it("after a crash between flushes, the record and the index are those of the last persist", async () => {
    const crashed = manager({ flushEvery: 2, flushIntervalMs: 60_000 });
    await writeThrough(crashed, [1, 2], 1); // persisted (the first record)
    await writeThrough(crashed, [3], 2); // only in memory
    expect(crashed.persists).toBe(1);
    // The process dies here: nothing more reaches the disk. A new process opens the same files.
    const next = manager({});
    const { ids, index } = await next.handle(1);
    expect([...ids].sort()).toEqual([1, 2]);
    expect(await index.count()).toBe(2);
    await next.close();
    // (Closing the crashed manager only stops its timer for this test process.)
    await crashed.drop(1);
  });
});

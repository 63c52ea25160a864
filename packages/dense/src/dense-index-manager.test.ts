import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DocumentStore, DocumentWrite, Embedder } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { openStore } from "@sift/store";
import { openUsearchIndex } from "@sift/vector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DocumentStore, Embedder } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { ingestDocuments, type SourceItem } from "@sift/ingest";
import { openStore } from "@sift/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "./engine";

// A deterministic bag-of-words embedder (a double of our own interface; real models are tested in
// @sift/models) that counts the texts it embeds, over a real usearch index and a real PGlite store.
const countingEmbedder = (id?: string) =>
  bagOfWordsEmbedder({ seed: 7, ...(id === undefined ? {} : { id }) });

const corpus = [
  {
    externalId: "whales",
    title: "Whales",
    text: "Whales are marine mammals that breathe air through a blowhole.",
  },
  {
    externalId: "volcano",
    title: "Volcanoes",
    text: "A volcano erupts molten rock, ash and gases from the mantle.",
  },
  { externalId: "bread", title: "Bread", text: "Bread dough rises because yeast ferments sugars into gas." },
];
async function* source(docs = corpus): AsyncGenerator<SourceItem> {
  for (const d of docs) yield { kind: "document", document: { format: "text", ...d } };
}

describe("Engine", () => {
  let dataDir: string;
  let store: DocumentStore;
  let collectionId: number;
  const engines: Engine[] = [];
  const engine = (embedder?: Embedder) => {
    const e = new Engine({ store, dataDir, embedder });
    engines.push(e);
    return e;
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sift-engine-"));
    store = await openStore({ driver: "pglite", dataDir: "memory://" });
    await store.migrate();
    collectionId = (await store.ensureCollection({ tenant: "t", name: "c" })).collection.id;
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("ingests into BM25 and vectors, and hybrid search uses both legs", async () => {
    const { embedder, calls } = countingEmbedder();
    const e = engine(embedder);
    const { job, dense } = await e.ingest({ collectionId, source: source(), sourceLabel: "test" });
    expect(job.status).toBe("succeeded");
    expect(dense).toEqual({ added: 3, removed: 0 });
    expect(calls.texts).toBe(3);
    expect(await e.denseStatus(collectionId)).toBe("ready");
    const result = await e.searcher.search({
      collectionId,
      query: "volcano ash",
      k: 3,
      offset: 0,
      mode: "hybrid",
    });
    expect(result.degraded).toEqual([]);
    expect(result.hits[0]?.documentId).toBe("volcano");
    expect(result.hits[0]?.legs.bm25?.rank).toBe(1);
    expect(result.hits[0]?.legs.dense?.rank).toBe(1);
  });

  it("keeps vectors in step with writes made through `indexes` (the API's path)", async () => {
    const e = engine(countingEmbedder().embedder);
    await e.ingest({ collectionId, source: source(), sourceLabel: "test" });
    await ingestDocuments({
      store,
      lexical: e.indexes,
      collectionId,
      documents: [
        { externalId: "comet", title: "Comets", text: "A comet grows a tail of ice and dust near the sun." },
      ],
    });
    const result = await e.searcher.search({
      collectionId,
      query: "comet tail",
      k: 1,
      offset: 0,
      mode: "dense",
    });
    expect(result.hits[0]?.documentId).toBe("comet");
    expect((await e.stats(collectionId)).dense).toMatchObject({ status: "ready", vectors: 4 });
  });

  it("does not embed a collection made without the model until a deliberate reindex, and says so", async () => {
    const bm25Only = engine();
    await bm25Only.ingest({ collectionId, source: source(), sourceLabel: "test" });
    expect(await bm25Only.denseStatus(collectionId)).toBe("unavailable");
    await bm25Only.close();

    const { embedder, calls } = countingEmbedder();
    const e = engine(embedder);
    expect(await e.load(collectionId)).toBe("needs-reindex");
    expect(calls.texts).toBe(0);
    const degraded = await e.searcher.search({
      collectionId,
      query: "yeast bread",
      k: 2,
      offset: 0,
      mode: "hybrid",
    });
    expect(degraded.degraded).toEqual(["dense"]);
    expect(degraded.warnings.join(" ")).toMatch(/reindex/);
    expect(degraded.hits[0]?.documentId).toBe("bread");
    // Neither a passage nor the query was embedded: the dense leg stops at the snapshot's missing vectors.
    const queriesOnly = calls.texts;
    expect(queriesOnly).toBe(0);
    // New documents are not embedded piecemeal either.
    const { dense } = await e.ingest({
      collectionId,
      source: source([
        { externalId: "rain", title: "Rain", text: "Rain falls when droplets in clouds grow heavy." },
      ]),
      sourceLabel: "more",
    });
    expect(dense).toBeUndefined();
    expect(calls.texts).toBe(queriesOnly);

    const estimate = await e.estimateReindex(collectionId);
    expect(estimate).toMatchObject({ chunks: 4, cached: 0, missing: 4, textsToEmbed: 4 });
    expect(estimate.estimatedSeconds).toBeGreaterThanOrEqual(0);
    const before = calls.texts; // the estimate embeds a small timing sample
    expect(await e.reindexDense(collectionId)).toEqual({ added: 4, removed: 0 });
    expect(calls.texts - before).toBe(4);
    const healed = await e.searcher.search({
      collectionId,
      query: "yeast bread",
      k: 2,
      offset: 0,
      mode: "hybrid",
    });
    expect(healed.degraded).toEqual([]);
    expect(healed.hits[0]?.legs.dense?.rank).toBe(1);
  });

  it("a model change gets its own vectors; unchanged texts come from the embedding cache", async () => {
    const first = countingEmbedder("test/model-a");
    const a = engine(first.embedder);
    await a.ingest({ collectionId, source: source(), sourceLabel: "test" });
    await a.close();

    const second = countingEmbedder("test/model-b");
    const b = engine(second.embedder);
    expect(await b.load(collectionId)).toBe("needs-reindex");
    await b.reindexDense(collectionId);
    expect(second.calls.texts).toBe(3);
    await b.close();

    // Back to model A: its vectors are still on disk and in step.
    const again = countingEmbedder("test/model-a");
    const a2 = engine(again.embedder);
    expect(await a2.load(collectionId)).toBe("ready");
    expect(again.calls.texts).toBe(0);

    // A fresh collection with the same texts costs no embedding at all (cache keyed by model and text).
    const other = (await store.ensureCollection({ tenant: "t", name: "copy" })).collection.id;
    const { dense } = await a2.ingest({ collectionId: other, source: source(), sourceLabel: "copy" });
    expect(dense?.added).toBe(3);
    expect(again.calls.texts).toBe(0);
  });

  it("drop deletes the collection's index files", async () => {
    const e = engine(countingEmbedder().embedder);
    await e.ingest({ collectionId, source: source(), sourceLabel: "test" });
    expect(await readdir(path.join(dataDir, "dense"))).toEqual([String(collectionId)]);
    await e.drop(collectionId);
    expect(await readdir(path.join(dataDir, "dense"))).toEqual([]);
  });
});

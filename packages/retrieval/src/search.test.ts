import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DocumentStore, type Embedder, UnavailableError, type VectorIndex } from "@sift/core";
import { bagOfWordsEmbedder, exactVectorIndex } from "@sift/core/testing";
import { LexicalIndexManager } from "@sift/lexical";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CollectionSnapshot } from "./collection-snapshot";
import { Searcher, type SearcherOptions } from "./search";
import { fixedSnapshots, snapshotFromStore } from "./test-support";

// Test doubles of our own interfaces (not of a vendor SDK): a bag-of-words "embedder" and an exact
// in-memory vector index, enough to exercise fusion, timeouts and degradation deterministically.
const { embedder, vector: bagOfWords } = bagOfWordsEmbedder();
const profile = embedder.profile;
const exactIndex = (vectors: Map<number, Float32Array>) => exactVectorIndex(vectors, profile.dimensions);

const texts: Record<string, string> = {
  a: "vaccines reduce infection in adults",
  b: "soil bacteria fix nitrogen",
  c: "infection control in hospitals",
  d: "immunization lowers disease rates",
};

describe("Searcher modes, fusion and degradation", () => {
  let store: DocumentStore;
  let dataDir: string;
  let lexical: LexicalIndexManager;
  let collectionId: number;
  const vectors = new Map<number, Float32Array>();
  const analyzer = createAnalyzer();
  let snapshot: CollectionSnapshot;
  /** A searcher over the test snapshot; `dense` gives it a query embedder and a vector index. */
  const searcher = ({
    dense,
    ...extra
  }: Partial<SearcherOptions> & { dense?: { embedder: Embedder; index: VectorIndex } } = {}) =>
    new Searcher({
      snapshots: fixedSnapshots(
        dense === undefined ? snapshot : { ...snapshot, dense: { index: dense.index } },
      ),
      analyzer,
      embedder: dense?.embedder,
      ...extra,
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sift-search-"));
    store = await openStore({ driver: "pglite", dataDir: "memory://" });
    await store.migrate();
    lexical = new LexicalIndexManager({ store, dataDir, analyzer });
    collectionId = (await store.ensureCollection({ tenant: "t", name: "c" })).collection.id;
    await store.writeDocuments(
      collectionId,
      Object.entries(texts).map(([id, text]) => ({
        document: { externalId: id, text },
        contentHash: id + text,
        chunks: [{ ordinal: 0, text, charStart: 0, charEnd: text.length, headingPath: [], tokenCount: 5 }],
      })),
    );
    await lexical.sync(collectionId);
    for (const chunk of await store.scanChunks(collectionId, { afterId: 0, limit: 100 })) {
      vectors.set(chunk.id, bagOfWords(chunk.text));
    }
    snapshot = await snapshotFromStore({ store, lexical, collectionId });
  });
  afterAll(async () => {
    await lexical.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const request = { collectionId: 0, query: "infection vaccines", k: 10, offset: 0 };

  it("hybrid fuses both legs and explains each hit", async () => {
    const s = searcher({ dense: { embedder, index: exactIndex(vectors) } });
    const res = await s.search({ ...request, collectionId, mode: "hybrid" });
    expect(res.degraded).toEqual([]);
    expect(res.fusion).toMatchObject({ method: "zscore", rrfK: 60 });
    expect(res.hits[0]!.documentId).toBe("a");
    expect(res.hits[0]!.scoreKind).toBe("fused:zscore");
    const legs = res.hits[0]!.legs;
    expect(legs.bm25?.rank).toBe(1);
    expect(legs.dense?.rank).toBe(1);
    expect(res.hits[0]!.score).toBeCloseTo(legs.bm25!.contribution! + legs.dense!.contribution!, 12);
    // Hits only the dense leg found (no shared words with the query) still come back, without a bm25 part.
    const denseOnly = res.hits.filter((h) => h.legs.bm25 === undefined);
    expect(denseOnly.length).toBeGreaterThan(0);
    expect(res.timings.bm25Ms).toBeGreaterThanOrEqual(0);
    expect(res.timings.denseMs).toBeGreaterThanOrEqual(0);
  });

  it("dense mode ranks by cosine", async () => {
    const s = searcher({ dense: { embedder, index: exactIndex(vectors) } });
    const res = await s.search({ ...request, collectionId, mode: "dense", k: 2 });
    expect(res.hits.map((h) => h.scoreKind)).toEqual(["cosine", "cosine"]);
    expect(res.hits[0]!.score).toBeGreaterThanOrEqual(res.hits[1]!.score);
    expect(res.hits[1]!.legs.dense?.rank).toBe(2);
  });

  it("a failing dense leg degrades loudly instead of failing the request", async () => {
    const broken: Embedder = {
      profile,
      async embed() {
        throw new Error("model server down");
      },
    };
    const s = searcher({ dense: { embedder: broken, index: exactIndex(vectors) } });
    const res = await s.search({ ...request, collectionId, mode: "hybrid" });
    expect(res.degraded).toEqual(["dense"]);
    expect(res.warnings.join(" ")).toContain("model server down");
    expect(res.hits[0]!.legs.bm25?.rank).toBe(1);
    expect(s.metrics.degraded.dense).toBe(1);
  });

  it("a dense leg slower than the leg timeout is abandoned and reported", async () => {
    const slow: Embedder = { profile, embed: () => new Promise(() => {}) };
    const s = searcher({
      dense: { embedder: slow, index: exactIndex(vectors) },
      legTimeoutMs: 50,
    });
    const res = await s.search({ ...request, collectionId, mode: "hybrid" });
    expect(res.degraded).toEqual(["dense"]);
    expect(res.warnings.join(" ")).toContain("exceeded 50 ms");
    expect(res.hits.length).toBeGreaterThan(0);
  });

  it("refuses dense and hybrid without a dense leg, and fails when the only leg fails", async () => {
    await expect(searcher().search({ ...request, collectionId, mode: "hybrid" })).rejects.toBeInstanceOf(
      UnavailableError,
    );
    const broken: Embedder = { profile, embed: async () => Promise.reject(new Error("down")) };
    const s = searcher({ dense: { embedder: broken, index: exactIndex(vectors) } });
    await expect(s.search({ ...request, collectionId, mode: "dense" })).rejects.toThrow("down");
  });

  it("pages fused results without overlap", async () => {
    const s = searcher({ dense: { embedder, index: exactIndex(vectors) } });
    const all = await s.search({ ...request, collectionId, mode: "hybrid", k: 4 });
    const second = await s.search({ ...request, collectionId, mode: "hybrid", k: 2, offset: 2 });
    expect(second.hits.map((h) => h.chunkId)).toEqual(all.hits.slice(2, 4).map((h) => h.chunkId));
  });
});

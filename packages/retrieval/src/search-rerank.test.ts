import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DocumentStore, type Reranker, UnavailableError } from "@sift/core";
import { bagOfWordsEmbedder, exactVectorIndex } from "@sift/core/testing";
import { LexicalIndexManager } from "@sift/lexical";
import { openStore } from "@sift/store";
import { createAnalyzer } from "@sift/text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CollectionSnapshot } from "./collection-snapshot";
import {
  type RerankOptions,
  rerankPassageText,
  Searcher,
  type SearchHit,
  type SearchRequest,
} from "./search";
import { fixedSnapshots, snapshotFromStore } from "./test-support";

// Test doubles of our own interfaces: a bag-of-words "embedder", an exact vector index, and rerankers whose
// scores are a known function of the passage, so every expected order can be computed independently.
const { embedder, vector: bagOfWords } = bagOfWordsEmbedder();
const profile = embedder.profile;
const exactIndex = (vectors: Map<number, Float32Array>) => exactVectorIndex(vectors, profile.dimensions);

/** Scores a passage by how often it says "zinc" (the fake model's notion of relevance), recording calls. */
function zincReranker(extra: Partial<Reranker> = {}) {
  const calls: Array<{ query: string; passages: string[]; signal: AbortSignal | undefined }> = [];
  const reranker: Reranker = {
    id: "fake:zinc",
    async score(query, passages, signal) {
      calls.push({ query, passages: [...passages], signal });
      return passages.map((p) => (p.match(/zinc/g) ?? []).length - p.length / 1000);
    },
    ...extra,
  };
  return { reranker, calls };
}

const documents: Array<{ id: string; title: string; text: string }> = [
  { id: "d1", title: "Colds", text: "common cold infection symptoms and infection treatment" },
  { id: "d2", title: "Zinc", text: "zinc lozenges shorten the common cold, zinc zinc" },
  { id: "d3", title: "Vitamin C", text: "vitamin c and the common cold infection" },
  { id: "d4", title: "Hygiene", text: "hand washing prevents cold infection spread" },
  { id: "d5", title: "Trace metals", text: "zinc deficiency and infection risk" },
  { id: "d6", title: "Rest", text: "rest and fluids during a cold" },
  { id: "d7", title: "Soil", text: "soil bacteria fix nitrogen, zinc zinc zinc" },
  { id: "d8", title: "Flu", text: "influenza infection is not a common cold" },
];

describe("Searcher rerank stage", () => {
  let store: DocumentStore;
  let dataDir: string;
  let lexical: LexicalIndexManager;
  let collectionId: number;
  const vectors = new Map<number, Float32Array>();
  const analyzer = createAnalyzer();
  const searcher = (rerank?: RerankOptions) =>
    new Searcher({
      snapshots: fixedSnapshots({ ...snapshot, dense: { index: exactIndex(vectors) } }),
      analyzer,
      embedder,
      rerank,
    });
  let snapshot: CollectionSnapshot;
  let request: SearchRequest;
  const ids = (hits: SearchHit[]) => hits.map((h) => h.documentId);
  const textOf = (id: string) => {
    const d = documents.find((doc) => doc.id === id)!;
    return rerankPassageText({ title: d.title, headingPath: [], text: d.text });
  };
  const zincScore = (id: string) => (textOf(id).match(/zinc/g) ?? []).length - textOf(id).length / 1000;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sift-rerank-"));
    store = await openStore({ driver: "pglite", dataDir: "memory://" });
    await store.migrate();
    lexical = new LexicalIndexManager({ store, dataDir, analyzer });
    collectionId = (await store.ensureCollection({ tenant: "t", name: "c" })).collection.id;
    await store.writeDocuments(
      collectionId,
      documents.map(({ id, title, text }) => ({
        document: { externalId: id, title, text },
        contentHash: id + text,
        chunks: [{ ordinal: 0, text, charStart: 0, charEnd: text.length, headingPath: [], tokenCount: 8 }],
      })),
    );
    await lexical.sync(collectionId);
    for (const chunk of await store.scanChunks(collectionId, { afterId: 0, limit: 100 })) {
      vectors.set(chunk.id, bagOfWords(chunk.text));
    }
    snapshot = await snapshotFromStore({ store, lexical, collectionId });
    request = { collectionId, query: "common cold infection", k: 8, offset: 0, mode: "hybrid" };
  });
  afterAll(async () => {
    await lexical.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("reorders the candidates by the reranker's score and explains every reranked hit", async () => {
    const plain = await searcher().search(request);
    const { reranker, calls } = zincReranker();
    const s = searcher({ reranker, candidates: 30 });
    const res = await s.search({ ...request, rerank: true });
    expect(res.degraded).toEqual([]);
    expect(res.rerank).toEqual({
      reranker: "fake:zinc",
      candidates: 30,
      reranked: plain.hits.length,
      blend: "none",
    });
    // The reranker saw every first-stage hit, in first-stage order, as title + text.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.query).toBe("common cold infection");
    expect(calls[0]!.passages).toEqual(ids(plain.hits).map(textOf));
    const expected = [...ids(plain.hits)].sort((a, b) => zincScore(b) - zincScore(a));
    expect(ids(res.hits)).toEqual(expected);
    for (const [i, hit] of res.hits.entries()) {
      expect(hit.scoreKind).toBe("rerank");
      expect(hit.score).toBeCloseTo(zincScore(hit.documentId), 12);
      expect(hit.rerank).toEqual({
        rank: i + 1,
        score: hit.score,
        firstStageRank: ids(plain.hits).indexOf(hit.documentId) + 1,
      });
      // First-stage provenance is kept beside the rerank provenance.
      expect(hit.legs).toEqual(plain.hits.find((p) => p.documentId === hit.documentId)!.legs);
    }
    expect(res.timings.rerankMs).toBeGreaterThanOrEqual(0);
    expect(s.metrics).toMatchObject({ reranked: 1, degraded: { rerank: 0 } });
  });

  it("reranks only the top `candidates`; the rest keep their first-stage order, score and kind", async () => {
    const plain = await searcher().search(request);
    const { reranker, calls } = zincReranker();
    const res = await searcher({ reranker, candidates: 3 }).search({ ...request, rerank: true });
    expect(calls[0]!.passages).toEqual(ids(plain.hits).slice(0, 3).map(textOf));
    const top3 = ids(plain.hits)
      .slice(0, 3)
      .sort((a, b) => zincScore(b) - zincScore(a));
    expect(ids(res.hits)).toEqual([...top3, ...ids(plain.hits).slice(3)]);
    expect(res.hits.slice(3)).toEqual(plain.hits.slice(3));
    expect(res.hits.slice(3).every((h) => h.rerank === undefined && h.scoreKind === "fused:zscore")).toBe(
      true,
    );
    expect(res.rerank).toMatchObject({ candidates: 3, reranked: 3 });
  });

  it("pages through one order: pages never overlap or skip, and every page reranks the same window", async () => {
    const { reranker, calls } = zincReranker();
    const s = searcher({ reranker, candidates: 5 });
    const all = await s.search({ ...request, rerank: true, k: 8 });
    const pages: SearchHit[] = [];
    for (const offset of [0, 2, 4, 6]) {
      pages.push(...(await s.search({ ...request, rerank: true, k: 2, offset })).hits);
    }
    expect(ids(pages)).toEqual(ids(all.hits));
    expect(new Set(calls.map((c) => JSON.stringify(c.passages))).size).toBe(1);
  });

  it("reranks a single-leg (bm25) search too", async () => {
    const plain = await searcher().search({ ...request, mode: "bm25" });
    const res = await searcher({ reranker: zincReranker().reranker }).search({
      ...request,
      mode: "bm25",
      rerank: true,
    });
    expect(ids(res.hits)).toEqual([...ids(plain.hits)].sort((a, b) => zincScore(b) - zincScore(a)));
    expect(res.hits[0]!.legs.bm25?.rank).toBe(ids(plain.hits).indexOf(res.hits[0]!.documentId) + 1);
    expect(res.fusion).toBeUndefined();
  });

  it("keeps the first-stage order, loudly, when the reranker misses its budget", async () => {
    const plain = await searcher().search(request);
    let seen: AbortSignal | undefined;
    const slow: Reranker = {
      id: "fake:slow",
      score: (_q, _p, signal) => {
        seen = signal;
        return new Promise(() => {});
      },
    };
    const s = searcher({ reranker: slow, timeoutMs: 50 });
    const res = await s.search({ ...request, rerank: true });
    expect(res.degraded).toEqual(["rerank"]);
    expect(res.warnings.join(" ")).toContain("rerank exceeded its budget of 50 ms");
    expect(res.hits).toEqual(plain.hits);
    expect(res.rerank).toMatchObject({ reranker: "fake:slow", reranked: 0 });
    expect(seen?.aborted).toBe(true);
    expect(s.metrics.degraded.rerank).toBe(1);
  });

  it("keeps the first-stage order when the reranker fails or answers nonsense", async () => {
    const plain = await searcher().search(request);
    const broken: Reranker = {
      id: "fake:broken",
      score: async () => Promise.reject(new Error("rerank server down")),
    };
    const short: Reranker = { id: "fake:short", score: async () => [1] };
    const nan: Reranker = { id: "fake:nan", score: async (_q, p) => p.map(() => Number.NaN) };
    for (const [reranker, message] of [
      [broken, "rerank server down"],
      [short, "returned 1 scores"],
      [nan, "non-finite"],
    ] as const) {
      const s = searcher({ reranker });
      const res = await s.search({ ...request, rerank: true });
      expect(res.degraded).toEqual(["rerank"]);
      expect(res.warnings.join(" ")).toContain(message);
      expect(res.hits).toEqual(plain.hits);
      expect(s.metrics.degraded.rerank).toBe(1);
    }
  });

  it("blends rerank and first-stage order when asked (rrf, minmax)", async () => {
    const plain = await searcher().search(request);
    const first = ids(plain.hits);
    const { reranker } = zincReranker();
    const rrf = await searcher({ reranker, blend: "rrf", rrfK: 60 }).search({ ...request, rerank: true });
    const rerankRank = new Map(
      [...first].sort((a, b) => zincScore(b) - zincScore(a)).map((id, i) => [id, i + 1] as const),
    );
    const rrfScore = (id: string) => 1 / (60 + rerankRank.get(id)!) + 1 / (60 + first.indexOf(id) + 1);
    const expected = [...first].sort(
      (a, b) => rrfScore(b) - rrfScore(a) || rerankRank.get(a)! - rerankRank.get(b)!,
    );
    expect(ids(rrf.hits)).toEqual(expected);
    expect(rrf.hits[0]!.scoreKind).toBe("rerank:rrf");
    expect(rrf.hits[0]!.score).toBeCloseTo(rrfScore(expected[0]!), 12);
    expect(rrf.rerank?.blend).toBe("rrf");

    // minmax with all weight on the reranker is the reranker's order; with none, the first stage's.
    const pure = await searcher({ reranker, blend: "minmax", weight: 1 }).search({
      ...request,
      rerank: true,
    });
    expect(ids(pure.hits)).toEqual([...first].sort((a, b) => zincScore(b) - zincScore(a)));
    const none = await searcher({ reranker, blend: "minmax", weight: 0 }).search({
      ...request,
      rerank: true,
    });
    expect(ids(none.hits)).toEqual(first);
    expect(none.hits[0]!.scoreKind).toBe("rerank:minmax");
  });

  it("refuses rerank without a reranker, and leaves results alone unless asked", async () => {
    await expect(searcher().search({ ...request, rerank: true })).rejects.toBeInstanceOf(UnavailableError);
    const { reranker, calls } = zincReranker();
    const plain = await searcher().search(request);
    const res = await searcher({ reranker }).search(request);
    expect(calls).toHaveLength(0);
    expect(res.hits).toEqual(plain.hits);
    expect(res.rerank).toBeUndefined();
    expect(() => searcher({ reranker, candidates: 0 })).toThrow(RangeError);
    expect(() => searcher({ reranker, weight: 2 })).toThrow(RangeError);
  });

  it("rejects, rather than degrading, when the caller aborts during reranking", async () => {
    const controller = new AbortController();
    const slow: Reranker = { id: "fake:slow", score: () => new Promise(() => {}) };
    const pending = searcher({ reranker: slow, timeoutMs: 5_000 }).search({
      ...request,
      rerank: true,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("client went away")), 30);
    await expect(pending).rejects.toThrow("client went away");
  });
});

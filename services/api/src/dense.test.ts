import type { Reranker } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApp } from "./test-support";

// A deterministic bag-of-words embedder: a double of our own interface (the real model runs in
// socket.test.ts and in @sift/models), so these tests pin the API's behaviour, not a model's.
const { embedder } = bagOfWordsEmbedder({ seed: 7 });

describe("the API with an embedding model", () => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeEach(async () => {
    t = await createTestApp({ embedder });
    await t.call("PUT", "/v1/collections/notes");
    const res = await t.call("POST", "/v1/collections/notes/documents", {
      documents: [
        { id: "tides", title: "Tides", text: "The moon's gravity pulls the oceans and raises the tides." },
        { id: "bees", title: "Bees", text: "Honey bees dance to tell the hive where flowers grow." },
      ],
    });
    expect(res.status).toBe(200);
  });
  afterEach(async () => {
    await t.close();
  });

  it("defaults to hybrid and explains each hit by both legs", async () => {
    const res = await t.call("POST", "/v1/collections/notes/search", { query: "moon tides", k: 2 });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe("hybrid");
    expect(res.body.degraded).toEqual([]);
    expect(res.body.fusion.method).toBe("zscore");
    const [top] = res.body.hits;
    expect(top.documentId).toBe("tides");
    expect(top.scoreKind).toBe("fused:zscore");
    expect(top.legs.bm25.rank).toBe(1);
    expect(top.legs.dense.rank).toBe(1);
    // z-score: each leg adds half its z-score; the top of both legs lies above both means.
    expect(top.legs.dense.normalized).toBeGreaterThan(0);
    expect(top.legs.dense.contribution).toBeCloseTo(top.legs.dense.normalized / 2, 12);
    expect(top.score).toBeCloseTo(top.legs.bm25.contribution + top.legs.dense.contribution, 12);
  });

  it("answers from RRF-fused passages (a threshold that holds at any collection size) while search defaults to z-score", async () => {
    const res = await t.call("POST", "/v1/collections/notes/answer", { question: "what raises the tides?" });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe("hybrid");
    expect(res.body.passages.length).toBeGreaterThan(0);
    expect(res.body.passages.every((p: { scoreKind: string }) => p.scoreKind === "fused:rrf")).toBe(true);
    expect(res.body.passages[0].documentId).toBe("tides");
    // Ranked first by both legs: 1/61 + 1/61.
    expect(res.body.passages[0].score).toBeCloseTo(2 / 61, 12);
  });

  it("embeds documents written through the API, and forgets deleted ones", async () => {
    await t.call("POST", "/v1/collections/notes/documents", {
      documents: [
        { id: "comet", title: "Comets", text: "A comet grows a tail of ice and dust near the sun." },
      ],
    });
    let res = await t.call("POST", "/v1/collections/notes/search", {
      query: "comet tail",
      k: 1,
      mode: "dense",
    });
    expect(res.body.hits[0].documentId).toBe("comet");
    let info = await t.call("GET", "/v1/collections/notes");
    expect(info.body.indexes.dense).toMatchObject({
      status: "ready",
      model: "test/bag-of-words",
      vectors: 3,
    });

    expect((await t.call("DELETE", "/v1/collections/notes/documents/comet")).status).toBe(204);
    res = await t.call("POST", "/v1/collections/notes/search", { query: "comet tail", k: 3, mode: "dense" });
    expect(res.body.hits.map((h: { documentId: string }) => h.documentId)).not.toContain("comet");
    info = await t.call("GET", "/v1/collections/notes");
    expect(info.body.indexes.dense.vectors).toBe(2);
  });
});

describe("search with a reranker", () => {
  // A deterministic reranker double: scores passages by how often they mention "bees".
  const reranker: Reranker = {
    id: "test/bee-counter",
    async score(_query, passages) {
      return passages.map((p) => (p.toLowerCase().match(/bees?/g) ?? []).length);
    },
  };
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeEach(async () => {
    t = await createTestApp({ rerank: { reranker, candidates: 10 } });
    await t.call("PUT", "/v1/collections/notes");
    await t.call("POST", "/v1/collections/notes/documents", {
      documents: [
        { id: "garden", title: "Garden", text: "Flowers in the garden attract insects; one bee visits." },
        { id: "hive", title: "Hive", text: "Bees build the hive; bees dance; a bee guards the flowers." },
      ],
    });
  });
  afterEach(async () => {
    await t.close();
  });

  it("reorders by the reranker when asked, and explains the rerank", async () => {
    const plain = await t.call("POST", "/v1/collections/notes/search", { query: "garden flowers", k: 2 });
    expect(plain.body.hits[0].documentId).toBe("garden");
    expect(plain.body.hits[0].rerank).toBeUndefined();
    const reranked = await t.call("POST", "/v1/collections/notes/search", {
      query: "garden flowers",
      k: 2,
      rerank: true,
    });
    expect(reranked.status).toBe(200);
    expect(reranked.body.degraded).toEqual([]);
    expect(reranked.body.hits.map((h: { documentId: string }) => h.documentId)).toEqual(["hive", "garden"]);
    expect(reranked.body.hits[0].rerank).toMatchObject({ rank: 1, score: 3, firstStageRank: 2 });
    expect(reranked.body.rerank).toMatchObject({ reranker: "test/bee-counter", reranked: 2 });
  });

  it("a service without a reranker refuses rerank with a 400 naming the field", async () => {
    const bare = await createTestApp();
    try {
      await bare.call("PUT", "/v1/collections/x");
      const res = await bare.call("POST", "/v1/collections/x/search", { query: "q", rerank: true });
      expect(res.status).toBe(400);
      expect(res.body.error.fields[0].path).toBe("rerank");
    } finally {
      await bare.close();
    }
  });
});

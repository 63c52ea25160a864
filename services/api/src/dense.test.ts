import type { Embedder, EmbeddingModelProfile } from "@sift/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApp } from "./test-support";

// A deterministic bag-of-words embedder: a double of our own interface (the real model runs in
// socket.test.ts and in @sift/models), so these tests pin the API's behaviour, not a model's.
const profile: EmbeddingModelProfile = {
  id: "test/bag-of-words",
  dimensions: 64,
  pooling: "mean",
  normalize: true,
  queryPrefix: "",
  passagePrefix: "",
  maxTokens: 256,
};
const embedder: Embedder = {
  profile,
  async embed({ texts }) {
    return {
      embeddings: texts.map((text) => {
        const v = new Float32Array(profile.dimensions);
        for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
          let h = 7;
          for (const c of w) h = (h * 31 + c.charCodeAt(0)) % profile.dimensions;
          v[h]! += 1;
        }
        const norm = Math.hypot(...v) || 1;
        return v.map((x) => x / norm);
      }),
      warnings: [],
    };
  },
};

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
    expect(res.body.fusion.method).toBe("rrf");
    const [top] = res.body.hits;
    expect(top.documentId).toBe("tides");
    expect(top.scoreKind).toBe("fused:rrf");
    expect(top.legs.bm25.rank).toBe(1);
    expect(top.legs.dense.rank).toBe(1);
    expect(top.legs.dense.contribution).toBeCloseTo(1 / 61, 10);
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

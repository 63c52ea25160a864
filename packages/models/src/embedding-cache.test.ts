import type { DocumentStore, Embedder, EmbedOptions } from "@sift/core";
import { openStore } from "@sift/store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { embeddingTextHash, estimateEmbeddingCost, withEmbeddingCache } from "./embedding-cache";
import { defaultEmbeddingEntry, describeWithModels, modelStore } from "./test-support";
import { createTransformersEmbedder, type TransformersEmbedder } from "./transformers-embedder";

/** Passes through to the real embedder, recording every text that reaches the model. */
function counting(inner: Embedder & { cacheKey: string }) {
  const seen: string[][] = [];
  return {
    seen,
    embedder: {
      profile: inner.profile,
      cacheKey: inner.cacheKey,
      embed(options: EmbedOptions) {
        seen.push([...options.texts]);
        return inner.embed(options);
      },
    },
  };
}

describeWithModels("withEmbeddingCache (real model, PGlite store)", () => {
  let store: DocumentStore;
  let model: TransformersEmbedder;

  beforeAll(async () => {
    store = await openStore({ driver: "pglite", dataDir: "memory://" });
    await store.migrate();
    model = createTransformersEmbedder({ profile: (await defaultEmbeddingEntry()).profile, modelStore });
  });
  afterAll(() => store.close());

  it("embeds only misses; a second call with the same texts makes no model call", async () => {
    const { embedder, seen } = counting(model);
    const cached = withEmbeddingCache(embedder, store);
    const texts = ["alpha particles", "beta decay", "alpha particles", "gamma rays"];
    const first = await cached.embed({ texts, kind: "passage" });
    expect(seen).toEqual([["alpha particles", "beta decay", "gamma rays"]]);
    expect(first.warnings).toContain("embedding cache: 1 hits, 3 misses");
    expect(first.embeddings[0]).toEqual(first.embeddings[2]);

    const second = await cached.embed({ texts, kind: "passage" });
    expect(seen).toHaveLength(1);
    expect(second.warnings).toEqual(["embedding cache: 4 hits, 0 misses"]);
    expect(second.embeddings).toEqual(first.embeddings);

    await cached.embed({ texts: ["beta decay", "delta waves"], kind: "query" });
    expect(seen[1]).toEqual(["delta waves"]);
    expect(cached.stats).toEqual({ hits: 6, misses: 4 });
    // The vectors come back exactly as the model made them.
    const direct = await model.embed({ texts: ["gamma rays"], kind: "passage" });
    expect(second.embeddings[3]).toEqual(direct.embeddings[0]);
  });

  it("misses under another model key, and keys texts by their prefixed form", async () => {
    const { embedder, seen } = counting(model);
    await withEmbeddingCache(embedder, store).embed({ texts: ["shared text"], kind: "passage" });
    await withEmbeddingCache(embedder, store, { cacheKey: "another-model" }).embed({
      texts: ["shared text"],
      kind: "passage",
    });
    expect(seen).toHaveLength(2);

    const e5 = counting(
      createTransformersEmbedder({
        profile: { ...model.profile, queryPrefix: "query: ", passagePrefix: "passage: " },
        modelStore,
      }),
    );
    const cached = withEmbeddingCache(e5.embedder, store);
    await cached.embed({ texts: ["shared text"], kind: "query" });
    await cached.embed({ texts: ["shared text"], kind: "passage" });
    await cached.embed({ texts: ["shared text"], kind: "query" });
    expect(e5.seen).toEqual([["shared text"], ["shared text"]]);
    const hash = embeddingTextHash("query: shared text");
    expect((await store.getCachedEmbeddings(model.cacheKey, [hash])).get(hash)).toHaveLength(384);
  });

  it("estimates the cost of a model switch from the cache and a measured rate", async () => {
    const chunks = ["one passage", "two passages", "one passage", "three passages here"].map((text) => ({
      text,
    }));
    const fresh = createTransformersEmbedder({ profile: model.profile, modelStore, dtype: "q8" });
    await withEmbeddingCache(fresh, store).embed({ texts: ["two passages"], kind: "passage" });
    const estimate = await estimateEmbeddingCost({ chunks, store, embedder: fresh });
    expect(estimate).toMatchObject({
      cacheKey: fresh.cacheKey,
      chunks: 4,
      cached: 1,
      missing: 3,
      textsToEmbed: 2,
      measured: true,
    });
    expect(estimate.passagesPerSecond).toBeGreaterThan(0);
    expect(estimate.estimatedSeconds).toBeCloseTo(2 / estimate.passagesPerSecond, 6);
    // Nothing is written by an estimate.
    expect((await store.getCachedEmbeddings(fresh.cacheKey, [embeddingTextHash("one passage")])).size).toBe(
      0,
    );

    async function* paged() {
      yield* chunks;
    }
    expect(
      await estimateEmbeddingCost({ chunks: paged(), store, embedder: fresh, passagesPerSecond: 4 }),
    ).toMatchObject({ textsToEmbed: 2, estimatedSeconds: 0.5, measured: false });
  });
});

import type { Embedder } from "@sift/core";
import { bagOfWordsEmbedder } from "@sift/core/testing";
import { describe, expect, it } from "vitest";
import { withQueryEmbeddingCache } from "./query-embedding-cache";

describe("withQueryEmbeddingCache", () => {
  it("embeds a repeated query once, and returns the model's vector", async () => {
    const { embedder, calls, vector } = bagOfWordsEmbedder();
    const cached = withQueryEmbeddingCache(embedder);
    const first = await cached.embed({ texts: ["zinc and colds"], kind: "query" });
    const second = await cached.embed({ texts: ["zinc and colds"], kind: "query" });
    expect(calls.texts).toBe(1);
    expect(second.embeddings[0]).toEqual(vector("zinc and colds"));
    expect(second.embeddings[0]).toBe(first.embeddings[0]);
    expect(cached.stats).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it("holds at most `capacity` queries, evicting the least recently used", async () => {
    const { embedder, calls } = bagOfWordsEmbedder();
    const cached = withQueryEmbeddingCache(embedder, { capacity: 2 });
    const ask = (text: string) => cached.embed({ texts: [text], kind: "query" });
    await ask("a");
    await ask("b");
    await ask("a"); // a is now the most recent
    await ask("c"); // evicts b
    expect(cached.stats.size).toBe(2);
    const before = calls.texts;
    await ask("a");
    expect(calls.texts).toBe(before);
    await ask("b");
    expect(calls.texts).toBe(before + 1);
  });

  it("passes passages and multi-text calls through uncached", async () => {
    const { embedder, calls } = bagOfWordsEmbedder();
    const cached = withQueryEmbeddingCache(embedder);
    await cached.embed({ texts: ["p"], kind: "passage" });
    await cached.embed({ texts: ["p"], kind: "passage" });
    await cached.embed({ texts: ["q", "r"], kind: "query" });
    await cached.embed({ texts: ["q", "r"], kind: "query" });
    expect(calls.texts).toBe(6);
    expect(cached.stats.size).toBe(0);
  });

  it("shares one model call between concurrent identical queries, and does not keep a failure", async () => {
    let calls = 0;
    let fail = true;
    const { embedder: inner } = bagOfWordsEmbedder();
    const flaky: Embedder = {
      profile: inner.profile,
      async embed(request) {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (fail) throw new Error("model down");
        return inner.embed(request);
      },
    };
    const cached = withQueryEmbeddingCache(flaky);
    const ask = () => cached.embed({ texts: ["same"], kind: "query" });
    const both = await Promise.allSettled([ask(), ask()]);
    expect(both.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(calls).toBe(1);
    fail = false;
    const after = await ask();
    expect(calls).toBe(2);
    expect(after.embeddings[0]).toHaveLength(inner.profile.dimensions);
  });
});

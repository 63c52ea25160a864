import type { Reranker } from "@sift/core";
import { describe, expect, it } from "vitest";
import { withRerankCache } from "./rerank-cache";
import { rerankerContract } from "./test-support";

/** Scores by passage length (a stand-in model of our own interface) and records every call. */
function countingReranker(id = "fake:length") {
  const calls: Array<{ query: string; passages: string[] }> = [];
  const reranker: Reranker = {
    id,
    async score(query, passages) {
      calls.push({ query, passages: [...passages] });
      return passages.map((p) => p.length + query.length / 1000);
    },
  };
  return { reranker, calls };
}

describe("withRerankCache", () => {
  rerankerContract(() => withRerankCache(countingReranker().reranker, { maxEntries: 3 }));

  it("scores only the passages it has not seen for this query, in one call, in input order", async () => {
    const { reranker, calls } = countingReranker();
    const cached = withRerankCache(reranker, { maxEntries: 100 });
    const first = await cached.score("q", ["aa", "b", "cccc"]);
    expect(first).toEqual([2.001, 1.001, 4.001]);
    const second = await cached.score("q", ["b", "ddd", "aa", "ddd"]);
    expect(second).toEqual([1.001, 3.001, 2.001, 3.001]);
    // Only "ddd" was new, and it was sent once although it appears twice.
    expect(calls).toEqual([
      { query: "q", passages: ["aa", "b", "cccc"] },
      { query: "q", passages: ["ddd"] },
    ]);
    expect(cached.stats).toMatchObject({ hits: 3, misses: 4, size: 4 });
  });

  it("keys on the query and on the reranker id", async () => {
    const { reranker, calls } = countingReranker();
    const cached = withRerankCache(reranker, { maxEntries: 100 });
    await cached.score("q1", ["x"]);
    await cached.score("q2", ["x"]);
    expect(calls).toHaveLength(2);
    expect(cached.id).toBe("fake:length");
    const other = countingReranker("fake:other");
    const b = withRerankCache(other.reranker, { maxEntries: 100 });
    await b.score("q1", ["x"]);
    expect(other.calls).toHaveLength(1);
  });

  it("evicts the least recently used entry beyond maxEntries", async () => {
    const { reranker, calls } = countingReranker();
    const cached = withRerankCache(reranker, { maxEntries: 2 });
    await cached.score("q", ["a", "b"]);
    await cached.score("q", ["a"]); // touch "a": "b" is now the oldest
    await cached.score("q", ["c"]); // evicts "b"
    expect(cached.stats).toMatchObject({ evictions: 1, size: 2 });
    await cached.score("q", ["a", "b"]);
    expect(calls.at(-1)!.passages).toEqual(["b"]);
  });

  it("caches nothing from a failed call and passes the error on", async () => {
    let fail = true;
    const reranker: Reranker = {
      id: "flaky",
      async score(_q, passages) {
        if (fail) throw new Error("server down");
        return passages.map(() => 1);
      },
    };
    const cached = withRerankCache(reranker, { maxEntries: 10 });
    await expect(cached.score("q", ["a"])).rejects.toThrow("server down");
    expect(cached.stats.size).toBe(0);
    fail = false;
    expect(await cached.score("q", ["a"])).toEqual([1]);
    await expect(cached.score("q", ["a"], AbortSignal.abort(new Error("stop")))).rejects.toThrow("stop");
    expect(() => withRerankCache(reranker, { maxEntries: 0 })).toThrow(RangeError);
  });

  it("rejects a reranker that returns the wrong number of scores", async () => {
    const broken: Reranker = { id: "broken", score: async () => [1] };
    await expect(withRerankCache(broken, { maxEntries: 10 }).score("q", ["a", "b"])).rejects.toThrow(
      /returned 1 scores for 2 passages/,
    );
  });
});

import { describe, expect, it } from "vitest";
import { runLanceDbPeers, type VectorCorpus } from "./lancedb-peer";

// Four chunks of three documents; vectors are one-hot "topics" so the nearest chunk is known exactly.
const topic = (i: number) => Float32Array.from({ length: 4 }, (_, j) => (j === i ? 1 : 0.01));
const corpus: VectorCorpus = {
  model: "test/one-hot",
  chunks: [
    {
      documentId: "fusion",
      text: "Reciprocal rank fusion combines BM25 and dense rankings.",
      vector: topic(0),
    },
    { documentId: "bread", text: "Bake the sourdough bread for forty minutes.", vector: topic(1) },
    { documentId: "bread", text: "Let the bread dough rise overnight.", vector: topic(1) },
    { documentId: "comet", text: "A comet grows a tail of dust near the sun.", vector: topic(2) },
  ],
  queryVectors: new Map([
    ["q-words", topic(3)], // matches no chunk by vector: only its words can find "fusion"
    ["q-vector", topic(2)], // no shared words with any chunk: only the vector finds "comet"
    ["q-syntax", topic(3)],
  ]),
};
const queries = [
  { id: "q-words", text: "reciprocal rank fusion" },
  { id: "q-vector", text: "zzz qqq" },
  // Query text is words, not query syntax: quotes, colons, brackets and operators are taken as text.
  { id: "q-syntax", text: 'what is "rank fusion": (BM25 + dense) -rankings? AND OR*' },
];

describe("the LanceDB peer (real @lancedb/lancedb, embedded)", () => {
  it("runs full-text, vector and hybrid search on the given chunks and vectors, one document per chunk group", {
    timeout: 60_000,
  }, async () => {
    const runs = await runLanceDbPeers(corpus, queries, 10);
    expect(runs.map((r) => r.name)).toEqual(["lancedb-fts", "lancedb-vector", "lancedb-hybrid"]);
    const [fts, vector, hybrid] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    expect(fts.ranked.get("q-words")).toEqual(["fusion"]);
    expect(fts.ranked.get("q-vector")).toEqual([]);
    expect(fts.ranked.get("q-syntax")![0]).toBe("fusion");
    // Exact cosine: the comet chunk first; the two bread chunks count once.
    const byVector = vector.ranked.get("q-vector")!;
    expect(byVector[0]).toBe("comet");
    expect(byVector.filter((d) => d === "bread")).toHaveLength(1);
    expect(new Set(byVector)).toEqual(new Set(["comet", "bread", "fusion"]));
    // Hybrid finds what either side finds: the words for one query, the vector for the other.
    expect(hybrid.ranked.get("q-words")![0]).toBe("fusion");
    expect(hybrid.ranked.get("q-vector")![0]).toBe("comet");
    for (const run of runs) {
      expect(run.latenciesMs).toHaveLength(3);
      expect(run.latenciesMs.every((ms) => ms > 0)).toBe(true);
      expect(run.description).toContain("LanceDB 0.31.0");
    }
  });
});

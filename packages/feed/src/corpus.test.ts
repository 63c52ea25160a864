import { analyzeBm25Document, defaultBm25Config } from "@sift/lexical";
import { createAnalyzer } from "@sift/text";
import { describe, expect, it } from "vitest";
import createWinkEngine from "wink-bm25-text-search";
import { CollectionStatisticsCorpus } from "./corpus";

const analyzer = createAnalyzer();
const documents = [
  { id: 1, title: "Solar panels", body: "Solar power output rises as panel prices fall across Europe." },
  {
    id: 2,
    title: "Wind farms",
    body: "Offshore wind capacity doubled; wind turbines grow taller every year.",
  },
  { id: 3, title: "Grid storage", body: "Batteries store solar and wind power for the evening peak." },
  { id: 4, title: "Bank earnings", body: "Quarterly earnings of the largest banks beat expectations." },
  { id: 5, title: "", body: "Solar solar solar: a very repetitive note on solar power and solar farms." },
];
const queries = [
  "solar power",
  "wind turbines offshore",
  "solar solar wind",
  "earnings banks",
  "nothing matches xyz",
];

/** The reference: wink-bm25-text-search configured as the lexical package configures it. */
const Bm25Index = {
  build(docs: typeof documents, config: typeof defaultBm25Config, a: typeof analyzer) {
    const engine = createWinkEngine();
    engine.defineConfig({
      fldWeights: { title: config.fieldWeights.title, body: config.fieldWeights.body },
      bm25Params: { k1: config.k1, b: config.b, k: 1 },
    });
    engine.definePrepTasks([(input) => (typeof input === "string" ? a.analyze(input) : (input as string[]))]);
    for (const d of docs) engine.addDoc({ title: a.analyze(d.title), body: a.analyze(d.body) }, d.id);
    engine.consolidate(6);
    return {
      search: (query: string, limit: number) =>
        engine.search(query, limit).map(([id, score]) => ({ chunkId: Number(id), score })),
    };
  },
};

function corpusOf(docs: typeof documents) {
  const corpus = new CollectionStatisticsCorpus(analyzer);
  const analyzed = new Map(docs.map((d) => [d.id, analyzeBm25Document(d, analyzer)]));
  for (const chunk of analyzed.values()) corpus.add(chunk);
  return { corpus, analyzed };
}

describe("CollectionStatisticsCorpus", () => {
  it("scores each chunk exactly as the wink BM25 reference index does", () => {
    const index = Bm25Index.build(documents, defaultBm25Config, analyzer);
    const { corpus, analyzed } = corpusOf(documents);
    let compared = 0;
    for (const query of queries) {
      const hits = new Map(index.search(query, 10).map((h) => [h.chunkId, h.score]));
      for (const [id, chunk] of analyzed) {
        const ours = corpus.scoreQuery(query, chunk);
        expect(ours.score).toBeCloseTo(hits.get(id) ?? 0, 5);
        expect(ours.score).toBeLessThanOrEqual(ours.maxScore + 1e-9);
        compared += hits.has(id) ? 1 : 0;
      }
    }
    expect(compared).toBeGreaterThan(8);
  });

  it("names the matched terms and keeps removal symmetric with addition", () => {
    const { corpus, analyzed } = corpusOf(documents);
    const scored = corpus.scoreQuery("solar power storage", analyzed.get(3)!);
    expect(scored.terms).toEqual(["solar", "power", "storag"]);
    corpus.remove(analyzed.get(4)!);
    const without = Bm25Index.build(documents.slice(0, 3).concat(documents[4]!), defaultBm25Config, analyzer);
    const hit = without.search("solar power", 10).find((h) => h.chunkId === 1)!;
    expect(corpus.scoreQuery("solar power", analyzed.get(1)!).score).toBeCloseTo(hit.score, 5);
    expect(corpus.chunkCount).toBe(4);
  });

  it("scores 0 with maxScore 0 when no query term is known to the collection", () => {
    const { corpus, analyzed } = corpusOf(documents);
    expect(corpus.scoreQuery("zebra quux", analyzed.get(1)!)).toEqual({ score: 0, maxScore: 0, terms: [] });
  });
});

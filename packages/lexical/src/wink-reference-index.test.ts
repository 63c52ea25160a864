import { createAnalyzer } from "@sift/text";
import { describe, expect, it } from "vitest";
import { analyzeBm25Document, type Bm25Document, chunkToBm25Document } from "./analyzed-document";
import { defaultBm25Config, resolveBm25Config } from "./config";
import { WINK_MIN_DOCUMENTS, WinkBm25Index, WinkBm25IndexBuilder } from "./wink-reference-index";

const analyzer = createAnalyzer();

const corpus: Bm25Document[] = [
  { id: 1, title: "Volcanoes", body: "Magma rises through the crust and erupts as lava." },
  { id: 2, title: "Weather", body: "Rain, wind and clouds; a volcano ash cloud can ground flights." },
  { id: 3, title: "Cooking pasta", body: "Boil salted water, add the pasta, stir and drain." },
  { id: 4, title: "Running", body: "She runs every morning; runners stretch before a run." },
  { id: 5, title: "Databases", body: "Postgres stores rows in pages; indexes speed up lookups." },
];

describe("WinkBm25Index", () => {
  it("ranks the obviously relevant document first", () => {
    const index = WinkBm25Index.build(corpus, defaultBm25Config, analyzer);
    const hits = index.search("how do I boil pasta", 3);
    expect(hits[0]?.chunkId).toBe(3);
    expect(hits.every((hit) => hit.score > 0)).toBe(true);
  });

  it("lets the analyzer's stemming match other word forms", () => {
    const index = WinkBm25Index.build(corpus, defaultBm25Config, analyzer);
    expect(index.search("running", 5).map((hit) => hit.chunkId)).toEqual([4]);
    expect(index.search("erupting volcanoes", 5)[0]?.chunkId).toBe(1);
  });

  it("weighs title matches by the title weight", () => {
    const documents: Bm25Document[] = [
      { id: 1, title: "Volcano", body: "A mountain that opens onto a magma chamber below it." },
      { id: 2, title: "Mountains", body: "A volcano is one kind of mountain found near plate edges." },
      ...corpus.slice(2).map((document) => ({ ...document, id: document.id + 10 })),
    ];
    const rank = (title: number) =>
      WinkBm25Index.build(documents, resolveBm25Config({ fieldWeights: { title, body: 1 } }), analyzer)
        .search("volcano", 2)
        .map((hit) => hit.chunkId);
    expect(rank(3)).toEqual([1, 2]);
    expect(rank(0.2)).toEqual([2, 1]);
  });

  it("applies the accept callback before the top-k cut", () => {
    const documents = Array.from({ length: 30 }, (_, i) => ({
      id: i + 1,
      title: "",
      // Odd ids mention the term more often and outrank every even id.
      body: i % 2 === 0 ? "alpha alpha alpha beta" : "alpha gamma delta epsilon zeta",
    }));
    const index = WinkBm25Index.build(documents, defaultBm25Config, analyzer);
    const hits = index.search("alpha", 10, (id) => id % 2 === 0);
    expect(hits).toHaveLength(10);
    expect(hits.every((hit) => hit.chunkId % 2 === 0)).toBe(true);
  });

  it("orders ties by ascending chunk id", () => {
    const documents = [9, 3, 7].map((id) => ({ id, title: "", body: "same words here" }));
    const index = WinkBm25Index.build(documents, defaultBm25Config, analyzer);
    expect(index.search("words", 10).map((hit) => hit.chunkId)).toEqual([3, 7, 9]);
  });

  it.each([0, 1, 2])("works with %i documents (padded to wink's minimum of 3)", (count) => {
    expect(WINK_MIN_DOCUMENTS).toBe(3);
    const index = WinkBm25Index.build(corpus.slice(0, count), defaultBm25Config, analyzer);
    expect(index.size).toBe(count);
    const hits = index.search("volcano lava weather rain", 10);
    expect(hits.map((hit) => hit.chunkId).sort()).toEqual([1, 2].slice(0, count));
    // Padding documents never come back, even for a query that matches nothing.
    expect(index.search("zzzz", 10)).toEqual([]);
  });

  it("returns nothing for empty, stop-word-only or punctuation queries, and for limit 0", () => {
    const index = WinkBm25Index.build(corpus, defaultBm25Config, analyzer);
    expect(index.search("", 10)).toEqual([]);
    expect(index.search("the and of a", 10)).toEqual([]);
    expect(index.search(" ?! ", 10)).toEqual([]);
    expect(index.search("pasta", 0)).toEqual([]);
  });

  it("survives an export/import round trip with identical results", () => {
    const index = WinkBm25Index.build(corpus, defaultBm25Config, analyzer);
    const restored = WinkBm25Index.fromJSON(index.toJSON(), index.size, defaultBm25Config, analyzer);
    for (const query of ["volcano ash", "run", "postgres index pages"]) {
      expect(restored.search(query, 5)).toEqual(index.search(query, 5));
    }
  });

  it("builds incrementally, rejecting invalid ids and use after finish", () => {
    const builder = new WinkBm25IndexBuilder(defaultBm25Config, analyzer);
    builder.add(corpus[0]!);
    builder.addAnalyzed(analyzeBm25Document(corpus[1]!, analyzer));
    expect(() => builder.add({ id: 0, title: "", body: "zero" })).toThrow(/positive integer/);
    expect(() => builder.add({ id: 1, title: "", body: "again" })).toThrow(/Duplicate/);
    const index = builder.finish();
    expect(index.size).toBe(2);
    expect(index.search("lava", 5).map((hit) => hit.chunkId)).toEqual([1]);
    expect(() => builder.add(corpus[2]!)).toThrow(/after finish/);
  });

  it("builds the body from the heading path and the chunk text", () => {
    expect(
      chunkToBm25Document({ id: 7, title: null, text: "Body text.", headingPath: ["Guide", "Install"] }),
    ).toEqual({ id: 7, title: "", body: "Guide\nInstall\nBody text." });
    expect(chunkToBm25Document({ id: 8, title: "T", text: "Only text.", headingPath: [] }).body).toBe(
      "Only text.",
    );
  });
});

describe("resolveBm25Config", () => {
  it("fills defaults and rejects values wink would silently replace", () => {
    expect(resolveBm25Config({ k1: 0.9 })).toEqual({ k1: 0.9, b: 0.75, fieldWeights: { title: 2, body: 1 } });
    expect(() => resolveBm25Config({ b: 1.5 })).toThrow(/invalid BM25 configuration/);
    expect(() => resolveBm25Config({ fieldWeights: { title: 0, body: 1 } })).toThrow(/invalid BM25/);
  });
});

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { seededRandom } from "@sift/core";
import { createAnalyzer } from "@sift/text";
import { describe, expect, it } from "vitest";
import { buildSnippet, SnippetBuilder, snippetToHtml } from "./snippet";
import { buildSnippetReference, snippetToHtmlReference } from "./snippet-reference";

const analyzer = createAnalyzer();

describe("buildSnippet", () => {
  it("marks words that analyze to a query term, including stemmed forms", () => {
    const s = buildSnippet({
      text: "Runners were running fast.",
      documentOffset: 10,
      query: "run",
      analyzer,
    });
    expect(s.text).toBe("Runners were running fast.");
    expect(s.highlights.map(([a, b]) => s.text.slice(a, b))).toEqual(["running"]);
    expect(s.charStart).toBe(10);
    expect(s.charEnd).toBe(10 + s.text.length);
  });

  it("centres a long text on the densest window and marks the cuts", () => {
    const filler = "lorem ipsum dolor sit amet ".repeat(40);
    const text = `${filler}the vaccine reduced infection risk in the vaccine group ${filler}`;
    const s = buildSnippet({ text, documentOffset: 0, query: "vaccine infection", analyzer, maxChars: 120 });
    expect(s.text.startsWith("…")).toBe(true);
    expect(s.text.endsWith("…")).toBe(true);
    expect(s.highlights.map(([a, b]) => s.text.slice(a, b))).toEqual(["vaccine", "infection", "vaccine"]);
    // Offsets point back into the document.
    expect(text.slice(s.charStart, s.charEnd)).toBe(s.text.slice(1, -1));
  });

  it("returns the head of the text when nothing matches", () => {
    const s = buildSnippet({ text: "alpha beta gamma", documentOffset: 0, query: "zeta", analyzer });
    expect(s).toEqual({ text: "alpha beta gamma", highlights: [], charStart: 0, charEnd: 16 });
  });

  it("renders escaped HTML with marks", () => {
    const s = buildSnippet({ text: "<b>cells</b> & cell", documentOffset: 0, query: "cell", analyzer });
    expect(snippetToHtml(s)).toBe("&lt;b&gt;<mark>cells</mark>&lt;/b&gt; &amp; <mark>cell</mark>");
  });
});

/** A seeded PRNG (one home: @sift/core), so a failing case can be replayed from its seed. */
const random = seededRandom;

/** Builds the reference and the cached builder's snippet and expects them equal, HTML included. */
function expectSame(builder: SnippetBuilder, query: string, text: string, offset: number, maxChars: number) {
  const want = buildSnippetReference({
    text,
    documentOffset: offset,
    queryTerms: new Set(analyzer.analyze(query)),
    analyzer,
    maxChars,
  });
  const got = builder.build(builder.prepare(query), text, offset);
  expect(got, `${JSON.stringify(query)} in ${JSON.stringify(text)}`).toEqual(want);
  expect(snippetToHtml(got)).toBe(snippetToHtmlReference(want));
  return want.highlights.length;
}

describe("SnippetBuilder equals the per-query analysis it replaced", () => {
  it("on random texts, queries and window sizes, cached or not, through cache evictions", () => {
    const vocabulary = [
      ...["run", "running", "runs", "runner", "cell", "cells", "cellular", "vaccine", "vaccination"],
      ...["the", "a", "of", "not", "is", "naïve", "Ünïcode", "x2", "2024", "COVID-19", "T-cell", "<b>"],
      ...["&amp;", "don't", "e.g.", "IL-6", "β-cell", "über", "flies", "flying", "studies", "studied"],
      "a".repeat(300),
      "mitochondrial",
    ];
    const separators = [" ", " ", " ", ", ", ". ", "\n", " (", ") ", "-", "/", "  "];
    const next = random(20);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    // Per window size: a tiny cache (evicting all the time), the default one (hits from a text's second
    // use on) and none.
    const builders = [12, 40, 120, 240, 333].map((maxChars) => ({
      maxChars,
      builders: [4_000, undefined, 0].map(
        (cacheBytes) => new SnippetBuilder(analyzer, { maxChars, cacheBytes }),
      ),
    }));
    const texts = Array.from({ length: 60 }, () => {
      let text = "";
      for (let words = Math.floor(next() * 400); words > 0; words--)
        text += pick(vocabulary) + pick(separators);
      return text;
    });
    let matched = 0;
    for (let round = 0; round < 1_500; round++) {
      const { maxChars, builders: each } = pick(builders);
      const query = Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(vocabulary)).join(" ");
      const text = pick(texts);
      for (const builder of each) matched += expectSame(builder, query, text, round, maxChars);
    }
    expect(matched).toBeGreaterThan(1_000);
  });

  it("reuses one builder's cache across queries and texts with the default window", () => {
    const next = random(21);
    const words = [
      "cell",
      "cells",
      "growth",
      "the",
      "grow",
      "growing",
      "factor",
      "of",
      "β",
      "tumour",
      "tumor",
    ];
    const builder = new SnippetBuilder(analyzer, { cacheBytes: 20_000 });
    const texts = Array.from({ length: 40 }, () =>
      Array.from(
        { length: 20 + Math.floor(next() * 200) },
        () => words[Math.floor(next() * words.length)],
      ).join(next() < 0.5 ? " " : ", "),
    );
    let matched = 0;
    for (let round = 0; round < 2_000; round++) {
      const query = `${words[Math.floor(next() * words.length)]} ${words[Math.floor(next() * words.length)]}`;
      matched += expectSame(builder, query, texts[Math.floor(next() * texts.length)]!, 7, 240);
    }
    expect(matched).toBeGreaterThan(2_000);
  });

  const corpusFile = fileURLToPath(
    new URL("../../../../shared/datasets/scifact/corpus.jsonl", import.meta.url),
  );
  const queriesFile = fileURLToPath(
    new URL("../../../../shared/datasets/scifact/queries.jsonl", import.meta.url),
  );
  it.skipIf(!existsSync(corpusFile))(
    "on BEIR SciFact: every query against 40 of its documents (half sharing its longest word), twice",
    { timeout: 120_000 },
    () => {
      const lines = (file: string) =>
        readFileSync(file, "utf8")
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => JSON.parse(line) as { text: string });
      const texts = lines(corpusFile).map((row) => row.text);
      const lowered = texts.map((text) => text.toLowerCase());
      const queries = lines(queriesFile)
        .slice(0, 300)
        .map((row) => row.text);
      const builder = new SnippetBuilder(analyzer);
      const next = random(22);
      let matched = 0;
      for (const query of queries) {
        const longest = query
          .toLowerCase()
          .split(/[^\p{L}\p{N}]+/u)
          .reduce((a, b) => (b.length > a.length ? b : a), "");
        const sharing = texts.filter((_, i) => lowered[i]!.includes(longest)).slice(0, 20);
        const sample = Array.from({ length: 20 }, () => texts[Math.floor(next() * texts.length)]!);
        // The second pass reads every text from the cache.
        for (let pass = 0; pass < 2; pass++)
          for (const text of [...sharing, ...sample]) matched += expectSame(builder, query, text, 0, 240);
      }
      expect(matched).toBeGreaterThan(10_000);
    },
  );
});

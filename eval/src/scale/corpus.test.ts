import { matchesFilter } from "@sift/core";
import { describe, expect, it } from "vitest";
import {
  generateDocuments,
  scaleFilters,
  sourceCount,
  splitSentences,
  type Topic,
  takeDocuments,
} from "./corpus";

/** 500 made-up topics, each with its own words, so a document's topic shows in its text. */
const topics: Topic[] = Array.from({ length: 500 }, (_, t) => ({
  title: `Topic ${t}`,
  sentences: Array.from({ length: 6 }, (_, s) => `Sentence ${s} of topic word${t} about subject${t}.`),
}));

describe("the scale corpus generator", () => {
  const documents = takeDocuments(topics, { seed: 7 }, 20_000);

  it("gives the same documents for the same seed, and others for another seed", () => {
    expect(takeDocuments(topics, { seed: 7 }, 200)).toEqual(documents.slice(0, 200));
    const other = takeDocuments(topics, { seed: 8 }, 200);
    expect(other.filter((d, i) => d.text === documents[i]!.text).length).toBeLessThan(5);
    expect(new Set(documents.map((d) => d.externalId)).size).toBe(documents.length);
  });

  it("draws topics with a Zipfian (s = 1) frequency: count ∝ 1 / rank", () => {
    const counts = new Map<number, number>();
    for (const d of documents) counts.set(d.topic, (counts.get(d.topic) ?? 0) + 1);
    const byRank = [...counts.values()].sort((a, b) => b - a);
    // Harmonic number H_500 ≈ 6.79: the top topic holds ~1/6.79 of the documents, the 10th a tenth of that.
    expect(byRank[0]! / documents.length).toBeGreaterThan(0.12);
    expect(byRank[0]! / documents.length).toBeLessThan(0.17);
    expect(byRank[0]! / byRank[9]!).toBeGreaterThan(7);
    expect(byRank[0]! / byRank[9]!).toBeLessThan(13);
    // Least-squares slope of log(count) on log(rank) over the first 100 ranks.
    const points = byRank.slice(0, 100).map((c, r) => [Math.log(r + 1), Math.log(c)] as const);
    const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
    const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
    const slope =
      points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) /
      points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
    expect(slope).toBeGreaterThan(-1.15);
    expect(slope).toBeLessThan(-0.85);
  });

  it("takes most of a document's sentences from its topic", () => {
    const own = documents.slice(0, 2000).map((d) => {
      const sentences = splitSentences(d.text);
      return sentences.filter((s) => s.includes(`word${d.topic} `)).length / sentences.length;
    });
    const share = own.reduce((a, b) => a + b, 0) / own.length;
    expect(share).toBeGreaterThan(0.75);
    expect(share).toBeLessThan(0.9);
  });

  it("spreads sources, dates and tiers evenly", () => {
    const sources = new Map<string, number>();
    for (const d of documents) {
      const source = d.metadata.source;
      sources.set(source, (sources.get(source) ?? 0) + 1);
    }
    const badDates = documents.filter((d) => !/^20(1[5-9]|2[0-4])-\d\d-\d\d$/.test(d.metadata.date));
    expect(badDates).toEqual([]);
    expect(sources.size).toBe(sourceCount);
    const expected = documents.length / sourceCount;
    for (const count of sources.values()) {
      expect(count).toBeGreaterThan(expected * 0.6);
      expect(count).toBeLessThan(expected * 1.4);
    }
    const years = new Set(documents.map((d) => d.metadata.date.slice(0, 4)));
    expect(years.size).toBe(10);
  });

  it("has filters that select about 1 %, 10 % and 50 % of the corpus", () => {
    const share = (name: keyof typeof scaleFilters) =>
      documents.filter((d) => matchesFilter(scaleFilters[name], d.metadata)).length / documents.length;
    expect(share("1%")).toBeGreaterThan(0.007);
    expect(share("1%")).toBeLessThan(0.013);
    expect(share("10%")).toBeGreaterThan(0.09);
    expect(share("10%")).toBeLessThan(0.11);
    expect(share("50%")).toBeGreaterThan(0.48);
    expect(share("50%")).toBeLessThan(0.52);
  });

  it("splits SciFact text at sentence ends, also where the corpus lost the space", () => {
    expect(
      splitSentences("Alterations can affect development.A line scan was applied to measure it. Short."),
    ).toEqual(["Alterations can affect development.", "A line scan was applied to measure it."]);
  });

  it("refuses an empty topic list", () => {
    expect(() => generateDocuments([], { seed: 1 }).next()).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { buildWorld, defaultWorldParameters, hourMs } from "./feed-world";

const corpus = Array.from({ length: 400 }, (_, i) => ({
  id: `d${i}`,
  title: `Title ${i}`,
  text: `First sentence of ${i}. Second sentence about topic ${i % 7}. Third sentence ends it ${i}.`,
}));
const queries = Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, text: `query ${i}` }));
const qrels = new Map(
  queries.map((q, i) => [
    q.id,
    new Map([
      [`d${i * 3}`, 1],
      [`d${i * 3 + 1}`, 0],
    ]),
  ]),
);
const parameters = { ...defaultWorldParameters, analysts: 20 };

describe("the simulated world", () => {
  it("is the same for the same seed and different for another", () => {
    const a = buildWorld(corpus, queries, qrels, parameters);
    const b = buildWorld(corpus, queries, qrels, parameters);
    const c = buildWorld(corpus, queries, qrels, { ...parameters, seed: 2 });
    expect(b.documents.map((d) => d.id)).toEqual(a.documents.map((d) => d.id));
    expect(b.analysts).toEqual(a.analysts);
    expect(c.documents.map((d) => d.id)).not.toEqual(a.documents.map((d) => d.id));
  });

  it("takes relevance only from the qrels and gives copies their original's story", () => {
    const world = buildWorld(corpus, queries, qrels, parameters);
    expect([...world.relevantTo.keys()].sort()).toEqual(queries.map((_, i) => `d${i * 3}`).sort());
    expect(world.copies.size).toBeGreaterThan(0);
    for (const [copy, original] of world.copies) {
      const c = world.documents.find((d) => d.id === copy)!;
      const o = world.documents.find((d) => d.id === original)!;
      expect(c.storyId).toBe(original);
      expect(c.source).not.toBe(o.source);
      expect(c.arrivedAt).toBeGreaterThanOrEqual(o.arrivedAt);
    }
  });

  it("gives desk mates shared hidden queries, states one or two of them, and reads at intervals", () => {
    const world = buildWorld(corpus, queries, qrels, parameters);
    for (const analyst of world.analysts) {
      expect(analyst.hidden).toHaveLength(6);
      expect(analyst.stated.length).toBeGreaterThanOrEqual(1);
      expect(analyst.stated.length).toBeLessThanOrEqual(2);
      expect(analyst.stated.every((q) => analyst.hidden.includes(q))).toBe(true);
      const gaps = analyst.readTimes.slice(1).map((t, i) => t - analyst.readTimes[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2 * hourMs - 1);
    }
    const [first, second] = world.analysts;
    expect(first!.desk).toBe(second!.desk);
    expect(first!.hidden.filter((q) => second!.hidden.includes(q)).length).toBeGreaterThanOrEqual(2);
    const streamed = world.documents.filter((d) => !d.backlog);
    expect(streamed.length).toBeGreaterThan(300);
  });
});

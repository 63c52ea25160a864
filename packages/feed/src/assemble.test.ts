import { describe, expect, it } from "vitest";
import { capPerSource } from "./assemble";
import type { FeedItem } from "./types";

const item = (id: string, source: string | null, score: number): FeedItem => ({
  itemId: id,
  collection: "c",
  documentId: id,
  title: id,
  source,
  publishedAt: 0,
  score,
  features: {
    bm25: 0,
    queryCosine: 0,
    centroid: 0,
    coverage: 0,
    recency: 0,
    sourcePrior: 0,
    avoid: 0,
    coEngagement: 0,
    coRead: 0,
  },
  alsoFrom: [],
  members: [`c/${id}`],
});

describe("capPerSource", () => {
  const ranked = [
    item("a1", "a", 9),
    item("a2", "a", 8),
    item("a3", "a", 7),
    item("n1", null, 6),
    item("b1", "b", 5),
    item("a4", "a", 4),
  ];

  it("moves a source's items over the cap to just after the window, in score order", () => {
    expect(capPerSource(ranked, { window: 4, perSource: 2 }).map((i) => i.itemId)).toEqual([
      "a1",
      "a2",
      "n1",
      "b1",
      "a3",
      "a4",
    ]);
  });

  it("never caps items without a source, and is off with perSource 0", () => {
    const unsourced = [item("x", null, 3), item("y", null, 2), item("z", null, 1)];
    expect(capPerSource(unsourced, { window: 3, perSource: 1 })).toEqual(unsourced);
    expect(capPerSource(ranked, { window: 4, perSource: 0 })).toEqual(ranked);
  });
});

import { describe, expect, it } from "vitest";
import { applyFeedback, defaultLearningOptions, evidenceWeight, syncQueryCentroids } from "./learning";
import type { FeedEvent, LearnedState } from "./types";
import { dot } from "./vectors";

const day = 86_400_000;
const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return new Float32Array(xs.map((x) => x / n));
};
const start: LearnedState = {
  centroids: [
    { id: "q:a", vector: unit(1, 0, 0), mass: 2, updatedAt: 0, origin: { kind: "query", queryId: "a" } },
    { id: "q:b", vector: unit(0, 1, 0), mass: 2, updatedAt: 0, origin: { kind: "query", queryId: "b" } },
  ],
  saved: [],
  avoided: [],
};
const event = (type: FeedEvent["type"], at: number, dwellSeconds: number | null = null) => ({
  type,
  at,
  dwellSeconds,
  documentKey: "c/d",
});

describe("feedback learning", () => {
  it("weighs events: long reads, saves and more-like-this pull; dismisses push; short clicks say nothing", () => {
    expect(evidenceWeight({ type: "dwell", dwellSeconds: 60 })).toBe(1);
    expect(evidenceWeight({ type: "open", dwellSeconds: 5 })).toBe(0);
    expect(evidenceWeight({ type: "open", dwellSeconds: null })).toBe(0);
    expect(evidenceWeight({ type: "save", dwellSeconds: null })).toBe(2);
    expect(evidenceWeight({ type: "less-like-this", dwellSeconds: null })).toBe(-1.5);
    expect(evidenceWeight({ type: "impression", dwellSeconds: null })).toBe(0);
  });

  it("moves only the nearest centroid towards a positive document (Rocchio)", () => {
    const d = unit(0.8, 0.3, 0.1);
    const { learned, centroidId } = applyFeedback(start, event("save", 0), d);
    expect(centroidId).toBe("q:a");
    expect(dot(learned.centroids[0]!.vector, d)).toBeGreaterThan(dot(start.centroids[0]!.vector, d));
    expect(learned.centroids[0]!.mass).toBe(4);
    expect(learned.centroids[1]).toBe(start.centroids[1]);
    expect(Math.hypot(...learned.centroids[0]!.vector)).toBeCloseTo(1, 6);
  });

  it("moves further when the centroid's evidence has decayed (time decay)", () => {
    const d = unit(0.7, 0.7, 0);
    const fresh = applyFeedback(start, event("dwell", 0, 60), d).learned.centroids[0]!;
    const later = applyFeedback(start, event("dwell", 60 * day, 60), d).learned.centroids[0]!;
    expect(dot(later.vector, d)).toBeGreaterThan(dot(fresh.vector, d));
    expect(later.mass).toBeLessThan(fresh.mass);
  });

  it("moves away on 'less like this' and starts a new interest far from every centroid", () => {
    const near = unit(0.9, 0.1, 0.4);
    const away = applyFeedback(start, event("less-like-this", 0), near).learned.centroids[0]!;
    expect(dot(away.vector, near)).toBeLessThan(dot(start.centroids[0]!.vector, near));
    const far = unit(0, 0, 1);
    const spawned = applyFeedback(start, event("save", 5), far);
    expect(spawned.learned.centroids).toHaveLength(3);
    expect(spawned.learned.centroids[2]).toMatchObject({
      mass: 2,
      origin: { kind: "feedback", documentKey: "c/d" },
    });
    const full = { ...defaultLearningOptions, maxCentroids: 2 };
    expect(applyFeedback(start, event("save", 5), far, full).learned.centroids).toHaveLength(2);
  });

  it("keeps query centroids in step with the saved queries", () => {
    const next = syncQueryCentroids(
      start,
      [
        { id: "b", text: "b" },
        { id: "c", text: "c", vector: unit(0, 0, 1) },
      ],
      7,
    );
    expect(next.centroids.map((c) => c.id)).toEqual(["q:c"]);
    const kept = syncQueryCentroids(start, [{ id: "a", text: "a", vector: unit(0, 1, 0) }], 7);
    expect(kept.centroids[0]).toBe(start.centroids[0]);
  });
});

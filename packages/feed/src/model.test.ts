import { seededRandom, ValidationError } from "@sift/core";
import { describe, expect, it } from "vitest";
import { MemoryFeedStore } from "./memory-feed-store";
import { loadModel, type SerializedModel } from "./model";
import {
  buildTrainingGroups,
  estimatePropensities,
  type TrainingGroup,
  trainPairwiseLinear,
} from "./training";
import { type FeatureVector, featureNames } from "./types";

const features = (rng: () => number): FeatureVector =>
  Object.fromEntries(featureNames.map((f) => [f, rng()])) as FeatureVector;

/**
 * Synthetic logs: relevance depends on bm25 and coRead only; clicks follow a position-based model with
 * examination 1/position, so an unbiased learner recovers both the propensities and the preference.
 */
function syntheticGroups(n: number, seed: number): { groups: TrainingGroup[]; theta: number[] } {
  const rng = seededRandom(seed);
  const theta = Array.from({ length: 10 }, (_, k) => 1 / (k + 1));
  const pool = Array.from({ length: 40 }, (_, i) => ({ itemId: `i${i}`, features: features(rng) }));
  const groups: TrainingGroup[] = [];
  for (let g = 0; g < n; g += 1) {
    const shown = [...pool].sort(() => rng() - 0.5).slice(0, 10);
    groups.push({
      requestId: `r${g}`,
      user: `u${g % 7}`,
      at: g,
      items: shown.map((item, k) => {
        const relevance = 0.9 * (item.features.bm25 > 0.6 && item.features.coRead > 0.4 ? 1 : 0) + 0.05;
        const click = rng() < theta[k]! && rng() < relevance;
        return { itemId: item.itemId, position: k + 1, features: item.features, label: click ? 1 : 0 };
      }),
    });
  }
  return { groups, theta };
}

describe("learned ranker", () => {
  it("estimates position-based propensities from click logs (EM)", () => {
    const { groups, theta } = syntheticGroups(3000, 1);
    const estimated = estimatePropensities(groups);
    expect(estimated[0]).toBe(1);
    for (const k of [1, 3, 6, 9]) expect(estimated[k]!).toBeCloseTo(theta[k]!, 1);
  });

  it("trains a pairwise model that prefers what relevance depends on", () => {
    const { groups } = syntheticGroups(2000, 2);
    const model = trainPairwiseLinear(groups, { trainedAt: 1 });
    if (model.kind !== "pairwise-linear") throw new Error("expected a linear model");
    const weight = (f: string) => model.weights[model.features.indexOf(f as never)]!;
    expect(weight("bm25")).toBeGreaterThan(0.3);
    expect(weight("coRead")).toBeGreaterThan(0.3);
    expect(Math.abs(weight("recency"))).toBeLessThan(weight("bm25") / 3);
    expect(model.training.pairs).toBeGreaterThan(100);
  });

  it("round-trips: train, save a version, load it, and serve the same scores", async () => {
    const { groups } = syntheticGroups(500, 3);
    const trained = trainPairwiseLinear(groups, { trainedAt: 42 });
    const store = new MemoryFeedStore();
    const first = await store.saveModel("acme", "default", trained, 1);
    const second = await store.saveModel("acme", "default", JSON.parse(JSON.stringify(trained)), 2);
    expect([first.version, second.version]).toEqual([1, 2]);
    const served = loadModel((await store.getModel("acme", "default"))!.model, "model:default@2");
    const direct = loadModel(trained);
    for (const group of groups.slice(0, 20)) {
      for (const item of group.items) {
        const a = served.score(item.features);
        expect(a.score).toBe(direct.score(item.features).score);
        expect(Object.values(a.contributions).reduce((s, v) => s + (v ?? 0), 0)).toBeCloseTo(a.score, 9);
      }
    }
  });

  it("walks gradient-boosted trees with contributions that add up to the score", () => {
    const model: SerializedModel = {
      format: "sift-feed-model",
      formatVersion: 1,
      kind: "gbdt",
      features: ["bm25", "coRead"],
      base: 0.1,
      trees: [
        {
          feature: 0,
          threshold: 0.5,
          value: 0,
          left: { value: -1 },
          right: { feature: 1, threshold: 0.2, value: 1, left: { value: 0.5 }, right: { value: 2 } },
        },
      ],
      training: { groups: 0, pairs: 0, positives: 0, propensities: [], trainedAt: 0, notes: [] },
    };
    const ranker = loadModel(model);
    const x = (bm25: number, coRead: number) => ({ ...features(() => 0), bm25, coRead });
    expect(ranker.score(x(0.2, 0.9)).score).toBeCloseTo(-0.9, 9);
    const scored = ranker.score(x(0.9, 0.9));
    expect(scored.score).toBeCloseTo(2.1, 9);
    expect(scored.contributions).toEqual({ bm25: 1, coRead: 1 });
  });

  it("refuses a malformed model naming the field", () => {
    const bad = () =>
      loadModel({ format: "sift-feed-model", formatVersion: 1, kind: "pairwise-linear", features: ["bm25"] });
    expect(bad).toThrow(ValidationError);
    try {
      bad();
    } catch (error) {
      expect((error as ValidationError).fields.map((f) => f.path)).toEqual(
        expect.arrayContaining(["mean", "scale", "weights", "training"]),
      );
    }
    expect(() =>
      loadModel({
        format: "sift-feed-model",
        formatVersion: 1,
        kind: "gbdt",
        features: ["bm25"],
        base: 0,
        trees: [{ feature: 3, threshold: 1, value: 0, left: { value: 0 }, right: { value: 1 } }],
        training: { groups: 0, pairs: 0, positives: 0, propensities: [], trainedAt: 0 },
      }),
    ).toThrow(/invalid ranking model/);
  });

  it("labels served items from the events answering them", () => {
    const f = features(() => 0.5);
    const groups = buildTrainingGroups(
      [
        {
          tenant: "t",
          user: "u",
          requestId: "r",
          at: 0,
          ranker: "linear:hybrid",
          items: [
            { itemId: "a", documentKey: "c/a", position: 1, score: 1, features: f },
            { itemId: "b", documentKey: "c/b", position: 2, score: 0.5, features: f },
            { itemId: "c", documentKey: "c/c", position: 3, score: 0.2, features: f },
          ],
        },
      ],
      [
        {
          tenant: "t",
          user: "u",
          type: "open",
          itemId: "a",
          documentKey: "c/a",
          requestId: "r",
          position: 1,
          at: 1,
          dwellSeconds: 4,
          mute: null,
        },
        {
          tenant: "t",
          user: "u",
          type: "dwell",
          itemId: "b",
          documentKey: "c/b",
          requestId: "r",
          position: 2,
          at: 1,
          dwellSeconds: 80,
          mute: null,
        },
        {
          tenant: "t",
          user: "u",
          type: "save",
          itemId: "c",
          documentKey: "c/c",
          requestId: "other",
          position: 1,
          at: 1,
          dwellSeconds: null,
          mute: null,
        },
      ],
    );
    expect(groups[0]!.items.map((i) => i.label)).toEqual([0, 1, 0]);
  });
});

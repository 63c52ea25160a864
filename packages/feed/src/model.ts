import { ValidationError } from "@sift/core";
import { z } from "zod";
import { parseInput } from "./input";
import type { RankedScore, Ranker } from "./ranking";
import { type FeatureName, type FeatureVector, featureNames } from "./types";

/**
 * Learned rankers as data: what `sift feed train` writes (a new version each time) and the service loads.
 * Two kinds, both served here in TypeScript:
 * - `pairwise-linear`: the TypeScript-native pairwise logistic model, `Σ w_f · (x_f − mean_f) / scale_f`;
 * - `gbdt`: a gradient-boosted tree ensemble (LightGBM's `dump_model()` trees, converted by the trainer to
 *   this compact form), walked here; contributions by Saabas' path attribution.
 */
const featureSchema = z.enum(featureNames);

interface TreeNodeJson {
  /** Internal node: feature index into `features`, threshold, and children; leaf: `value`. */
  feature?: number | undefined;
  threshold?: number | undefined;
  /** Which side a missing (NaN) value takes. */
  defaultLeft?: boolean | undefined;
  left?: TreeNodeJson | undefined;
  right?: TreeNodeJson | undefined;
  /** The node's value (leaves: output; internal: the mean output below it, for attributions). */
  value: number;
}

const treeNodeSchema: z.ZodType<TreeNodeJson> = z.lazy(() =>
  z
    .strictObject({
      feature: z.number().int().min(0).optional(),
      threshold: z.number().optional(),
      defaultLeft: z.boolean().optional(),
      left: treeNodeSchema.optional(),
      right: treeNodeSchema.optional(),
      value: z.number(),
    })
    .refine(
      (n) =>
        (n.left === undefined && n.right === undefined && n.feature === undefined) ||
        (n.left !== undefined &&
          n.right !== undefined &&
          n.feature !== undefined &&
          n.threshold !== undefined),
      "a node is a leaf (value only) or has feature, threshold, left and right",
    ),
);

const trainingSummarySchema = z
  .strictObject({
    groups: z.number().int().min(0),
    pairs: z.number().int().min(0),
    positives: z.number().int().min(0),
    /** Examination propensity per position (1-based index − 1), as estimated from the logs. */
    propensities: z.array(z.number()),
    trainedAt: z.number(),
    notes: z.array(z.string()).default([]),
  })
  .strict();

export const serializedModelSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    format: z.literal("sift-feed-model"),
    formatVersion: z.literal(1),
    kind: z.literal("pairwise-linear"),
    features: z.array(featureSchema).min(1),
    mean: z.array(z.number()),
    scale: z.array(z.number().positive()),
    weights: z.array(z.number()),
    training: trainingSummarySchema,
  }),
  z.strictObject({
    format: z.literal("sift-feed-model"),
    formatVersion: z.literal(1),
    kind: z.literal("gbdt"),
    features: z.array(featureSchema).min(1),
    /** Added to the sum of the trees' outputs. */
    base: z.number(),
    trees: z.array(treeNodeSchema).min(1),
    training: trainingSummarySchema,
  }),
]);

export type SerializedModel = z.output<typeof serializedModelSchema>;
export type TrainingSummary = z.output<typeof trainingSummarySchema>;

/** A loaded model: a {@link Ranker} that also knows its serialised form. */
export interface RankingModel extends Ranker {
  readonly serialized: SerializedModel;
}

/** Validates and loads a serialised model (bad input: `ValidationError` naming the field). */
export function loadModel(json: unknown, id = "model"): RankingModel {
  const model = parseInput(serializedModelSchema, json, "ranking model");
  const n = model.features.length;
  if (model.kind === "pairwise-linear") {
    for (const field of ["mean", "scale", "weights"] as const) {
      if (model[field].length !== n) {
        throw new ValidationError("invalid ranking model", [
          { path: field, message: `expected ${n} values` },
        ]);
      }
    }
    return linearModel(model, id);
  }
  for (const [index, tree] of model.trees.entries()) checkTree(tree, n, `trees.${index}`);
  return treeModel(model, id);
}

function checkTree(node: TreeNodeJson, features: number, path: string): void {
  if (node.feature === undefined) return;
  if (node.feature >= features) {
    throw new ValidationError("invalid ranking model", [
      { path: `${path}.feature`, message: "no such feature" },
    ]);
  }
  checkTree(node.left!, features, `${path}.left`);
  checkTree(node.right!, features, `${path}.right`);
}

function linearModel(model: Extract<SerializedModel, { kind: "pairwise-linear" }>, id: string): RankingModel {
  return {
    id,
    serialized: model,
    score(features: FeatureVector): RankedScore {
      let score = 0;
      const contributions: Partial<Record<FeatureName, number>> = {};
      model.features.forEach((feature, i) => {
        const contribution = (model.weights[i]! * (features[feature] - model.mean[i]!)) / model.scale[i]!;
        contributions[feature] = contribution;
        score += contribution;
      });
      return { score, contributions };
    },
  };
}

function treeModel(model: Extract<SerializedModel, { kind: "gbdt" }>, id: string): RankingModel {
  return {
    id,
    serialized: model,
    score(features: FeatureVector): RankedScore {
      const values = model.features.map((f) => features[f]);
      const contributions: Partial<Record<FeatureName, number>> = {};
      let score = model.base;
      for (const tree of model.trees) {
        // Saabas: each split's change of node value is credited to the split's feature; the root's value
        // is the tree's bias (folded into no feature).
        let node = tree;
        score += tree.value;
        while (node.feature !== undefined) {
          const x = values[node.feature]!;
          const next = Number.isNaN(x)
            ? node.defaultLeft === false
              ? node.right!
              : node.left!
            : x <= node.threshold!
              ? node.left!
              : node.right!;
          const feature = model.features[node.feature]!;
          contributions[feature] = (contributions[feature] ?? 0) + (next.value - node.value);
          score += next.value - node.value;
          node = next;
        }
      }
      return { score, contributions };
    },
  };
}

"""Trains the feed's gradient-boosted ranker: LightGBM lambdarank (LambdaMART) with position debiasing.

Usage: feed_lambdarank.py GROUPS.json MODEL.json

GROUPS.json: {"features": [names], "trainedAt": ms, "groups": [{"positions": [0-based], "labels": [grades],
"x": [[feature values]]}]}. Writes the feed's `gbdt` model (see packages/feed/src/model.ts): LightGBM's
dump_model() trees as nested {feature, threshold, defaultLeft, value, left, right} nodes. Parameters are
LightGBM's ranking defaults except the stated ones (a small ensemble for ~10^3-10^4 rows).
"""

import json
import sys

import lightgbm as lgb
import numpy as np


def convert(node):
    if "leaf_value" in node:
        return {"value": float(node["leaf_value"])}
    if node.get("decision_type", "<=") != "<=":
        raise SystemExit(f"unsupported decision type {node.get('decision_type')}")
    return {
        "feature": int(node["split_feature"]),
        "threshold": float(node["threshold"]),
        "defaultLeft": bool(node.get("default_left", True)),
        "value": float(node.get("internal_value", 0.0)),
        "left": convert(node["left_child"]),
        "right": convert(node["right_child"]),
    }


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source) as f:
        data = json.load(f)
    groups = data["groups"]
    x = np.array([row for g in groups for row in g["x"]], dtype=np.float64)
    y = np.array([label for g in groups for label in g["labels"]], dtype=np.float64)
    positions = np.array([p for g in groups for p in g["positions"]], dtype=np.int32)
    sizes = [len(g["labels"]) for g in groups]
    params = {
        "objective": "lambdarank",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 20,
        "lambdarank_truncation_level": 10,
        "num_threads": 2,
        "seed": 1,
        "deterministic": True,
        "verbose": -1,
    }
    dataset = lgb.Dataset(x, label=y, group=sizes, position=positions, feature_name=data["features"])
    booster = lgb.train(params, dataset, num_boost_round=100)
    dump = booster.dump_model()
    trees = [convert(t["tree_structure"]) for t in dump["tree_info"]]
    positives = int((y > 0).sum())
    model = {
        "format": "sift-feed-model",
        "formatVersion": 1,
        "kind": "gbdt",
        "features": data["features"],
        "base": 0.0,
        "trees": trees or [{"value": 0.0}],
        "training": {
            "groups": len(groups),
            "pairs": 0,
            "positives": positives,
            "propensities": [],
            "trainedAt": data["trainedAt"],
            "notes": [f"lightgbm {lgb.__version__} lambdarank, {len(trees)} trees, position-debiased"],
        },
    }
    with open(target, "w") as f:
        json.dump(model, f)


if __name__ == "__main__":
    main()

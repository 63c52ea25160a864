#!/usr/bin/env bash
# `npm start`: run the service on its embedded default (PGlite in .sift-data, no servers needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/scripts/bootstrap.sh
# The embedding model for dense and hybrid search, from the offline model store (cached under
# ~/.cache/sift/models; a warm run checks the files in under a second). Skipped when the model is turned
# off or served elsewhere; if assembling fails, the service still starts, BM25-only, and says why.
if [[ "${SIFT_EMBEDDING_MODEL:-}" != "none" && -z "${SIFT_EMBEDDING_URL:-}" ]]; then
  python3 infra/models/assemble.py >&2 || echo "sift: could not assemble the model store; starting BM25-only" >&2
fi
# The playground the service serves at / (a Vite build, about 2 s), rebuilt when its sources are newer.
page=services/playground/dist/index.html
if [[ ! -f "$page" || -n "$(find services/playground/src services/playground/index.html -newer "$page" -print -quit)" ]]; then
  pnpm --silent --filter @sift/playground build >&2 || echo "sift: could not build the playground; / will say how" >&2
fi
exec pnpm --silent serve

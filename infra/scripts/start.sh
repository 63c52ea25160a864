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
# infra/scripts/build.mjs --service (the service part of `pnpm build`): the service as one JavaScript
# bundle and the playground page, rebuilt (a few seconds) when any source or the lockfile is newer than the
# bundle; then node runs it. (The packages' dist/, for apps outside the workspace, is not needed here.)
bundle=services/api/dist/main.js
if [[ ! -f "$bundle" || ! -f services/playground/dist/index.html || -n "$(find packages/*/src services/*/src services/playground/index.html indexer/src pnpm-lock.yaml -newer "$bundle" -print -quit)" ]]; then
  node infra/scripts/build.mjs --service >&2
fi
exec node --enable-source-maps "$bundle"

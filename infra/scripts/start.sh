#!/usr/bin/env bash
# `npm start`: run the service on its embedded default (PGlite in .sift-data, no servers needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/scripts/bootstrap.sh
exec pnpm --silent serve

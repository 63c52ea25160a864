#!/usr/bin/env bash
# Installs what a fresh machine lacks: pnpm (through npm) and the workspace's dependencies.
# Sourced by start.sh and test.sh; safe to run repeatedly.
set -euo pipefail
PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != 10.* ]]; then
  echo "sift: installing pnpm@${PNPM_VERSION} with npm" >&2
  npm install -g "pnpm@${PNPM_VERSION}" >&2
fi
# onnxruntime-node's install script fetches binaries from the network; it must never run here.
export ONNXRUNTIME_NODE_INSTALL=skip
pnpm install --frozen-lockfile --reporter=append-only >&2

#!/usr/bin/env bash
# Ensures the venv with kubernetes-validate (Kubernetes JSON schemas bundled, so checks run offline) that
# infra/tests/deployment.test.ts uses, and prints its path. It lives under
# ~/.cache/sift/py/infra-<hash of infra/python/requirements.txt> (override the parent with SIFT_PY_CACHE);
# once complete the script touches no network. A cold run installs the pinned wheels from PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$here/python/requirements.txt"
hash="$(sha256sum "$requirements" | cut -c1-12)"
venv="${SIFT_PY_CACHE:-$HOME/.cache/sift/py}/infra-$hash"
if [[ -f "$venv/.complete" ]]; then
  echo "$venv"
  exit 0
fi
echo "infra: creating the Python venv $venv (kubernetes-validate) from PyPI" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"${SIFT_PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$requirements" >&2
"$venv/bin/kubernetes-validate" --version >&2
touch "$venv/.complete"
echo "$venv"

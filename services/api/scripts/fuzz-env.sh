#!/usr/bin/env bash
# Ensures the API fuzzer's Python venv (schemathesis, pinned in services/api/fuzz/requirements.txt) and prints
# its path on stdout. It lives under ~/.cache/sift/py/fuzz-<hash of the requirements> (override the parent
# with SIFT_PY_CACHE); once complete the script touches no network. A cold run installs the wheels from PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$here/fuzz/requirements.txt"
hash="$(sha256sum "$requirements" | cut -c1-12)"
venv="${SIFT_PY_CACHE:-$HOME/.cache/sift/py}/fuzz-$hash"
if [[ -f "$venv/.complete" ]]; then
  echo "$venv"
  exit 0
fi
python="${SIFT_PYTHON:-python3}"
echo "fuzz: creating the Python venv $venv (schemathesis) from PyPI" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$requirements" >&2
"$venv/bin/schemathesis" --version >&2
touch "$venv/.complete"
echo "$venv"

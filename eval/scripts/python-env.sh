#!/usr/bin/env bash
# Ensures the eval harness's Python venv (pytrec_eval for the metric agreement test, bm25s as a peer) and
# prints its path on stdout. The venv lives under ~/.cache/sift/py/eval-<hash of eval/python/requirements.txt>
# (override the parent with SIFT_PY_CACHE); once it is complete the script touches no network, so warm runs
# work offline. A cold run installs the pinned wheels from PyPI. Progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$here/python/requirements.txt"
hash="$(sha256sum "$requirements" | cut -c1-12)"
venv="${SIFT_PY_CACHE:-$HOME/.cache/sift/py}/eval-$hash"
if [[ -f "$venv/.complete" ]]; then
  echo "$venv"
  exit 0
fi
python="${SIFT_PYTHON:-python3}"
echo "eval: creating the Python venv $venv (pytrec_eval, bm25s, lightgbm) from PyPI" >&2
# An interrupted install leaves no marker and is rebuilt from scratch.
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
  -r "$requirements" >&2
"$venv/bin/python" -c "import pytrec_eval, bm25s, Stemmer, lightgbm" >&2
touch "$venv/.complete"
echo "$venv"

#!/usr/bin/env bash
# Reassembles the Sift GPU bundle on the host: checks every part against SHA256SUMS, joins them, unpacks
# the archive into DEST/sift-gpu and decompresses the Node runtime. Needs bash, tar and either xz or
# python3 (whose lzma module stands in for xz); reaches no network.
#
#   bash unpack.sh [--dest DIR]      (default: the current folder)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$PWD"
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest="$2"; shift 2 ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "unpack.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dest"
cd "$here"
shopt -s nullglob
parts=(sift-gpu.tar.xz.part-*)
[ ${#parts[@]} -gt 0 ] || { echo "unpack.sh: no sift-gpu.tar.xz.part-* beside $0" >&2; exit 1; }
expected=$(wc -l < SHA256SUMS)
[ "${#parts[@]}" -eq "$expected" ] || { echo "unpack.sh: ${#parts[@]} parts here, SHA256SUMS lists $expected" >&2; exit 1; }
if command -v sha256sum >/dev/null; then
  sha256sum --quiet -c SHA256SUMS
else
  python3 - <<'PY'
import hashlib, sys
for line in open("SHA256SUMS"):
    digest, name = line.split()
    if hashlib.sha256(open(name, "rb").read()).hexdigest() != digest:
        sys.exit(f"unpack.sh: {name} does not match SHA256SUMS")
PY
fi
echo "unpack.sh: ${#parts[@]} parts verified; unpacking into $dest/sift-gpu"
rm -rf "$dest/sift-gpu"
if command -v xz >/dev/null; then
  cat "${parts[@]}" | xz -dc | tar -x -C "$dest"
  xz -dc "$dest/sift-gpu/bin/node.xz" > "$dest/sift-gpu/bin/node"
else
  cat "${parts[@]}" | python3 -c 'import lzma, sys, tarfile; tarfile.open(fileobj=lzma.open(sys.stdin.buffer), mode="r|").extractall(sys.argv[1])' "$dest"
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$dest/sift-gpu/bin/node.xz" "$dest/sift-gpu/bin/node"
fi
rm "$dest/sift-gpu/bin/node.xz"
chmod +x "$dest/sift-gpu/bin/node" "$dest/sift-gpu/run-bench.sh"
echo "unpack.sh: Node $("$dest/sift-gpu/bin/node" --version) ready; next: $dest/sift-gpu/run-bench.sh [--with-cpu]"

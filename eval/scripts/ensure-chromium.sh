#!/usr/bin/env bash
# The HTML report test opens report.html in Debian's Chromium (/usr/bin/chromium, driven by playwright-core);
# installs it when missing (root, Debian's package archive). A no-op when present.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then exit 0; fi
echo "eval: installing Debian's chromium for the HTML report test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium >&2

#!/usr/bin/env bash
# Regenerates the README's screenshots (docs/images/*.png): runs the two browser tests of
# the web app, which save what the real Chromium shows when SCREENSHOTS_DIR is set. Needs
# what the inner loop needs (./scripts/test.sh --rust-only installs and starts it).
#
#   ./scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/docs/images
mkdir -p "$out"
SCREENSHOTS_DIR=$out ./scripts/test.sh --rust-only -E \
    'package(services-e2e) & (test(real_browser) | test(the_cluster_page_follows))'
for picture in web-app.png cluster-page.png; do
    [ -s "$out/$picture" ] || { echo "screenshots: $picture was not written" >&2; exit 1; }
done
ls -l "$out"

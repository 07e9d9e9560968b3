#!/bin/sh
# Build the vendored bpmn-js Modeler that landflow serves itself (no CDN; the modeler page works offline).
#
#   scripts/build-modeler.sh                 npm ci from the pinned package-lock.json, then copy
#   scripts/build-modeler.sh --no-install    copy from the node_modules already installed (tests use this)
#   scripts/build-modeler.sh ... DIR         write into DIR instead of api/web/static/vendor/bpmn-js
#
# It copies bpmn-js's own prebuilt bundle (dist/bpmn-modeler.production.min.js, the version pinned in
# package.json / package-lock.json) and its stylesheets and font, unchanged, and writes SHA256SUMS.
# tests/web/test_modeler_vendor.py checks that the committed files match SHA256SUMS and that this script
# reproduces them byte for byte. Upgrading bpmn-js: change the pin, `npm install`, run this, commit.
set -eu
cd "$(dirname "$0")/.."
install=yes
if [ "${1:-}" = "--no-install" ]; then install=no; shift; fi
out=${1:-api/web/static/vendor/bpmn-js}
if [ "$install" = yes ]; then
    npm ci --ignore-scripts --no-audit --no-fund
fi
src=node_modules/bpmn-js
want=$(sed -n 's/.*"bpmn-js": *"\([^"]*\)".*/\1/p' package.json)
have=$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$src/package.json")
if [ "$want" != "$have" ]; then
    echo "node_modules has bpmn-js $have, package.json pins $want: run without --no-install" >&2
    exit 1
fi
rm -rf "$out"
mkdir -p "$out/assets/bpmn-font/css" "$out/assets/bpmn-font/font"
cp "$src/dist/bpmn-modeler.production.min.js" "$out/"
cp "$src/LICENSE" "$out/LICENSE"
cp "$src/dist/assets/bpmn-js.css" "$src/dist/assets/diagram-js.css" "$out/assets/"
cp "$src/dist/assets/bpmn-font/css/bpmn.css" "$out/assets/bpmn-font/css/"
for f in bpmn.eot bpmn.svg bpmn.ttf bpmn.woff bpmn.woff2; do
    cp "$src/dist/assets/bpmn-font/font/$f" "$out/assets/bpmn-font/font/"
done
(cd "$out" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum > SHA256SUMS)
echo "bpmn-js $have -> $out"

#!/usr/bin/env bash
# Vendor the web UI's third-party assets from the npm registry into anfu/web/static/vendor/.
# Run by hand when upgrading (needs npm and the registry); the result is committed, so the
# service never downloads anything at run time and needs no build step.
#   scripts/vendor_assets.sh            # the pinned versions below
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX=2.0.11
ALPINE_CSP=3.17.4
ECHARTS=5.6.0
DEST=anfu/web/static/vendor

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() {  # fetch NAME VERSION -> unpacked folder
    local name=$1 version=$2 dir="$tmp/${1//\//_}"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$name@$version" >/dev/null && tar xzf ./*.tgz)
    echo "$dir/package"
}

mkdir -p "$DEST/echarts/i18n"
pkg=$(fetch htmx.org "$HTMX")
cp "$pkg/dist/htmx.min.js" "$DEST/htmx.min.js"
cp "$pkg/LICENSE" "$DEST/htmx.LICENSE"

pkg=$(fetch @alpinejs/csp "$ALPINE_CSP")
cp "$pkg/dist/cdn.min.js" "$DEST/alpine-csp.min.js"
# The @alpinejs/csp tarball ships no LICENSE file; Alpine is MIT (package.json "license"), and
# alpine.LICENSE holds the MIT text. Refuse to continue if the licence ever changes.
node -e 'const p=require(process.argv[1]); if (p.license !== "MIT") { console.error(p.license); process.exit(1) }' \
    "$pkg/package.json"

pkg=$(fetch echarts "$ECHARTS")
# The full build includes the SVG renderer (init(el, theme, {renderer: "svg"})) and the
# built-in ZH and EN locales; i18n/ keeps the standalone locale files for reference.
cp "$pkg/dist/echarts.min.js" "$DEST/echarts/echarts.min.js"
cp "$pkg/i18n/langEN.js" "$DEST/echarts/i18n/langEN.js"
cp "$pkg/i18n/langZH.js" "$DEST/echarts/i18n/langZH.js"
cp "$pkg/LICENSE" "$DEST/echarts/LICENSE"
cp "$pkg/NOTICE" "$DEST/echarts/NOTICE"

(cd "$DEST" && sha256sum htmx.min.js alpine-csp.min.js echarts/echarts.min.js echarts/i18n/*.js > SHA256SUMS)
echo "vendored htmx.org $HTMX, @alpinejs/csp $ALPINE_CSP, echarts $ECHARTS into $DEST"

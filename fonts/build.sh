#!/usr/bin/env bash
# Regenerates the TTF files of this folder from the WOFF files of the npm package
# typeface-titillium-web (SIL Open Font License 1.1, see OFL.txt).
# Needs npm and Debian's woff-tools (woff2sfnt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent typeface-titillium-web@1.1.13 >/dev/null && tar xzf typeface-titillium-web-*.tgz)
f="$tmp/package/files/titillium-web-latin"
woff2sfnt "$f-400.woff" >"$here/TitilliumWeb-Regular.ttf"
woff2sfnt "$f-700.woff" >"$here/TitilliumWeb-Bold.ttf"
woff2sfnt "$f-400italic.woff" >"$here/TitilliumWeb-Italic.ttf"
woff2sfnt "$f-700italic.woff" >"$here/TitilliumWeb-BoldItalic.ttf"

#!/usr/bin/env bash
# Reproduces the vendored API reference viewer from the npm package redoc
# (Redocly): the standalone bundle and its licence.
#
#   bash internal/http/apidocs/build.sh          # version in REDOC_VERSION
#   bash internal/http/apidocs/build.sh 3.0.1
#
# Needs npm and a network connection to the npm registry. The page loads
# nothing from the internet: faldone serves the bundle itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${1:-$(cat "$here/REDOC_VERSION")}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "redoc@$version" >/dev/null && tar xzf "redoc-$version.tgz")
pkg="$tmp/package"
got="$(node -p "require('$pkg/package.json').version")"
lic="$(node -p "require('$pkg/package.json').license")"
[ "$got" = "$version" ] || { echo "npm gave version $got, not $version" >&2; exit 1; }
[ "$lic" = "MIT" ] || { echo "unexpected licence $lic" >&2; exit 1; }
sed -e '/sourceMappingURL=/d' "$pkg/bundles/redoc.standalone.js" >"$here/redoc.standalone.js"
cp "$pkg/LICENSE" "$here/redoc-LICENSE.txt"
echo "$version" >"$here/REDOC_VERSION"

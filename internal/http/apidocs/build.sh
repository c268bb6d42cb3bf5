#!/usr/bin/env bash
# Reproduces the vendored API reference viewer from the npm package redoc
# (Redocly): the standalone bundle and its licence.
#
#   bash internal/http/apidocs/build.sh          # version in REDOC_VERSION
#   bash internal/http/apidocs/build.sh 2.5.4
#
# Needs npm and a network connection to the npm registry. The page loads
# nothing from the internet: faldone serves the bundle itself. One change
# to the bundle: the Redocly logo of the sidebar's footer, which it would
# fetch from a CDN, becomes an empty data: URL (the image then hides
# itself). Redoc 3 is not used: it sends telemetry to Redocly.
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
sed -e '/^\/\/# sourceMappingURL=/d' -e 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:,#g' \
  "$pkg/bundles/redoc.standalone.js" >"$here/redoc.standalone.js"
if grep -q -E 'cdn\.redoc\.ly|otel\.cloud' "$here/redoc.standalone.js"; then
  echo "the bundle still loads from a CDN or sends telemetry" >&2
  exit 1
fi
cp "$pkg/LICENSE" "$here/redoc-LICENSE.txt"
cp "$pkg/bundles/redoc.standalone.js.LICENSE.txt" "$here/redoc-THIRD-PARTY-LICENSES.txt"
echo "$version" >"$here/REDOC_VERSION"

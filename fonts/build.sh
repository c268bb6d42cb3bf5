#!/usr/bin/env bash
# Rebuilds the TTF files of this folder. Nothing is downloaded from the web:
# Titillium Web and Roboto Mono come from the npm registry (the @fontsource
# packages, SIL Open Font License 1.1), DejaVu Sans from Debian's
# fonts-dejavu-core (Bitstream Vera licence, see LICENSE-DejaVu.txt).
# Needs npm and Debian's fonttools, python3-fonttools, python3-brotli and
# fonts-dejavu-core.
#
#   TitilliumWeb-*.ttf   the "latin" and "latin-ext" subsets of each weight and
#                        style merged into one font (fontTools' merger)
#   RobotoMono-Regular   the "latin" subset, for SHA-256 digests and ids
#   DejaVuSans-*.ttf     the fallback for Greek, Cyrillic and symbols: DejaVu
#                        Sans cut to the Basic Multilingual Plane blocks below
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
# A fixed time in the fonts' head tables makes the build repeatable.
export SOURCE_DATE_EPOCH=1700000000
(cd "$tmp" && npm pack --silent @fontsource/titillium-web@5.3.0 @fontsource/roboto-mono@5.3.0 >/dev/null)
for p in "$tmp"/*.tgz; do d="${p%.tgz}"; mkdir -p "$d"; tar xzf "$p" -C "$d"; done
tw="$tmp/fontsource-titillium-web-5.3.0/package/files/titillium-web"
rm="$tmp/fontsource-roboto-mono-5.3.0/package/files/roboto-mono"

"$py" - "$tmp" "$here" "$tw" "$rm" <<'PY'
import sys
from fontTools.ttLib import TTFont
from fontTools.merge import Merger

tmp, out, tw, rm = sys.argv[1:5]

def ttf(src, dst):
    f = TTFont(src, recalcTimestamp=False)
    f.flavor = None
    f.save(dst)
    return dst

for weight, style, name in [("400", "normal", "Regular"), ("700", "normal", "Bold"),
                            ("400", "italic", "Italic"), ("700", "italic", "BoldItalic")]:
    parts = [ttf(f"{tw}-{sub}-{weight}-{style}.woff", f"{tmp}/{sub}-{weight}-{style}.ttf")
             for sub in ("latin", "latin-ext")]
    merged = Merger().merge(parts)
    # U+00AD (soft hyphen) drawn with the hyphen's glyph: the renderer sets
    # the hyphen of a word it breaks at a line end as U+00AD, which readers of
    # tagged PDF join into one word (ISO 32000-1 14.8.2.2.3).
    for t in merged["cmap"].tables:
        if t.isUnicode() and 0x2D in t.cmap and 0xAD not in t.cmap:
            t.cmap[0xAD] = t.cmap[0x2D]
    merged.recalcTimestamp = False
    merged["head"].modified = merged["head"].created
    merged.save(f"{out}/TitilliumWeb-{name}.ttf")

ttf(f"{rm}-latin-400-normal.woff", f"{out}/RobotoMono-Regular.ttf")
PY

# The blocks of the fallback: Latin and its extensions, IPA and combining
# marks, Greek, Cyrillic, punctuation, currency, letterlike, number forms,
# arrows, mathematical operators, technical, box drawing, geometric shapes,
# symbols and dingbats.
blocks="U+0000-036F,U+0370-03FF,U+0400-052F,U+1E00-1FFF,U+2000-23FF,U+2500-27BF,U+2C60-2C7F,U+A720-A7FF,U+FB00-FB06"
for w in "" "-Bold"; do
  pyftsubset "/usr/share/fonts/truetype/dejavu/DejaVuSans$w.ttf" --unicodes="$blocks" \
    --layout-features='*' --no-hinting --output-file="$here/DejaVuSans$w.ttf"
done

cp "$tmp/fontsource-titillium-web-5.3.0/package/LICENSE" "$here/OFL.txt"
cp "$tmp/fontsource-roboto-mono-5.3.0/package/LICENSE" "$here/OFL-RobotoMono.txt"
cp /usr/share/doc/fonts-dejavu-core/copyright "$here/LICENSE-DejaVu.txt"

# What the new fonts draw, for validation without parsing them at start.
(cd "$here/.." && go test ./fonts -run TestCoverageTable -update)

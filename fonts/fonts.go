// Package fonts embeds the typefaces of faldone's documents and answers which
// characters they can draw.
//
//   - Titillium Web, the typeface of the Italian public administration's
//     visual identity (Designers Italia), with its Latin and Latin Extended
//     glyphs: the text of every document (SIL Open Font License 1.1, OFL.txt).
//   - DejaVu Sans, cut to the Basic Multilingual Plane's Latin, Greek,
//     Cyrillic, punctuation and symbol blocks: the fallback for a text that
//     holds a character Titillium Web lacks (Bitstream Vera licence with
//     public-domain changes, LICENSE-DejaVu.txt).
//   - Roboto Mono: SHA-256 digests and document ids (SIL Open Font License
//     1.1, OFL-RobotoMono.txt).
//
// build.sh rebuilds every file from the npm registry and the Debian archive.
package fonts

import (
	_ "embed"
	"encoding/binary"
	"sync"

	"golang.org/x/image/font/sfnt"
)

// Family is the font family name the renderer registers Titillium Web under.
const Family = "titillium"

// FallbackFamily is the family name of the fallback, DejaVu Sans.
const FallbackFamily = "dejavu"

// MonoFamily is the family name of Roboto Mono.
const MonoFamily = "robotomono"

var (
	//go:embed TitilliumWeb-Regular.ttf
	regular []byte
	//go:embed TitilliumWeb-Bold.ttf
	bold []byte
	//go:embed TitilliumWeb-Italic.ttf
	italic []byte
	//go:embed TitilliumWeb-BoldItalic.ttf
	boldItalic []byte
	//go:embed DejaVuSans.ttf
	fallback []byte
	//go:embed DejaVuSans-Bold.ttf
	fallbackBold []byte
	//go:embed RobotoMono-Regular.ttf
	mono []byte
	//go:embed OFL.txt
	license []byte
)

// Faces holds the faces of the documents' typefaces.
type Faces struct {
	Regular, Bold, Italic, BoldItalic []byte // Titillium Web
	Fallback, FallbackBold            []byte // DejaVu Sans
	Mono                              []byte // Roboto Mono
}

// All returns every embedded face. The slices are the embedded files
// themselves, shared by every caller: read them, never write to them. The
// PDF writer parses each face once per process and cuts each document's
// subsets from its own parsed copy.
func All() Faces {
	return Faces{
		Regular: regular, Bold: bold, Italic: italic, BoldItalic: boldItalic,
		Fallback: fallback, FallbackBold: fallbackBold,
		Mono: mono,
	}
}

// License returns the text of the SIL Open Font License that covers Titillium Web.
func License() string { return string(license) }

// Coverage tells which characters a face has a glyph for.
type Coverage struct{ bits [1 << 16 / 64]uint64 }

// Has reports whether r has a glyph. Characters beyond the Basic
// Multilingual Plane never have one: the PDF writer cannot embed them.
func (c *Coverage) Has(r rune) bool {
	if r < 0 || r >= 1<<16 {
		return false
	}
	return c.bits[r/64]&(1<<(r%64)) != 0
}

func coverage(fonts ...[]byte) *Coverage {
	c := &Coverage{}
	var buf sfnt.Buffer
	for _, b := range fonts {
		f, err := sfnt.Parse(b)
		if err != nil {
			panic("fonts: embedded font does not parse: " + err.Error())
		}
		for r := rune(0); r < 1<<16; r++ {
			if gi, err := f.GlyphIndex(&buf, r); err == nil && gi != 0 {
				c.bits[r/64] |= 1 << (r % 64)
			}
		}
	}
	return c
}

var (
	covOnce      sync.Once
	covTitillium *Coverage // both weights of Titillium Web
	covAny       *Coverage // both weights of Titillium Web, or both of the fallback
)

func intersect(a, b *Coverage) *Coverage {
	c := &Coverage{}
	for i := range c.bits {
		c.bits[i] = a.bits[i] & b.bits[i]
	}
	return c
}

// computeCoverage works out what Main and Printable answer from the
// fonts themselves (a few milliseconds): coverage.bin keeps the result.
func computeCoverage() (main, any *Coverage) {
	main = intersect(coverage(regular), coverage(bold))
	fb := intersect(coverage(fallback), coverage(fallbackBold))
	any = &Coverage{}
	for i := range any.bits {
		any.bits[i] = main.bits[i] | fb.bits[i]
	}
	return main, any
}

// coverageBin is computeCoverage's result, Main's bits then Printable's,
// little-endian: a command that checks one letter's text need not go
// through every character of four fonts first. The package's tests check
// it against the fonts (go test ./fonts -update rewrites it).
//
//go:embed coverage.bin
var coverageBin []byte

// decodeCoverage reads coverage.bin.
func decodeCoverage(b []byte) (main, any *Coverage, ok bool) {
	main, any = &Coverage{}, &Coverage{}
	n := len(main.bits)
	if len(b) != 2*8*n {
		return nil, nil, false
	}
	for i := range n {
		main.bits[i] = binary.LittleEndian.Uint64(b[8*i:])
		any.bits[i] = binary.LittleEndian.Uint64(b[8*(n+i):])
	}
	return main, any, true
}

// encodeCoverage is the inverse of decodeCoverage.
func encodeCoverage(main, any *Coverage) []byte {
	b := make([]byte, 0, 16*len(main.bits))
	for _, c := range []*Coverage{main, any} {
		for _, w := range c.bits {
			b = binary.LittleEndian.AppendUint64(b, w)
		}
	}
	return b
}

func loadCoverage() {
	covOnce.Do(func() {
		var ok bool
		if covTitillium, covAny, ok = decodeCoverage(coverageBin); !ok {
			covTitillium, covAny = computeCoverage()
		}
	})
}

// Main returns the characters Titillium Web draws in both weights; a text
// holding any other character is set in the fallback.
func Main() *Coverage {
	loadCoverage()
	return covTitillium
}

// Printable reports whether some embedded face draws r, in regular and
// bold: Titillium Web, or else the fallback. Control characters other than
// the newline and the tab are not printable.
func Printable(r rune) bool {
	if r == '\n' || r == '\t' {
		return true
	}
	if r < 0x20 || (r >= 0x7f && r < 0xa0) {
		return false
	}
	loadCoverage()
	return covAny.Has(r)
}

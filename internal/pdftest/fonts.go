package pdftest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"faldone/internal/testenv"
)

// FontChecker checks the font clauses of PDF/A-2 (ISO 19005-2 6.2.11) on
// PDFs, with independent tools: mupdf's mutool extracts each embedded font
// program and traces the glyphs every page shows, the OpenType Sanitizer
// (ots-sanitize, Debian opentype-sanitizer) and fontTools (Debian
// python3-fonttools) read each font program. Check the PDFs one by one,
// then call Programs once: fontTools starts slowly, so it reads every font
// program of every PDF in one run.
type FontChecker struct {
	tb       testing.TB
	mutool   string
	ots      string
	dir      string
	programs map[string]string // font file -> the PDF it came from
}

// NewFontChecker returns a checker; the tools it needs must be installed.
func NewFontChecker(tb testing.TB) *FontChecker {
	tb.Helper()
	return &FontChecker{
		tb:       tb,
		mutool:   testenv.Tool(tb, "mutool"),
		ots:      testenv.Tool(tb, "ots-sanitize"),
		dir:      tb.TempDir(),
		programs: map[string]string{},
	}
}

var (
	fontDictRe = regexp.MustCompile(`(?s)<<\s*/Type\s*/Font\b.*?>>`)
	descRe     = regexp.MustCompile(`(?s)<<\s*/Type\s*/FontDescriptor\b.*?>>`)
	nameKeyRe  = regexp.MustCompile(`/(BaseFont|FontName)\s*/([^\s/\[\]<>()]+)`)
	subsetRe   = regexp.MustCompile(`^[A-Z]{6}\+[A-Za-z0-9._-]+$`)
	subtypeRe  = regexp.MustCompile(`/Subtype\s*/(\w+)`)
	glyphRe    = regexp.MustCompile(`<g unicode="([^"]*)" glyph="([^"]*)"`)
)

// Check returns what in pdf breaks a font clause, each problem naming the
// clause; name labels the problems. It also keeps the PDF's font programs
// for Programs.
//
//   - 6.2.11.4.1: every font is embedded: each font descriptor has a
//     FontFile2 (the writer embeds TrueType programs only), and no simple
//     font lacks a descriptor (the standard 14 fonts are not embedded).
//   - 6.2.11.4 with ISO 32000-1 9.6.4: a subset's BaseFont and FontName are
//     "ABCDEF+Name", six uppercase letters and a plus sign.
//   - 6.2.11.7.2: every Type 0 font has a ToUnicode CMap, and every glyph
//     mupdf traces maps to a character.
//   - 6.2.11.8: no text shows glyph 0, .notdef (mupdf resolves the CIDs
//     through the CIDToGIDMap itself).
//   - The embedded programs: ots-sanitize accepts each one.
func (c *FontChecker) Check(name string, pdf []byte) []string {
	tb := c.tb
	tb.Helper()
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}

	// The dictionaries: the writer and the seal never put them in object streams.
	fonts := fontDictRe.FindAll(pdf, -1)
	if len(fonts) == 0 {
		bad("no font dictionaries")
	}
	type0 := 0
	for _, f := range fonts {
		st := subtypeRe.FindSubmatch(f)
		if st == nil {
			bad("6.2.11: font without /Subtype: %s", f)
			continue
		}
		switch string(st[1]) {
		case "Type0":
			type0++
			if !bytes.Contains(f, []byte("/ToUnicode")) {
				bad("6.2.11.7.2: Type 0 font without /ToUnicode: %s", f)
			}
		case "CIDFontType2":
			if !bytes.Contains(f, []byte("/CIDToGIDMap")) {
				bad("6.2.11.3.2: CIDFontType2 without /CIDToGIDMap: %s", f)
			}
		default:
			if !bytes.Contains(f, []byte("/FontDescriptor")) {
				bad("6.2.11.4.1: %s font without a descriptor, so not embedded: %s", st[1], f)
			}
		}
		for _, m := range nameKeyRe.FindAllSubmatch(f, -1) {
			if !subsetRe.Match(m[2]) {
				bad("6.2.11.4: subset named /%s %s, not ABCDEF+Name", m[1], m[2])
			}
		}
	}
	descs := descRe.FindAll(pdf, -1)
	for _, d := range descs {
		if !bytes.Contains(d, []byte("/FontFile2 ")) {
			bad("6.2.11.4.1: font descriptor without an embedded program: %s", d)
		}
		for _, m := range nameKeyRe.FindAllSubmatch(d, -1) {
			if !subsetRe.Match(m[2]) {
				bad("6.2.11.4: subset named /%s %s, not ABCDEF+Name", m[1], m[2])
			}
		}
	}

	// The programs, as mutool extracts them.
	dir := filepath.Join(c.dir, fmt.Sprintf("%d", len(c.programs)))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(c.mutool, "extract", p)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%s: mutool extract: %v\n%s", name, err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "font-*"))
	sort.Strings(files)
	if len(files) != len(descs) {
		bad("6.2.11.4.1: mutool extracted %d font programs for %d font descriptors", len(files), len(descs))
	}
	for _, f := range files {
		if filepath.Ext(f) != ".ttf" {
			bad("font program %s is not TrueType", filepath.Base(f))
			continue
		}
		c.programs[f] = name
		if out, err := exec.Command(c.ots, f, os.DevNull).CombinedOutput(); err != nil {
			bad("ots-sanitize rejects %s: %v\n%s", filepath.Base(f), err, out)
		}
	}

	// The glyphs every page shows.
	out, err := exec.Command(c.mutool, "draw", "-F", "trace", "-o", "-", p).Output()
	if err != nil {
		tb.Fatalf("%s: mutool draw -F trace: %v", name, err)
	}
	gs := glyphRe.FindAllSubmatch(out, -1)
	if len(gs) == 0 {
		bad("mutool traced no glyph")
	}
	for _, g := range gs {
		if string(g[2]) == "0" || string(g[2]) == ".notdef" {
			bad("6.2.11.8: a text shows glyph 0 (.notdef), unicode %q", g[1])
		}
		if len(g[1]) == 0 || string(g[1]) == "&#xfffd;" || string(g[1]) == "\uFFFD" {
			bad("6.2.11.7.2: glyph %s maps to no character", g[2])
		}
	}
	return problems
}

// fontToolsScript reads each font program named on the command line with
// fontTools: the best cmap, then every table and glyph decompiled (the XML
// dump reads them all). It prints one line per program that fails.
const fontToolsScript = `
import io, sys
from fontTools.ttLib import TTFont
bad = 0
for path in sys.argv[1:]:
    try:
        f = TTFont(path, lazy=False)
        cmap = f.getBestCmap()
        if not cmap:
            raise ValueError("no Unicode cmap")
        glyphs = set(f.getGlyphOrder())
        for cp, g in cmap.items():
            if g not in glyphs or g == f.getGlyphOrder()[0]:
                raise ValueError("U+%04X maps to %r" % (cp, g))
        f.saveXML(io.StringIO())
    except Exception as e:
        bad += 1
        print("%s: %s: %s" % (path, type(e).__name__, e))
sys.exit(1 if bad else 0)
`

// Programs reads every font program kept by Check with fontTools and
// returns a problem for each one it cannot read.
func (c *FontChecker) Programs() []string {
	tb := c.tb
	tb.Helper()
	if len(c.programs) == 0 {
		return nil
	}
	py := "/usr/bin/python3" // Debian's, which has python3-fonttools
	if _, err := os.Stat(py); err != nil {
		py = testenv.Tool(tb, "python3")
	}
	if err := exec.Command(py, "-c", "import fontTools").Run(); err != nil {
		testenv.Missing(tb, "fontTools is not installed (Debian: python3-fonttools)")
	}
	var paths []string
	for p := range c.programs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out, err := exec.Command(py, append([]string{"-c", fontToolsScript}, paths...)...).CombinedOutput()
	if err == nil {
		return nil
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		file, _, _ := strings.Cut(line, ":")
		problems = append(problems, fmt.Sprintf("%s: fontTools cannot read %s", c.programs[file], line))
	}
	return problems
}

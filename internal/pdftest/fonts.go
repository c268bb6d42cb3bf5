package pdftest

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
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
	programs map[string]*program // by font file
}

// program is an extracted font program and the glyphs the PDF shows with it.
type program struct {
	PDF    string          `json:"pdf"`
	Font   string          `json:"font"`
	Widths map[int]float64 `json:"widths"` // glyph id -> width the PDF's /W gives it, in em
	path   string
}

// NewFontChecker returns a checker; the tools it needs must be installed.
func NewFontChecker(tb testing.TB) *FontChecker {
	tb.Helper()
	return &FontChecker{
		tb:       tb,
		mutool:   testenv.Tool(tb, "mutool"),
		ots:      testenv.Tool(tb, "ots-sanitize"),
		dir:      tb.TempDir(),
		programs: map[string]*program{},
	}
}

var (
	fontDictRe = regexp.MustCompile(`(?s)<<\s*/Type\s*/Font\b.*?>>`)
	descRe     = regexp.MustCompile(`(?s)(\d+) 0 obj\s*(<<\s*/Type\s*/FontDescriptor\b.*?>>)`)
	nameKeyRe  = regexp.MustCompile(`/(BaseFont|FontName)\s*/([^\s/\[\]<>()]+)`)
	subsetRe   = regexp.MustCompile(`^[A-Z]{6}\+[A-Za-z0-9._-]+$`)
	subtypeRe  = regexp.MustCompile(`/Subtype\s*/(\w+)`)
	glyphRe    = regexp.MustCompile(`<g unicode="([^"]*)" glyph="([^"]*)"`)
	wArrayRe   = regexp.MustCompile(`/W\s*\[((?:[^\[\]]|\[[^\[\]]*\])*)\]`)
	spanRe     = regexp.MustCompile(`<span font="([^"]*)"`)
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
//   - 6.2.11.5: the widths a CIDFont's /W gives its characters are, through
//     its CIDToGIDMap, those of the glyphs in the font program (checked by
//     Programs).
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
	var cidFonts [][]byte
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
			cidFonts = append(cidFonts, f)
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
	descs := descRe.FindAllSubmatch(pdf, -1)
	byName := map[string]*program{}
	dir := filepath.Join(c.dir, fmt.Sprintf("%d", len(c.programs)))
	for _, m := range descs {
		d := m[2]
		if !bytes.Contains(d, []byte("/FontFile2 ")) {
			bad("6.2.11.4.1: font descriptor without an embedded program: %s", d)
		}
		for _, n := range nameKeyRe.FindAllSubmatch(d, -1) {
			if !subsetRe.Match(n[2]) {
				bad("6.2.11.4: subset named /%s %s, not ABCDEF+Name", n[1], n[2])
			}
			// mutool extract names a program after its descriptor's object.
			num, _ := strconv.Atoi(string(m[1]))
			byName[string(n[2])] = &program{PDF: name, Font: string(n[2]), Widths: map[int]float64{},
				path: filepath.Join(dir, fmt.Sprintf("font-%04d.ttf", num))}
		}
	}

	// The widths of each CIDFont, by glyph of its program.
	for _, f := range cidFonts {
		desc, gidMap := refRe("FontDescriptor").FindSubmatch(f), refRe("CIDToGIDMap").FindSubmatch(f)
		w := wArrayRe.FindSubmatch(f)
		if desc == nil || gidMap == nil || w == nil {
			bad("6.2.11.5: CIDFont without /FontDescriptor, /CIDToGIDMap or /W: %s", f)
			continue
		}
		var prog *program
		descNum, _ := strconv.Atoi(string(desc[1]))
		for _, p := range byName {
			if filepath.Base(p.path) == fmt.Sprintf("font-%04d.ttf", descNum) {
				prog = p
			}
		}
		m, err := streamOf(pdf, string(gidMap[1]))
		if prog == nil || err != nil {
			bad("6.2.11.5: CIDFont's descriptor or CIDToGIDMap unreadable (%v): %s", err, f)
			continue
		}
		for cid, width := range parseW(string(w[1])) {
			if 2*cid+1 >= len(m) {
				bad("6.2.11.5: /W gives a width to character %d, beyond the CIDToGIDMap", cid)
				continue
			}
			if gid := int(m[2*cid])<<8 | int(m[2*cid+1]); gid != 0 {
				prog.Widths[gid] = float64(width) / 1000
			}
		}
	}

	for _, p := range byName {
		if len(p.Widths) == 0 {
			bad("6.2.11.5: no widths read for font %s", p.Font)
		}
	}

	// The programs, as mutool extracts them.
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
	known := map[string]*program{}
	for _, p := range byName {
		known[p.path] = p
	}
	for _, f := range files {
		if filepath.Ext(f) != ".ttf" {
			bad("font program %s is not TrueType", filepath.Base(f))
			continue
		}
		if known[f] == nil {
			bad("font program %s belongs to no font descriptor", filepath.Base(f))
			known[f] = &program{PDF: name, Widths: map[int]float64{}, path: f}
		}
		c.programs[f] = known[f]
		if out, err := exec.Command(c.ots, f, os.DevNull).CombinedOutput(); err != nil {
			bad("ots-sanitize rejects %s: %v\n%s", filepath.Base(f), err, out)
		}
	}

	// The glyphs every page shows.
	out, err := exec.Command(c.mutool, "draw", "-F", "trace", "-o", "-", p).Output()
	if err != nil {
		tb.Fatalf("%s: mutool draw -F trace: %v", name, err)
	}
	glyphs := 0
	for _, line := range bytes.Split(out, []byte("\n")) {
		if m := spanRe.FindSubmatch(line); m != nil {
			if byName[string(m[1])] == nil {
				bad("6.2.11.4.1: text in font %s, which has no embedded program", m[1])
			}
			continue
		}
		g := glyphRe.FindSubmatch(line)
		if g == nil {
			continue
		}
		glyphs++
		if string(g[2]) == "0" || string(g[2]) == ".notdef" {
			bad("6.2.11.8: a text shows glyph 0 (.notdef), unicode %q", g[1])
		}
		if len(g[1]) == 0 || string(g[1]) == "&#xfffd;" || string(g[1]) == "\uFFFD" {
			bad("6.2.11.7.2: glyph %s maps to no character", g[2])
		}
	}
	if glyphs == 0 {
		bad("mutool traced no glyph")
	}
	return problems
}

// fontToolsScript reads the font programs listed in the JSON file named on
// the command line with fontTools: the best cmap, then every table and glyph
// decompiled (the XML dump reads them all), the embedding permission, and
// the advance of every glyph the PDF shows against the width the PDF gives
// it (ISO 19005-2 6.2.11.5; a thousandth of an em of rounding allowed). It
// prints one line per problem.
const fontToolsScript = `
import io, json, sys
from fontTools.ttLib import TTFont
bad = 0
for path, p in sorted(json.load(open(sys.argv[1])).items()):
    try:
        f = TTFont(path, lazy=False)
        cmap = f.getBestCmap()
        if not cmap:
            raise ValueError("no Unicode cmap")
        order = f.getGlyphOrder()
        for cp, g in cmap.items():
            if g not in order or g == order[0]:
                raise ValueError("U+%04X maps to %r" % (cp, g))
        f.saveXML(io.StringIO())
        if f["OS/2"].fsType & 0x0002:
            raise ValueError("6.2.11.4.1: restricted licence embedding (fsType %#x)" % f["OS/2"].fsType)
        upem = f["head"].unitsPerEm
        for gid, adv in sorted((int(k), v) for k, v in p["widths"].items()):
            own = f["hmtx"][order[gid]][0] * 1000.0 / upem
            if abs(own - adv * 1000) > 1:
                raise ValueError("6.2.11.5: glyph %d is %.1f wide in the font program, %.1f in the PDF" % (gid, own, adv * 1000))
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
	list, err := json.Marshal(c.programs)
	if err != nil {
		tb.Fatal(err)
	}
	listFile := filepath.Join(c.dir, "programs.json")
	if err := os.WriteFile(listFile, list, 0o600); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(py, "-c", fontToolsScript, listFile).CombinedOutput()
	if err == nil {
		return nil
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		file, _, _ := strings.Cut(line, ":")
		pdf := ""
		if p := c.programs[file]; p != nil {
			pdf = p.PDF
		}
		problems = append(problems, fmt.Sprintf("%s: fontTools: %s", pdf, line))
	}
	return problems
}

func refRe(key string) *regexp.Regexp {
	return regexp.MustCompile(`/` + key + `\s+(\d+)\s+0\s+R`)
}

// streamOf returns the decoded (FlateDecode) stream of object num.
func streamOf(pdf []byte, num string) ([]byte, error) {
	i := bytes.Index(pdf, []byte("\n"+num+" 0 obj"))
	if i < 0 {
		return nil, fmt.Errorf("object %s not found", num)
	}
	j := bytes.Index(pdf[i:], []byte("stream\n"))
	k := bytes.Index(pdf[i:], []byte("\nendstream"))
	if j < 0 || k < j {
		return nil, fmt.Errorf("object %s has no stream", num)
	}
	r, err := zlib.NewReader(bytes.NewReader(pdf[i+j+len("stream\n") : i+k]))
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", num, err)
	}
	return io.ReadAll(r)
}

// parseW reads the content of a CIDFont's /W array: "c [w1 w2 ...]" and
// "first last w".
func parseW(s string) map[int]int {
	out := map[int]int{}
	tok := regexp.MustCompile(`\[|\]|-?\d+(?:\.\d+)?`).FindAllString(s, -1)
	num := func(s string) int { f, _ := strconv.ParseFloat(s, 64); return int(f + 0.5) }
	for i := 0; i+1 < len(tok); {
		c := num(tok[i])
		if tok[i+1] == "[" {
			j := i + 2
			for ; j < len(tok) && tok[j] != "]"; j++ {
				out[c+j-i-2] = num(tok[j])
			}
			i = j + 1
			continue
		}
		if i+2 >= len(tok) {
			break
		}
		for k := c; k <= num(tok[i+1]); k++ {
			out[k] = num(tok[i+2])
		}
		i += 3
	}
	return out
}

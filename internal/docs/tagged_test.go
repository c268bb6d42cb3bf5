package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/pdftest"
)

// The tagging tests read every kind back as assistive technology would,
// with independent tools: poppler's structure tree (pdfinfo -struct-text),
// qpdf's objects and content streams, and pdftotext's text.

// outlines are the top-level structure elements of the Loiano samples, in
// reading order.
var outlines = map[string]string{
	"adesione":     "P P P P P H1 P P P H2 L Table Table P P P P P",
	"assessment":   "P P H1 Table P Table Table Figure P Table Table Table P P P",
	"piano":        "P P H1 Table Table P H2 P L Table Table Table Table Table Table P P P P P P P",
	"approvazione": "P P P P P H1 P Table Table P P P Figure P P P P",
	"chiusura":     "P P H1 Table Table P H2 P Figure Table H2 P Table P H2 Table Table P H2 P P P P P P P",
}

// squeeze drops the white space of s: poppler puts spaces and line breaks
// differently in its two readings of the same text.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u00ad' {
			return -1
		}
		return r
	}, s)
}

// TestTaggedReadingOrder renders every kind in every language (the English
// one as a draft; German not under the race detector) and checks its tags (ISO 14289-1): the outline of
// headings, paragraphs, lists, tables and figures in order; tables, lists
// and figures built as PDF/UA wants them; the tree's text in the order the
// page draws it, with nothing left out but the page furniture (footer,
// page labels, draft band, repeated table headers); every painting
// operator of every page marked; the catalog and the pages' entries; qpdf
// and mutool accept the file.
func TestTaggedReadingOrder(t *testing.T) {
	r := MustRenderer(t)
	langs := []string{"it", "en", "de"}
	if raceEnabled {
		langs = langs[:2] // Italian final and English draft
	}
	for _, lang := range langs {
		for _, k := range kinds {
			t.Run(lang+"/"+k, func(t *testing.T) {
				var opts []docs.Option
				if lang == "en" {
					opts = append(opts, docs.Draft())
				}
				res, err := r.Render(context.Background(), faldone.Kind(k), sample(t, "loiano", k), lang, opts...)
				if err != nil {
					t.Fatal(err)
				}
				checkTagged(t, res.PDF, lang, outlines[k])
			})
		}
	}
}

func checkTagged(t *testing.T, pdf []byte, lang, outline string) {
	t.Helper()
	doc := pdftest.StructTree(t, pdf)
	if doc.Type != "Document" {
		t.Fatalf("structure tree root is %s, want Document", doc.Type)
	}
	var got []string
	for _, n := range doc.Elements() {
		got = append(got, n.Type)
	}
	if g := strings.Join(got, " "); g != outline {
		t.Errorf("outline\n got %s\nwant %s", g, outline)
	}
	checkShapes(t, doc)

	// The tree's text is the page's text in the order it is drawn; what is
	// drawn and not in the tree is page furniture only.
	raw := squeeze(pdftest.RawText(t, pdf))
	pos := 0
	var residue []string
	doc.Walk(func(n *pdftest.StructNode) {
		for _, s := range n.Text {
			q := squeeze(s)
			i := strings.Index(raw[pos:], q)
			if i < 0 {
				t.Errorf("%s %q is not drawn after %q", n.Type, s, raw[max(0, pos-60):pos])
				continue
			}
			if i > 0 {
				residue = append(residue, raw[pos:pos+i])
			}
			pos += i + len(q)
		}
	})
	residue = append(residue, raw[pos:])
	furniture := furnitureOf(t, pdf, doc)
	for _, r := range residue {
		rest := r
		for changed := true; changed && rest != ""; {
			changed = false
			for _, f := range furniture {
				if f != "" && strings.HasPrefix(rest, f) {
					rest, changed = rest[len(f):], true
				}
			}
		}
		if rest != "" {
			t.Errorf("text outside the structure tree: %q (in %q)", rest, r)
		}
	}

	problems, mcids := pdftest.Unmarked(t, pdf)
	for _, p := range problems {
		t.Error(p)
	}
	if mcids == 0 {
		t.Error("no marked content with an MCID")
	}

	alts := checkCatalog(t, pdf, lang)
	if !bytes.Contains(pdf, []byte("<pdfuaid:part>1</pdfuaid:part>")) {
		t.Error("the XMP metadata does not declare PDF/UA-1 (pdfuaid:part)")
	}
	// Every figure's alternate text states every figure it draws (a
	// chart's values as printed), and a QR code's its URL.
	doc.Walk(func(n *pdftest.StructNode) {
		if n.Type != "Figure" {
			return
		}
		var want []string
		for _, k := range n.Kids {
			if k.Type == "#text" {
				want = append(want, regexp.MustCompile(`\S*\d\S*`).FindAllString(strings.Join(k.Text, " "), -1)...)
			}
		}
		if len(want) == 0 {
			want = []string{"https://"}
		}
		for _, a := range alts {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(a, w)
			}
			if ok {
				return
			}
		}
		t.Errorf("no figure's alternate text states all of %q (alternate texts %q)", want, alts)
	})
	pdftest.QPDFCheck(t, pdf)
	p := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mutool", "info", p).CombinedOutput(); err != nil || regexp.MustCompile(`(?i)error|warning`).Match(out) {
		t.Errorf("mutool info: %v\n%s", err, out)
	}
}

// checkShapes checks the build of tables, lists and headings.
func checkShapes(t *testing.T, doc *pdftest.StructNode) {
	t.Helper()
	level := 0
	doc.Walk(func(n *pdftest.StructNode) {
		kids := func() string {
			var s []string
			for _, k := range n.Elements() {
				s = append(s, k.Type)
			}
			return strings.Join(s, " ")
		}
		switch n.Type {
		case "H1", "H2", "H3":
			l := int(n.Type[1] - '0')
			if l > level+1 {
				t.Errorf("%s after H%d: a heading level is skipped", n.Type, level)
			}
			level = l
		case "Table":
			if !regexp.MustCompile(`^(Caption )?TR( TR)*$`).MatchString(kids()) {
				t.Errorf("Table with kids %s", kids())
			}
		case "TR":
			if !regexp.MustCompile(`^(TH|TD)( TH| TD)*$`).MatchString(kids()) {
				t.Errorf("TR with kids %s", kids())
			}
		case "TH":
			if !strings.Contains(strings.Join(n.Attrs, " "), "/Scope") {
				t.Errorf("TH %q without /Scope", n.AllText())
			}
		case "L":
			if !regexp.MustCompile(`^(Caption )?LI( LI)*$`).MatchString(kids()) {
				t.Errorf("L with kids %s", kids())
			}
			if !strings.Contains(strings.Join(n.Attrs, " "), "/ListNumbering") {
				t.Error("L without /ListNumbering")
			}
		case "LI":
			if kids() != "Lbl LBody" {
				t.Errorf("LI with kids %s", kids())
			}
		case "Figure":
			if !strings.Contains(strings.Join(n.Attrs, " "), "/BBox") {
				t.Error("Figure without /BBox")
			}
		}
	})
}

// furnitureOf is what a page may draw outside the structure tree, squeezed:
// the lines of the footer and the draft band (read from the page, outside
// the body) and the header rows of the tables, which are repeated on the
// pages a table continues on.
func furnitureOf(t *testing.T, pdf []byte, doc *pdftest.StructNode) []string {
	t.Helper()
	var out []string
	for _, ws := range bboxPages(t, pdf) {
		lines := map[float64]string{}
		var ys []float64
		for _, w := range ws {
			if w.y0 > 297*mm-30*mm || w.y1 < 28*mm { // footer; draft band
				if _, ok := lines[w.y0]; !ok {
					ys = append(ys, w.y0)
				}
				lines[w.y0] += w.s
			}
		}
		for _, y := range ys {
			out = append(out, squeeze(lines[y]))
		}
	}
	doc.Walk(func(n *pdftest.StructNode) {
		if n.Type != "Table" {
			return
		}
		for _, tr := range n.Elements() {
			if tr.Type == "TR" && len(tr.Kids) > 0 && strings.Contains(strings.Join(tr.Kids[0].Attrs, " "), "/Column") {
				out = append(out, squeeze(strings.Join(tr.AllText(), "")))
			}
		}
	})
	return out
}

// checkCatalog checks, with qpdf's reading of the objects, the entries
// PDF/UA wants of the catalog, the pages and the figures.
func checkCatalog(t *testing.T, pdf []byte, lang string) (alts []string) {
	t.Helper()
	objs := pdftest.Objects(t, pdf)
	var cat map[string]any
	var pages []map[string]any
	figures := 0
	for _, v := range objs {
		d, ok := v.(map[string]any)
		if !ok {
			continue
		}
		switch {
		case d["/Type"] == "/Catalog":
			cat = d
		case d["/Type"] == "/Page":
			pages = append(pages, d)
		case d["/S"] == "/Figure":
			figures++
			alt, _ := d["/Alt"].(string)
			if len(strings.TrimPrefix(alt, "u:")) < 10 {
				t.Errorf("figure with alternate text %q", alt)
			}
			alts = append(alts, strings.TrimPrefix(alt, "u:"))
		}
	}
	if cat == nil {
		t.Fatal("no catalog")
	}
	if mi, _ := cat["/MarkInfo"].(map[string]any); mi == nil || mi["/Marked"] != true {
		t.Errorf("catalog /MarkInfo = %v", cat["/MarkInfo"])
	}
	if cat["/Lang"] != "u:"+lang {
		t.Errorf("catalog /Lang = %v, want %s", cat["/Lang"], lang)
	}
	if vp, _ := cat["/ViewerPreferences"].(map[string]any); vp == nil || vp["/DisplayDocTitle"] != true {
		t.Errorf("catalog /ViewerPreferences = %v", cat["/ViewerPreferences"])
	}
	root, _ := cat["/StructTreeRoot"].(string)
	str, _ := objs["obj:"+root].(map[string]any)
	if str == nil || str["/ParentTree"] == nil {
		t.Fatalf("structure tree root %v without /ParentTree", str)
	}
	if got, want := fmt.Sprint(str["/ParentTreeNextKey"]), fmt.Sprint(len(pages)); got != want {
		t.Errorf("/ParentTreeNextKey = %s, want %s", got, want)
	}
	seen := map[string]bool{}
	for _, p := range pages {
		if p["/Tabs"] != "/S" {
			t.Errorf("page without /Tabs /S: %v", p["/Tabs"])
		}
		k := fmt.Sprint(p["/StructParents"])
		if p["/StructParents"] == nil || seen[k] {
			t.Errorf("page /StructParents = %v", p["/StructParents"])
		}
		seen[k] = true
	}
	info := pdftest.Info(t, pdf)
	if !regexp.MustCompile(`(?m)^Title:\s+\S`).MatchString(info) {
		t.Errorf("no title in the document information:\n%s", info)
	}
	if figures == 0 && bytes.Contains(pdf, []byte("/Figure")) {
		t.Error("qpdf reads no Figure element")
	}
	return alts
}

// TestForeignNamesTagged renders letters for Fiè allo Sciliar/Völs am
// Schlern, a comune of Alto Adige with a German official name: in an Italian
// letter every occurrence of the German name is a Span with /Lang de, in a
// German one the Italian name a Span with /Lang it, and the pages look as
// they would untagged (the words where maroto puts them: the visual
// regression and reading-order checks pass on these letters too).
func TestForeignNamesTagged(t *testing.T) {
	r := MustRenderer(t)
	body := strings.NewReplacer(`"037034"`, `"021031"`, `"c_e655"`, `"c_d571"`, `"Loiano"`, `"Fiè allo Sciliar"`).Replace(string(sample(t, "loiano", "adesione")))
	for _, tc := range []struct{ lang, phrase, spanLang string }{
		{"it", "Völs am Schlern", "de"},
		{"de", "Fiè allo Sciliar", "it"},
	} {
		res, err := r.Render(context.Background(), faldone.KindAdesione, []byte(body), tc.lang)
		if err != nil {
			t.Fatal(err)
		}
		spans := 0
		for _, v := range pdftest.Objects(t, res.PDF) {
			d, _ := v.(map[string]any)
			if d["/S"] == "/Span" {
				spans++
				if d["/Lang"] != "u:"+tc.spanLang {
					t.Errorf("%s: Span with /Lang %v, want %s", tc.lang, d["/Lang"], tc.spanLang)
				}
			}
		}
		tree := pdftest.StructTree(t, res.PDF)
		var spanText []string
		tree.Walk(func(n *pdftest.StructNode) {
			if n.Type == "Span" {
				spanText = append(spanText, strings.Join(n.AllText(), ""))
			}
		})
		occurrences := strings.Count(strings.Join(tree.AllText(), " "), tc.phrase)
		if spans == 0 || len(spanText) != spans {
			t.Errorf("%s: %d Span objects, poppler reads %d", tc.lang, spans, len(spanText))
		}
		for _, s := range spanText {
			if squeeze(s) != squeeze(tc.phrase) {
				t.Errorf("%s: Span text %q, want %q", tc.lang, s, tc.phrase)
			}
		}
		if occurrences != spans {
			t.Errorf("%s: %d Spans for %d occurrences of %q in the tree's text", tc.lang, spans, occurrences, tc.phrase)
		}
		checkTagged(t, res.PDF, tc.lang, outlines["adesione"])
	}
}

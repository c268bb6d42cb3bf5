package samples

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/tmpl"
	"faldone/internal/tmpl/tmpltest"
)

// TestFontsArePDFA2 checks the font clauses of PDF/A-2 (ISO 19005-2
// 6.2.11, see pdftest.FontChecker) on every sample PDF and on a sealed
// document of every kind: fonts fully embedded, subsets named ABCDEF+Name,
// a ToUnicode CMap for every font, no glyph 0 in any text, and font
// programs that ots-sanitize and fontTools read whole.
func TestFontsArePDFA2(t *testing.T) {
	c := pdftest.NewFontChecker(t)
	var problems []string
	samples, err := filepath.Glob("*/*.pdf")
	if err != nil || len(samples) == 0 {
		t.Fatalf("no sample PDFs: %v", err)
	}
	for _, p := range samples {
		pdf, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		problems = append(problems, c.Check(p, pdf)...)
	}
	sealed := sealedKinds(t, "loiano")
	for kind, pdf := range sealed {
		problems = append(problems, c.Check("sealed "+kind, pdf)...)
	}
	problems = append(problems, c.Programs()...)
	for _, p := range problems {
		t.Error(p)
	}

	// The checker fails a file whose subset has no tag, or whose font
	// program is damaged...
	pdf, err := os.ReadFile(samples[0])
	if err != nil {
		t.Fatal(err)
	}
	untagged := regexp.MustCompile(`/BaseFont /[A-Z]{6}\+`).ReplaceAllLiteral(pdf, []byte("/BaseFont /abcdef-"))
	if p := c.Check("untagged", untagged); len(p) == 0 {
		t.Error("the checker accepts subsets without a tag")
	}
	i := bytes.Index(pdf, []byte("/Length1 "))
	j := i + bytes.Index(pdf[i:], []byte("stream\n")) + len("stream\n")
	damaged := bytes.Clone(pdf)
	for k := j + 200; k < j+600 && k < len(damaged); k++ {
		damaged[k] ^= 0x5a
	}
	if p := c.Check("damaged", damaged); len(p) == 0 {
		t.Error("the checker accepts a damaged font program")
	}
	// ... and one whose widths are not the font program's.
	w := bytes.Index(pdf, []byte("/W ["))
	loc := regexp.MustCompile(`\[ \d+ (\d\d\d) `).FindSubmatchIndex(pdf[w+4:])
	wide := bytes.Clone(pdf)
	copy(wide[w+4+loc[2]:], "999")
	c2 := pdftest.NewFontChecker(t)
	if p := append(c2.Check("wide", wide), c2.Programs()...); len(p) == 0 {
		t.Error("the checker accepts widths that are not the font program's")
	}
}

// sealedKinds renders and seals (PAdES B-B, with the development seal) the
// documents of one comune's story, each citing the one before.
func sealedKinds(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	set := tmpltest.Set(t)
	r := &docs.Renderer{Templates: set, Version: faldone.Version}
	key, _, err := keys.DevSeal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sealer := &seal.Sealer{Key: key, Logger: slog.New(slog.DiscardHandler)}
	out := map[string][]byte{}
	var chain []*faldone.Record // oldest first
	for _, kind := range set.Kinds() {
		body, err := os.ReadFile(filepath.Join(dir, kind+".json"))
		if err != nil {
			t.Fatal(err)
		}
		data, err := tmpl.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		var opts []docs.Option
		if t0, _ := set.Template(kind); t0.Cites != "" {
			opts = append(opts, docs.Cited(chain[len(chain)-1]))
			if kind == string(faldone.KindChiusura) {
				opts = append(opts, docs.Dossier(chain))
			}
		}
		res, err := r.RenderData(context.Background(), faldone.Kind(kind), data, "", opts...)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		d := res.Document
		pdf, _, err := sealer.Seal(context.Background(), res.PDF, &d)
		if err != nil {
			t.Fatalf("seal %s: %v", kind, err)
		}
		out[kind] = pdf
		chain = append(chain, &faldone.Record{ID: kind + strings.ReplaceAll(dir, "-", "") + "01", Version: 1, Kind: d.Kind, Comune: d.Comune,
			Oggetto: d.Oggetto, Protocol: d.Protocol, Date: d.Date.Format("2006-01-02"), SHA256: d.SHA256, Input: d.Input})
	}
	return out
}

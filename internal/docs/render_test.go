package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/pdftest"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// MustRenderer returns a renderer on the embedded templates.
func MustRenderer(tb testing.TB) *docs.Renderer {
	tb.Helper()
	reg, err := comuni.Default()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		tb.Fatal(err)
	}
	set.Version = faldone.Version
	return &docs.Renderer{Templates: set, Version: faldone.Version}
}

var kinds = []string{"adesione", "assessment", "piano", "approvazione"}

// seedComuni are the five comuni of the seed documents, by sample directory.
var seedComuni = []struct{ dir, name, istat string }{
	{"banari", "Banari", "090007"},
	{"casaletto-spartano", "Casaletto Spartano", "065027"},
	{"loiano", "Loiano", "037034"},
	{"san-calogero", "San Calogero", "102032"},
	{"suvereto", "Suvereto", "049020"},
}

func sample(tb testing.TB, dir, kind string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "samples", dir, kind+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestReadLikeAPerson renders every sample and reads it back with poppler:
// the comune's name and ISTAT code, the Italian long date, accented letters
// and the euro sign, and the page count, in every kind; qpdf finds every
// file sound.
func TestReadLikeAPerson(t *testing.T) {
	r := MustRenderer(t)
	for _, c := range seedComuni {
		for _, k := range kinds {
			t.Run(c.dir+"/"+k, func(t *testing.T) {
				res, err := r.Render(context.Background(), faldone.Kind(k), sample(t, c.dir, k), "")
				if err != nil {
					t.Fatal(err)
				}
				text := pdftest.Text(t, res.PDF)
				flat := strings.Join(strings.Fields(text), " ")
				longDate := tmpl.FormatDate("it", res.Document.Date, true)
				for _, want := range []string{c.name, c.istat, longDate, "à", "è", "€", "Documento informatico firmato digitalmente"} {
					if !strings.Contains(flat, want) {
						t.Errorf("text lacks %q", want)
					}
				}
				// Every non-ASCII letter of the input survives into the text.
				for _, r := range string(sample(t, c.dir, k)) {
					if r > 127 && !strings.ContainsRune(text, r) {
						t.Errorf("text lacks %q, present in the input", r)
					}
				}
				if strings.Contains(flat, "<no value>") || strings.Contains(flat, "common.") || strings.Contains(flat, "field.") {
					t.Errorf("text shows an unfilled value or a message id:\n%s", flat)
				}
				pages := pdftest.Pages(t, res.PDF)
				if want := fmt.Sprintf("Pagina %d di %d", pages, pages); !strings.Contains(flat, want) {
					t.Errorf("last page label %q missing (pdfinfo says %d pages)", want, pages)
				}
				if got := strings.Count(text, "\f"); got != pages {
					t.Errorf("pdftotext pages = %d, pdfinfo pages = %d", got, pages)
				}
				pdftest.QPDFCheck(t, res.PDF)
			})
		}
	}
}

// TestPageCounts pins the page counts of the Loiano samples: a layout change
// that adds a page shows here.
func TestPageCounts(t *testing.T) {
	r := MustRenderer(t)
	for k, want := range map[string]int{"adesione": 2, "assessment": 4, "piano": 2, "approvazione": 1} {
		res, err := r.Render(context.Background(), faldone.Kind(k), sample(t, "loiano", k), "")
		if err != nil {
			t.Fatal(err)
		}
		if got := pdftest.Pages(t, res.PDF); got != want {
			t.Errorf("%s: %d pages, want %d", k, got, want)
		}
	}
}

// TestLanguages renders every kind in English and German and checks that
// the text is in that language.
func TestLanguages(t *testing.T) {
	r := MustRenderer(t)
	for _, tc := range []struct {
		lang  string
		words []string
		date  string
	}{
		{"en", []string{"Page 1 of", "Electronic document digitally signed"}, "24 November 2026"},
		{"de", []string{"Seite 1 von", "Digital signiertes elektronisches Dokument", "Gemeinde Loiano"}, "24. November 2026"},
	} {
		for _, k := range kinds {
			res, err := r.Render(context.Background(), faldone.Kind(k), sample(t, "loiano", k), tc.lang)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.lang, k, err)
			}
			flat := strings.Join(strings.Fields(pdftest.Text(t, res.PDF)), " ")
			for _, w := range tc.words {
				if !strings.Contains(flat, w) {
					t.Errorf("%s %s: text lacks %q", tc.lang, k, w)
				}
			}
			if k == "adesione" && !strings.Contains(flat, tc.date) {
				t.Errorf("%s adesione: text lacks the long date %q", tc.lang, tc.date)
			}
			if res.Document.Lang != tc.lang {
				t.Errorf("document lang = %q", res.Document.Lang)
			}
		}
	}
}

// TestDeterministic renders the same input concurrently and expects
// byte-identical PDFs (run with -race: the font bytes must not be shared).
func TestDeterministic(t *testing.T) {
	r := MustRenderer(t)
	for _, k := range kinds {
		body := sample(t, "san-calogero", k)
		const n = 6
		out := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := r.Render(context.Background(), faldone.Kind(k), body, "")
				if err != nil {
					t.Error(err)
					return
				}
				out[i] = res.PDF
			}()
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			if !bytes.Equal(out[0], out[i]) {
				t.Fatalf("%s: render %d differs from render 0", k, i)
			}
		}
	}
}

// TestMetadata checks the PDF's document information.
func TestMetadata(t *testing.T) {
	r := MustRenderer(t)
	res, err := r.Render(context.Background(), "adesione", sample(t, "loiano", "adesione"), "")
	if err != nil {
		t.Fatal(err)
	}
	info := pdftest.Info(t, res.PDF)
	for _, want := range []string{
		"Title:           Lettera di adesione al progetto FAST Piccoli Comuni",
		"Subject:         Adesione del Comune di Loiano",
		"Keywords:        FAST Piccoli Comuni, adesione, Loiano, ISTAT 037034",
		"Author:          Task force territoriale FAST Piccoli Comuni",
		"Producer:        faldone " + faldone.Version,
		"CreationDate:    2026-11-24T00:00:00",
		"ModDate:         2026-11-24T00:00:00",
		"Page size:       595.28 x 841.89 pts (A4)",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
	if !bytes.Contains(res.PDF, []byte("/FlateDecode")) {
		t.Error("content streams are not compressed")
	}
}

// TestLongTextBreaksAcrossPages fills a piano with long texts and many rows
// and checks that every word survives, in order, across pages.
func TestLongTextBreaksAcrossPages(t *testing.T) {
	r := MustRenderer(t)
	data, err := tmpl.Decode(sample(t, "suvereto", "piano"))
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for i := range 400 {
		words = append(words, fmt.Sprintf("parola%03d", i))
	}
	long := strings.Join(words, " ")
	data["microprogetto"].(map[string]any)["descrizione"] = long[:2999]
	var objs []any
	for i := range 20 {
		objs = append(objs, fmt.Sprintf("Obiettivo numero %d: %s", i, strings.Repeat("rafforzare la sicurezza ", 14)))
	}
	data["obiettivi"] = objs[:15]
	res, err := r.RenderData(context.Background(), "piano", data, "")
	if err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, res.PDF)
	flat := strings.Join(strings.Fields(text), " ")
	last := -1
	for _, w := range strings.Fields(long[:2999]) {
		if len(w) < 9 {
			continue // the cut word at the end
		}
		i := strings.Index(flat, w)
		if i < 0 || i < last {
			t.Fatalf("word %q missing or out of order", w)
		}
		last = i
	}
	if p := pdftest.Pages(t, res.PDF); p < 4 {
		t.Errorf("expected the long piano to take at least 4 pages, got %d", p)
	}
	pdftest.QPDFCheck(t, res.PDF)
}

func BenchmarkRenderAdesione(b *testing.B) {
	r := MustRenderer(b)
	body := sample(b, "loiano", "adesione")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(context.Background(), "adesione", body, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderAdesioneParallel(b *testing.B) {
	r := MustRenderer(b)
	body := sample(b, "loiano", "adesione")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Render(context.Background(), "adesione", body, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

package docs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/pdftest"
	"faldone/internal/render"
	"faldone/internal/tmpl"
	"faldone/internal/tmpl/tmpltest"
)

// MustRenderer returns a renderer on the embedded templates.
func MustRenderer(tb testing.TB) *docs.Renderer {
	tb.Helper()
	set := tmpltest.Set(tb)
	set.Version = faldone.Version
	return &docs.Renderer{Templates: set, Version: faldone.Version}
}

var kinds = []string{"adesione", "assessment", "piano", "approvazione", "chiusura"}

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
// the comune's name and ISTAT code, the Italian long date, every accented
// letter and sign of the input, and the page count, in every kind; qpdf
// finds every file sound.
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
				for _, want := range []string{c.name, c.istat, longDate, "Documento informatico firmato digitalmente"} {
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
	for k, want := range map[string]int{"adesione": 2, "assessment": 4, "piano": 3, "approvazione": 2, "chiusura": 3} {
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
		{"en", []string{"Page 1 of", "Electronic document digitally signed"}, "13 April 2026"},
		{"de", []string{"Seite 1 von", "Digital signiertes elektronisches Dokument", "Gemeinde Loiano"}, "13. April 2026"},
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
		"CreationDate:    2026-04-13T00:00:00",
		"ModDate:         2026-04-13T00:00:00",
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

// BenchmarkRenderAdesioneUncached renders the letter with the font subset
// cache off: every render cuts and compresses its subsets, as the first
// letter with a new set of characters does.
func BenchmarkRenderAdesioneUncached(b *testing.B) {
	render.SetFontSubsetCache(0)
	defer render.SetFontSubsetCache(128)
	BenchmarkRenderAdesione(b)
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

// TestLettersTellTheTruth reads the letters as a segretario would: the
// right higher body or none, both official names in the right order, "Il
// Sindaco" under the signature, and an outcome whose words match it - a
// negative approvazione never approves.
func TestLettersTellTheTruth(t *testing.T) {
	r := MustRenderer(t)
	text := func(kind string, body []byte, lang string) string {
		t.Helper()
		res, err := r.Render(context.Background(), faldone.Kind(kind), body, lang)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		return strings.Join(strings.Fields(pdftest.Text(t, res.PDF)), " ")
	}
	with := func(dir, kind string, f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(sample(t, dir, kind), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	for _, tc := range []struct {
		name, dir, kind, lang string
		edit                  func(m map[string]any)
		want, not             []string
	}{
		{"città metropolitana", "loiano", "adesione", "it", nil,
			[]string{"Comune di Loiano (BO)", "Città metropolitana di Bologna", "Il Sindaco", "Fabrizio Morganti", "AOO c_e655",
				"Dipartimento della funzione pubblica"}, []string{"Provincia di Bologna"}},
		{"province", "banari", "adesione", "it", nil, []string{"Comune di Banari (SS)", "Provincia di Sassari"}, nil},
		{"la Sindaca", "suvereto", "adesione", "it", nil, []string{"La Sindaca", "in qualità di Sindaca"}, []string{"Il Sindaco"}},
		{"bilingual, Italian", "loiano", "adesione", "it", func(m map[string]any) { m["comune"] = "021031" },
			[]string{"Comune di Fiè allo Sciliar/Völs am Schlern (BZ)", "Provincia autonoma di Bolzano – Alto Adige"}, nil},
		{"bilingual, German", "loiano", "adesione", "de", func(m map[string]any) { m["comune"] = "021031" },
			[]string{"Gemeinde Völs am Schlern/Fiè allo Sciliar (BZ)", "Autonome Provinz Bozen – Südtirol", "Der Bürgermeister"}, nil},
		{"Valle d'Aosta has no province", "loiano", "adesione", "it", func(m map[string]any) { m["comune"] = "007002" },
			[]string{"Comune di Antey-Saint-André (AO)"}, []string{"Provincia di"}},
		{"ambito C in full", "loiano", "adesione", "it", func(m map[string]any) { m["ambito"] = "C" },
			[]string{"Supporto ai piccoli Comuni per il miglioramento delle attività amministrative mediante l'introduzione di tecnologie informatiche"}, nil},
		{"positive", "loiano", "approvazione", "it", nil,
			[]string{"Oggetto: approvazione del microprogetto", "APPROVA il microprogetto", "relazione di chiusura", "entro il 13 novembre 2026"}, []string{"NON APPROVA"}},
		{"partial", "casaletto-spartano", "approvazione", "it", nil,
			[]string{"approvazione parziale", "APPROVA gli output consegnati", "Non consegnato", "nuovo piano di lavoro"}, []string{"APPROVA il microprogetto"}},
		{"negative", "san-calogero", "approvazione", "it", nil,
			[]string{"mancata approvazione", "NON APPROVA il microprogetto", "esito negativo", "non attesta la realizzazione degli output", "entro trenta giorni"},
			[]string{"APPROVA il microprogetto, che si considera concluso", "si considera concluso con esito positivo"}},
		{"negative, English", "san-calogero", "approvazione", "en", nil, []string{"DOES NOT APPROVE", "The Mayor"}, []string{"APPROVES the microproject"}},
		{"negative, German", "san-calogero", "approvazione", "de", nil, []string{"GENEHMIGT das Mikroprojekt NICHT", "Der Bürgermeister"}, []string{"GENEHMIGT das Mikroprojekt, das"}},
		{"piano signed by both", "loiano", "piano", "it", nil, []string{"Per la task force territoriale, il coordinamento", "Chiara Esposito", "Il Sindaco", "Firma per approvazione"}, nil},
		{"assessment presented by the facilitators", "loiano", "assessment", "it", nil,
			[]string{"Loiano, 6 maggio 2026", "I facilitatori della task force territoriale", "Chiara Esposito, Davide Sanna", "Sede dell'incontro"}, []string{"Sala consiliare del Comune di Loiano, 6"}},
		{"chiusura", "san-calogero", "chiusura", "it", nil,
			[]string{"Relazione di chiusura", "su 9 dipendenti", "su 8 dipendenti", "compilato da 4 destinatari su 8", "1,8 / 5", "esito negativo", "36 – 40 (+4)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := sample(t, tc.dir, tc.kind)
			if tc.edit != nil {
				body = with(tc.dir, tc.kind, tc.edit)
			}
			got := text(tc.kind, body, tc.lang)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("text lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("text has %q", w)
				}
			}
		})
	}
}

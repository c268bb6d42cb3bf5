package render

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"faldone/internal/faldone"
)

// TestRowTallerThanAPageIsSplit draws a table row far taller than a page:
// every word arrives, in order, over several pages, each with the table's
// header repeated and its own page label.
func TestRowTallerThanAPageIsSplit(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	var words []string
	for i := range 2000 {
		words = append(words, fmt.Sprintf("w%04d", i))
	}
	l := faldone.Layout{
		Meta: faldone.Meta{PageLabel: "Pagina {current} di {total}"},
		Blocks: []faldone.Block{
			{Type: faldone.BlockTable, Title: "Tabella", Table: &faldone.Table{
				Columns: []faldone.Column{{Label: "Voce", Width: 3}, {Label: "Testo", Width: 9}},
				Rows:    [][]string{{"prima", "breve"}, {"lunga", strings.Join(words, " ")}, {"ultima", "breve"}},
			}},
			{Type: faldone.BlockFooter, Text: []string{"piè di pagina"}},
		},
	}
	pdf, err := Render(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "split.pdf")
	if d := os.Getenv("FALDONE_KEEP_PDF"); d != "" {
		f = filepath.Join(d, "split.pdf")
	}
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(strings.TrimRight(string(out), "\f"), "\f")
	if len(pages) < 3 {
		t.Fatalf("%d pages, want the row split over at least 3", len(pages))
	}
	flat := strings.Join(strings.Fields(string(out)), " ")
	last := -1
	for _, w := range words {
		i := strings.Index(flat, w)
		if i < last {
			t.Fatalf("word %s missing or out of order", w)
		}
		last = i
	}
	for n, p := range pages {
		if !strings.Contains(p, "Voce") || !strings.Contains(p, "Testo") {
			t.Errorf("page %d lacks the table header", n+1)
		}
		if want := fmt.Sprintf("Pagina %d di %d", n+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", n+1, want)
		}
		if !strings.Contains(p, "piè di pagina") {
			t.Errorf("page %d lacks the footer", n+1)
		}
	}
}

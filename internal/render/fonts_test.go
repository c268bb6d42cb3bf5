package render

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/pdftest"
)

// fontsLayout sets text in every face the renderer embeds: Titillium Web
// regular and bold, the DejaVu Sans fallback in both weights, Roboto Mono.
func fontsLayout() faldone.Layout {
	return faldone.Layout{
		Meta: faldone.Meta{Title: "Prova", PageLabel: "Pagina {current} di {total}"},
		Blocks: []faldone.Block{
			{Type: faldone.BlockHeading, Text: []string{"Città di Loiano – «adesione»"}},
			{Type: faldone.BlockHeading, Text: []string{"Ελληνικά και Русский"}},
			{Type: faldone.BlockParagraph, Text: []string{"Perché è così: 12,50 € – l’ente “piccolo”."}},
			{Type: faldone.BlockParagraph, Text: []string{"Ωμέγα, Жизнь, Łódź → ½ ≤ ∞."}},
			{Type: faldone.BlockParagraph, Text: []string{strings.Repeat("9f86d081", 8)}},
			{Type: faldone.BlockFooter, Text: []string{"Piè di pagina"}},
		},
	}
}

// TestFontsEmbeddedForPDFA: every face, as the renderer embeds it, passes
// the font clauses of PDF/A-2 (subset tags, ToUnicode, no glyph 0, font
// programs ots-sanitize and fontTools read whole).
func TestFontsEmbeddedForPDFA(t *testing.T) {
	pdf, err := Render(context.Background(), fontsLayout())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"+TitilliumWeb-Regular", "+TitilliumWeb-Bold", "+DejaVuSans\n", "+DejaVuSans-Bold", "+RobotoMono-Regular"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("no font %s", want)
		}
	}
	c := pdftest.NewFontChecker(t)
	for _, p := range append(c.Check("every face", pdf), c.Programs()...) {
		t.Error(p)
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"Ωμέγα, Жизнь, Łódź", "Città di Loiano", "9f86d081"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text does not read back %q:\n%s", want, text)
		}
	}
}

// TestConcurrentRendersIdentical: renders on several goroutines share the
// parsed fonts and still write the same bytes as a render alone (run it
// with -race).
func TestConcurrentRendersIdentical(t *testing.T) {
	want, err := Render(context.Background(), fontsLayout())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				got, err := Render(context.Background(), fontsLayout())
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, want) {
					t.Error("a concurrent render differs from the render alone")
					return
				}
			}
		}()
	}
	wg.Wait()
}

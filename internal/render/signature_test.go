package render

import (
	"context"
	"strings"
	"testing"

	"faldone/internal/faldone"
)

// TestLongSignatureSplits: a signature naming more signatories than a page
// holds is split between lines instead of failing the render.
func TestLongSignatureSplits(t *testing.T) {
	names := strings.TrimSuffix(strings.Repeat("Chiara Esposito Bianchi Rossi, ", 400), ", ")
	l := faldone.Layout{Blocks: []faldone.Block{
		{Type: faldone.BlockParagraph, Text: []string{"Il Comune aderisce al progetto."}},
		{Type: faldone.BlockSignature, Sign: &faldone.SignatureBlock{PlaceDate: "Loiano, 1 dicembre 2026", Role: "I facilitatori", Name: names, Note: "Per la task force"}},
	}}
	pdf, err := Render(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	if len(pdf) == 0 {
		t.Fatal("no PDF")
	}
}

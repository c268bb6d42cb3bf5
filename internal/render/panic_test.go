package render

import (
	"context"
	"testing"

	"faldone/internal/faldone"
)

// TestBeyondTheBMPNeverPanics: characters the fonts cannot hold reach the
// renderer only through a template's own text, never through validated
// input; they must not crash the PDF writer.
func TestBeyondTheBMPNeverPanics(t *testing.T) {
	for _, s := range []string{"emoji 😀 end", "\U00010000", "\U0010FFFF", "\uFFFF", "\uFFFD x"} {
		l := faldone.Layout{Blocks: []faldone.Block{
			{Type: faldone.BlockParagraph, Text: []string{s}},
			{Type: faldone.BlockTable, Table: &faldone.Table{Columns: []faldone.Column{{Label: s, Width: 12}}, Rows: [][]string{{s}}}},
		}}
		if _, err := Render(context.Background(), l); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	}
}

package render

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"faldone/fonts"
	"faldone/internal/faldone"
)

// TestBeyondTheBMPNeverPanics: characters the fonts cannot hold reach the
// renderer only through a template's own text, never through validated
// input; they must not crash the PDF writer, which refuses them rather than
// draw them as .notdef.
func TestBeyondTheBMPNeverPanics(t *testing.T) {
	for _, s := range []string{"emoji 😀 end", "\U00010000", "\U0010FFFF", "\uFFFF", "\uFFFD x"} {
		l := faldone.Layout{Blocks: []faldone.Block{
			{Type: faldone.BlockParagraph, Text: []string{s}},
			{Type: faldone.BlockTable, Table: &faldone.Table{Columns: []faldone.Column{{Label: s, Width: 12}}, Rows: [][]string{{s}}}},
		}}
		checkRefusal(t, s, l)
	}
}

// checkRefusal renders l, made of the text s: it must not panic, and it may
// fail only because s holds a character no face can draw, with an error
// that says so.
func checkRefusal(t *testing.T, s string, l faldone.Layout) {
	t.Helper()
	_, err := Render(context.Background(), l)
	unprintable := strings.ContainsFunc(strings.ToValidUTF8(s, "\uFFFD"), func(r rune) bool { return !fonts.Printable(r) })
	switch {
	case err == nil:
	case !unprintable:
		t.Fatalf("%q: %v", s, err)
	case !strings.Contains(err.Error(), "has no glyph for"):
		t.Fatalf("%q: refused for another reason: %v", s, err)
	}
}

// TestBlockPlugsIn: a new block type is one measuring function; its boxes
// are paginated like any other's.
func TestBlockPlugsIn(t *testing.T) {
	const stamp faldone.BlockType = "test-stamp"
	registerBlock(stamp, func(m *measurer, b faldone.Block) {
		m.caption(b.Title, nil)
		m.lines(m.set(b.Text[0], body, contentW, true), false, m.tg.elem(nil, "P"))
	})
	defer delete(blockFuncs, stamp)
	var blocks []faldone.Block
	for range 40 {
		blocks = append(blocks, faldone.Block{Type: stamp, Title: "Timbro", Text: []string{strings.Repeat("parola ", 60)}})
	}
	pdf, err := Render(context.Background(), faldone.Layout{Meta: faldone.Meta{PageLabel: "Pagina {current} di {total}"}, Blocks: blocks})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatal("not a PDF")
	}
	if _, err := Render(context.Background(), faldone.Layout{Blocks: []faldone.Block{{Type: "unknown"}}}); err == nil {
		t.Fatal("an unknown block type was drawn")
	}
}

// TestAnyRuneNeverPanics renders texts of random code points from the whole
// Unicode range, invalid UTF-8 included.
func TestAnyRuneNeverPanics(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 60 {
		var b strings.Builder
		for range r.IntN(80) + 1 {
			switch r.IntN(4) {
			case 0:
				b.WriteRune(rune(r.IntN(0x110000)))
			case 1:
				b.WriteByte(byte(r.IntN(256)))
			case 2:
				b.WriteByte(' ')
			default:
				b.WriteRune(rune(r.IntN(0x3000)))
			}
		}
		s := b.String()
		l := faldone.Layout{Blocks: []faldone.Block{
			{Type: faldone.BlockHeading, Text: []string{s}},
			{Type: faldone.BlockParagraph, Text: []string{s}},
			{Type: faldone.BlockKV, Rows: [][2]string{{s, s}}},
			{Type: faldone.BlockSignature, Sign: &faldone.SignatureBlock{PlaceDate: s, Role: s, Name: s}},
			{Type: faldone.BlockFooter, Text: []string{s}},
		}}
		checkRefusal(t, s, l)
	}
}

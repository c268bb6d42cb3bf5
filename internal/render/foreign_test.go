package render

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/testenv"
)

var reBBoxWord = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

// TestForeignSpansLookTheSame: lines with a phrase in another language are
// drawn word by word, to put the phrase in a Span; every word must stay
// where it is when the line is drawn whole (poppler's word boxes within
// 0.01 pt, what rounding the positions to hundredths of a point allows), in
// every alignment.
func TestForeignSpansLookTheSame(t *testing.T) {
	bin := testenv.Tool(t, "pdftotext")
	long := strings.Repeat("Il Comune di Fiè allo Sciliar/Völs am Schlern aderisce al progetto con la sua giunta. ", 6)
	l := faldone.Layout{Meta: faldone.Meta{Title: "Prova", Lang: "it", PageLabel: "Pagina {current} di {total}"}, Blocks: []faldone.Block{
		{Type: faldone.BlockLetterhead, Text: []string{"Comune di Fiè allo Sciliar/Völs am Schlern (BZ)", "Provincia autonoma di Bolzano"}},
		{Type: faldone.BlockHeading, Level: 1, Text: []string{"Oggetto: Völs am Schlern"}},
		{Type: faldone.BlockParagraph, Text: []string{long}},
		{Type: faldone.BlockParagraph, Align: "right", Text: []string{"Völs am Schlern, 1 aprile 2026"}},
		{Type: faldone.BlockKV, Rows: [][2]string{{"Comune", "Fiè allo Sciliar/Völs am Schlern"}}},
	}}
	words := func(pdf []byte) [][]string {
		in := filepath.Join(t.TempDir(), "in.pdf")
		if err := os.WriteFile(in, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-bbox", in, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext -bbox: %v", err)
		}
		return reBBoxWord.FindAllStringSubmatch(string(out), -1)
	}
	plain, err := Render(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	l.Meta.Foreign = []faldone.Phrase{{Text: "Völs am Schlern", Lang: "de"}}
	tagged, err := Render(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(tagged, []byte("/S /Span")); n < 5 {
		t.Fatalf("%d Spans, want one for each occurrence of the phrase", n)
	}
	a, b := words(plain), words(tagged)
	if len(a) != len(b) || len(a) < 50 {
		t.Fatalf("%d words untagged, %d tagged", len(a), len(b))
	}
	for i := range a {
		if a[i][5] != b[i][5] {
			t.Fatalf("word %d: %q untagged, %q tagged", i, a[i][5], b[i][5])
		}
		for k := 1; k <= 4; k++ {
			x, _ := strconv.ParseFloat(a[i][k], 64)
			y, _ := strconv.ParseFloat(b[i][k], 64)
			if math.Abs(x-y) > 0.01 {
				t.Errorf("word %q moves from %s to %s", a[i][5], a[i][1:5], b[i][1:5])
				break
			}
		}
	}
}

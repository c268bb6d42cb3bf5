package render

import (
	"context"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/render/hyphen"
)

func pairedBlock(n int) faldone.Block {
	b := faldone.Block{Type: faldone.BlockPaired, Title: "Punteggio medio per area, ex ante ed ex post", Legend: [2]string{"Ex ante", "Ex post"}}
	for i := range n {
		b.Pairs = append(b.Pairs, faldone.Pair{Label: "Dati, informazioni e documenti informatici", Before: float64(10 * i), After: float64(12 * i), Max: 100, BeforeText: "52", AfterText: "56"})
	}
	return b
}

// TestPairedKeeps: the caption and the legend go with the first pair, and
// neither the first nor the last pair stands alone on a page.
func TestPairedKeeps(t *testing.T) {
	fcs, err := loadFaces()
	if err != nil {
		t.Fatal(err)
	}
	m := &measurer{faces: fcs, hy: hyphen.For("it")}
	m.paired(pairedBlock(5))
	var keeps []bool
	for _, b := range m.boxes {
		if !b.Glue {
			keeps = append(keeps, b.Keep)
		}
	}
	want := []bool{true, true, true, false, false, true, false} // caption, legend, five pairs
	if len(keeps) != len(want) {
		t.Fatalf("keeps %v, want %v", keeps, want)
	}
	for i := range want {
		if keeps[i] != want[i] {
			t.Fatalf("keeps %v, want %v", keeps, want)
		}
	}
}

// TestPairedRenders: a paired chart of any length, empty included, is
// measured, paginated and drawn.
func TestPairedRenders(t *testing.T) {
	for _, n := range []int{0, 1, 2, 40} {
		l := faldone.Layout{Blocks: []faldone.Block{pairedBlock(n)}}
		if _, err := Render(context.Background(), l); err != nil {
			t.Fatalf("%d pairs: %v", n, err)
		}
	}
}

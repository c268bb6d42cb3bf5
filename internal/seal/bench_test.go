package seal_test

import (
	"context"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
)

// benchmarkSeal renders the two-page adesione letter of Loiano once and
// seals it at B-B (no time-stamp authority) with key on every iteration.
func benchmarkSeal(b *testing.B, key *keys.Seal) {
	rendered := render(b, newRenderer(b), "loiano", faldone.KindAdesione)
	if n := pdftest.Pages(b, rendered.PDF); n != 2 {
		b.Fatalf("the adesione letter has %d pages, want 2", n)
	}
	s := &seal.Sealer{Key: key, Logger: discard}
	ctx := context.Background()
	b.SetBytes(int64(len(rendered.PDF)))
	b.ReportAllocs()
	for b.Loop() {
		_, facts, err := s.Seal(ctx, rendered.PDF, &rendered.Document)
		if err != nil {
			b.Fatal(err)
		}
		if facts.Level != pades.LevelBB {
			b.Fatalf("level %s, want %s", facts.Level, pades.LevelBB)
		}
	}
}

// BenchmarkSealFileKey seals the two-page adesione letter of Loiano at B-B
// with the development seal, an ECDSA P-256 key read from a file. Sealing
// must add at most 2 ms to a request.
func BenchmarkSealFileKey(b *testing.B) {
	key, _ := devSeal(b)
	benchmarkSeal(b, key)
}

package seal_test

import (
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/pdftest/pdfa"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// TestSealedArePDFA seals every kind of every sample comune at B-T, with
// the local time-stamp authority, and checks that the seal's incremental
// update keeps the file PDF/A-2b (internal/pdftest/pdfa, every clause it
// checks but the fonts', which TestSampleFonts reports) and the trailer's
// /ID.
func TestSealedArePDFA(t *testing.T) {
	r := newRenderer(t)
	key, _ := devSeal(t)
	url, _ := testenv.StartTSA(t)
	s := &seal.Sealer{Key: key, TSA: &pades.TSA{URL: url, Timeout: 10 * time.Second, Retries: 1}, Logger: discard}
	for _, comune := range sampleComuni {
		for _, kind := range kinds {
			t.Run(comune+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				rendered := render(t, r, comune, kind)
				pdfa.Require(t, rendered.PDF)
				out, _, err := sealLocked(s, rendered)
				if err != nil {
					t.Fatal(err)
				}
				pdfa.Require(t, out)
				before, err := pades.Open(rendered.PDF)
				if err != nil {
					t.Fatal(err)
				}
				after, err := pades.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := before.Trailer()["ID"], after.Trailer()["ID"]; a == nil || !sameID(a, b) {
					t.Errorf("the seal changed the trailer /ID from %v to %v", a, b)
				}
			})
		}
	}
}

func sameID(a, b any) bool {
	x, ok1 := a.(pades.Array)
	y, ok2 := b.(pades.Array)
	if !ok1 || !ok2 || len(x) != 2 || len(y) != 2 {
		return false
	}
	s0, _ := x[0].(pades.String)
	t0, _ := y[0].(pades.String)
	return len(s0) > 0 && string(s0) == string(t0)
}

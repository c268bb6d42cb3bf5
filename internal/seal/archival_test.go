package seal_test

import (
	"testing"

	"faldone/internal/pades"
	"faldone/internal/pdftest/pdfa"
)

// TestSealedArePDFA seals every kind of every sample comune at B-LTA, what
// the service does with a time-stamp authority (the development seal, its
// CA's CRL in the /DSS, the local authority), and checks that the seal's
// incremental updates (signature, DSS, document time-stamp) keep the file
// PDF/A-2b, every clause internal/pdftest/pdfa checks, the fonts' too, and
// the first element of the trailer's /ID in every revision (6.1.3), the
// signature's revision with a new second one (ISO 32000-1 14.4).
func TestSealedArePDFA(t *testing.T) {
	r := newRenderer(t)
	s := devLTASealer(t)
	for _, comune := range sampleComuni {
		for _, kind := range kinds {
			t.Run(comune+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				rendered := render(t, r, comune, kind)
				pdfa.Require(t, rendered.PDF)
				out, facts, err := sealLocked(s, rendered)
				if err != nil {
					t.Fatal(err)
				}
				if facts.Level != pades.LevelBLTA {
					t.Fatalf("sealed at %s", facts.Level)
				}
				pdfa.Require(t, out)
				pdfa.RequireFonts(t, out)
				ends, err := pades.Revisions(out)
				if err != nil || len(ends) < 4 {
					t.Fatalf("revisions %v, %v", ends, err)
				}
				before, err := pades.Open(rendered.PDF)
				if err != nil {
					t.Fatal(err)
				}
				after, err := pades.Open(out[:ends[1]]) // the signature's revision
				if err != nil {
					t.Fatal(err)
				}
				if a, b := before.Trailer()["ID"], after.Trailer()["ID"]; a == nil || !sameID(a, b) {
					t.Errorf("the seal changed the first element of the trailer /ID, or kept the second: %v to %v", a, b)
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
	s1, _ := x[1].(pades.String)
	t1, _ := y[1].(pades.String)
	return len(s0) > 0 && string(s0) == string(t0) && len(t1) == 16 && string(s1) != string(t1)
}

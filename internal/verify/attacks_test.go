package verify_test

import (
	"context"
	"slices"
	"testing"

	"faldone/internal/pdftest"
)

// TestHostileCorpus verifies every published attack class, forged from a
// freshly sealed letter: none is valid, and each names its reason.
func TestHostileCorpus(t *testing.T) {
	e := newEnv(t)
	_, sealed := e.create(t, "loiano", "adesione")
	for _, a := range pdftest.Attacks(t, sealed) {
		t.Run(a.Name, func(t *testing.T) {
			r, err := e.verifier.Verify(context.Background(), a.PDF, "it")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range r.Reasons {
				got = append(got, x.Code)
			}
			for _, x := range r.Reasons {
				t.Logf("%s: %s (%s)", x.Code, x.Message, x.Detail)
			}
			if r.Valid || !slices.ContainsFunc(a.Reasons, func(c string) bool { return slices.Contains(got, c) }) {
				t.Fatalf("valid %v, reasons %v, want one of %v", r.Valid, got, a.Reasons)
			}
		})
	}
}

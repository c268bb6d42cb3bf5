package tmpl_test

import (
	"testing"

	"faldone/internal/tmpl"
	"faldone/internal/tmpl/tmpltest"
)

// MustLoad loads the embedded templates or fails the test.
func MustLoad(tb testing.TB) *tmpl.Set {
	tb.Helper()
	s := tmpltest.Set(tb)
	return s
}

func TestLoadEmbedded(t *testing.T) {
	s := MustLoad(t)
	if got, want := len(s.Kinds()), 5; got != want {
		t.Fatalf("kinds = %v", s.Kinds())
	}
}

var tmplDecode = tmpl.Decode

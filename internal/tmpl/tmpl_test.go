package tmpl_test

import (
	"testing"

	"faldone/internal/comuni"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// MustLoad loads the embedded templates or fails the test.
func MustLoad(tb testing.TB) *tmpl.Set {
	tb.Helper()
	reg, err := comuni.Default()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestLoadEmbedded(t *testing.T) {
	s := MustLoad(t)
	if got, want := len(s.Kinds()), 5; got != want {
		t.Fatalf("kinds = %v", s.Kinds())
	}
}

var tmplDecode = tmpl.Decode

// Package tmpltest loads the embedded templates for the tests of the
// packages that render, validate or serve documents.
package tmpltest

import (
	"testing"

	"faldone/internal/comuni"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// Set loads the embedded templates, every check made, over the embedded
// registry of comuni, or fails the test.
func Set(tb testing.TB) *tmpl.Set {
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

// Package samples holds a realistic input of each document kind for each of
// the five comuni of the seed documents (<comune>/<kind>.json, the request
// body of POST /v1/documents/<kind>) and the PDF each one renders to
// (<comune>/<kind>.pdf). The PDFs are unsealed drafts, and say so: every
// page carries "BOZZA – documento non firmato" and a footer that claims no
// signature (a sealed copy comes from the service or `faldone render`
// without --unsigned). Regenerate them after a template or layout change with:
//
//	go test ./samples -update
package samples

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/tmpl"
	"faldone/templates"
)

var update = flag.Bool("update", false, "rewrite the sample PDFs")

// TestSamplesAreCurrent fails when a committed sample PDF is not what its
// input renders to today.
func TestSamplesAreCurrent(t *testing.T) {
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		t.Fatal(err)
	}
	set.Version = faldone.Version
	r := &docs.Renderer{Templates: set, Version: faldone.Version}
	inputs, err := filepath.Glob("*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 20 {
		t.Fatalf("%d sample inputs, want 20 (4 kinds x 5 comuni)", len(inputs))
	}
	for _, in := range inputs {
		kind := strings.TrimSuffix(filepath.Base(in), ".json")
		body, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Render(context.Background(), faldone.Kind(kind), body, "", docs.Draft())
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out := strings.TrimSuffix(in, ".json") + ".pdf"
		if *update {
			if err := os.WriteFile(out, res.PDF, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: %v (run: go test ./samples -update)", out, err)
		}
		if !bytes.Equal(old, res.PDF) {
			t.Errorf("%s is stale: it differs from what %s renders to now (run: go test ./samples -update)", out, in)
		}
	}
}

// Package samples holds the whole FAST path of each of the five comuni of
// the seed documents, as five different stories: the request body of each
// document (<comune>/<kind>.json, the body of POST /v1/documents/<kind>) and
// the PDF each one renders to (<comune>/<kind>.pdf). Banari,
// Loiano and Suvereto end with a positive outcome, Casaletto Spartano with
// a partial one, San Calogero with a negative one. The PDFs are unsealed
// drafts, and say so: every page carries "BOZZA – documento non firmato"
// and a footer that claims no signature (a sealed copy comes from the
// service or `faldone render` without --unsigned). Regenerate them after a
// template or layout change with:
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

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/tmpl"
	"faldone/internal/tmpl/tmpltest"
)

var update = flag.Bool("update", false, "rewrite the sample PDFs")

// Comuni are the sample directories, one story each.
var Comuni = []string{"banari", "casaletto-spartano", "loiano", "san-calogero", "suvereto"}

// TestSamplesAreCurrent renders each comune's documents in workflow order,
// each citing the one before as the archive would print it (kind, title,
// date, protocol, SHA-256 of the rendered PDF), checks every document
// against the chain it cites, and fails when a committed sample PDF is not
// what its input renders to today.
func TestSamplesAreCurrent(t *testing.T) {
	set := tmpltest.Set(t)
	set.Version = faldone.Version
	r := &docs.Renderer{Templates: set, Version: faldone.Version}
	inputs, err := filepath.Glob("*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(Comuni) * len(set.Kinds()); len(inputs) != want {
		t.Fatalf("%d sample inputs, want %d (%d kinds x %d comuni)", len(inputs), want, len(set.Kinds()), len(Comuni))
	}
	for _, dir := range Comuni {
		var chain []docs.Link // newest first
		for _, kind := range set.Kinds() {
			in := filepath.Join(dir, kind+".json")
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			data, err := tmpl.Decode(body)
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			opts := []docs.Option{docs.Draft()}
			t0, _ := set.Template(kind)
			if t0.Cites != "" {
				if len(chain) == 0 {
					t.Fatalf("%s cites a document, but none comes before it", in)
				}
				// The sample names the cited document by the id it
				// has in the archive.
				if id, _ := data[t0.Cites].(string); id != chain[0].Rec.ID {
					t.Fatalf("%s cites %q, want %q", in, id, chain[0].Rec.ID)
				}
				if err := docs.CheckChain(set, "it", faldone.Kind(kind), data, chain); err != nil {
					t.Fatalf("%s: %v", in, describe(err))
				}
				opts = append(opts, docs.Cited(chain[0].Rec))
				if kind == string(faldone.KindChiusura) {
					var all []*faldone.Record
					for i := len(chain) - 1; i >= 0; i-- {
						all = append(all, chain[i].Rec)
					}
					opts = append(opts, docs.Dossier(all))
				}
			}
			res, err := r.RenderData(context.Background(), faldone.Kind(kind), data, "", opts...)
			if err != nil {
				t.Fatalf("%s: %v", in, describe(err))
			}
			d := res.Document
			rec := &faldone.Record{ID: kind + strings.ReplaceAll(dir, "-", "") + "01", Version: 1, Kind: d.Kind, Comune: d.Comune, Oggetto: d.Oggetto,
				Protocol: d.Protocol, Date: d.Date.Format("2006-01-02"), SHA256: d.SHA256, Input: d.Input}
			link, err := docs.NewLink(rec)
			if err != nil {
				t.Fatal(err)
			}
			chain = append([]docs.Link{link}, chain...)
			out := filepath.Join(dir, kind+".pdf")
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
}

// describe lists the field errors of a refusal.
func describe(err error) string {
	var b bytes.Buffer
	b.WriteString(err.Error())
	if fe, ok := err.(*faldone.Error); ok {
		for _, f := range fe.Fields {
			b.WriteString("\n  " + f.Path + ": " + f.Message)
		}
	}
	return b.String()
}

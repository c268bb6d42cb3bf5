package docs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/pdftest"
)

// tricky is text a person may type that a template engine could take for
// its own: it MUST reach the PDF exactly as typed.
const tricky = "A <no value> B {{.comune}} C %s D %v E {{"

// TestUserTextPrintedAsTyped puts tricky text in every free-text field of
// every sample the template accepts it in, renders, and reads the PDF
// back with pdftotext: every field shows the text exactly, and no
// "<no value>" appears where a field was left out.
func TestUserTextPrintedAsTyped(t *testing.T) {
	r := MustRenderer(t)
	space := regexp.MustCompile(`\s+`)
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			var in map[string]any
			if err := json.Unmarshal(sample(t, "loiano", kind), &in); err != nil {
				t.Fatal(err)
			}
			// Try each string leaf: keep the tricky text where it is valid.
			var paths []string
			var walk func(v any, path string, set func(any))
			walk = func(v any, path string, set func(any)) {
				switch x := v.(type) {
				case map[string]any:
					for k, c := range x {
						walk(c, path+"."+k, func(n any) { x[k] = n })
					}
				case []any:
					for i, c := range x {
						walk(c, fmt.Sprintf("%s[%d]", path, i), func(n any) { x[i] = n })
					}
				case string:
					set(tricky + " " + path)
					b, _ := json.Marshal(in)
					if _, err := r.Render(context.Background(), faldone.Kind(kind), b, "it"); faldone.ErrorCode(err) == faldone.EINVALID {
						set(x)
						return
					}
					paths = append(paths, path)
				}
			}
			walk(in, "$", nil)
			if len(paths) == 0 {
				t.Fatal("no field takes free text")
			}
			b, _ := json.Marshal(in)
			res, err := r.Render(context.Background(), faldone.Kind(kind), b, "it")
			if err != nil {
				t.Fatal(err)
			}
			text := space.ReplaceAllString(pdftest.Text(t, res.PDF), " ")
			// Tables may hyphenate or wrap inside a word: compare without
			// spaces too, and in drawing order, where a cell's lines follow
			// one another rather than interleave with the row's other cells.
			flat := strings.ReplaceAll(text, " ", "")
			raw := strings.Join(strings.Fields(pdftest.RawText(t, res.PDF)), "")
			for _, p := range paths {
				want := tricky + " " + p
				w := strings.ReplaceAll(want, " ", "")
				if !strings.Contains(text, want) && !strings.Contains(flat, w) && !strings.Contains(raw, w) {
					t.Errorf("%s: %q not printed as typed", p, want)
				}
			}
			if n, m := strings.Count(text, "<no value>"), len(paths); n < m {
				t.Errorf("%d of %d typed <no value> printed", n, m)
			}
			t.Logf("%d fields with typed template syntax", len(paths))
		})
	}
}

// TestMissingFieldsPrintNothing leaves every optional field out: no
// "<no value>" appears.
func TestMissingFieldsPrintNothing(t *testing.T) {
	r := MustRenderer(t)
	for _, kind := range kinds {
		var in map[string]any
		json.Unmarshal(sample(t, "loiano", kind), &in)
		for k := range in {
			save := in[k]
			delete(in, k)
			b, _ := json.Marshal(in)
			if _, err := r.Render(context.Background(), faldone.Kind(kind), b, "it"); err != nil {
				in[k] = save // required
			}
		}
		b, _ := json.Marshal(in)
		res, err := r.Render(context.Background(), faldone.Kind(kind), b, "it")
		if err != nil {
			t.Fatal(err)
		}
		if text := pdftest.Text(t, res.PDF); strings.Contains(text, "<no value>") || strings.Contains(text, "%!") {
			t.Errorf("%s without optional fields prints a missing value: %s", kind, text)
		}
	}
}

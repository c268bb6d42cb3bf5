package docs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/tmpl"
	"faldone/templates"
)

func MustRenderer(tb testing.TB) *docs.Renderer {
	tb.Helper()
	reg, err := comuni.Default()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		tb.Fatal(err)
	}
	set.Version = "test"
	return &docs.Renderer{Templates: set, Version: "test"}
}

func TestRenderSampleToDir(t *testing.T) {
	out := os.Getenv("FALDONE_RENDER_OUT")
	if out == "" {
		t.Skip("set FALDONE_RENDER_OUT")
	}
	r := MustRenderer(t)
	for _, k := range []string{"adesione", "assessment", "piano", "approvazione"} {
		b, err := os.ReadFile(filepath.Join("../../samples/loiano", k+".json"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Render(context.Background(), faldone.Kind(k), b, "")
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		os.WriteFile(filepath.Join(out, k+".pdf"), res.PDF, 0o644)
	}
}

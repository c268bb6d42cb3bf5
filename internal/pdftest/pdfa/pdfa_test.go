package pdfa

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSamples: every committed sample is PDF/A-2b as far as Check reads.
func TestSamples(t *testing.T) {
	files, err := filepath.Glob("../../../samples/*/*.pdf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			pdf, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			Require(t, pdf)
		})
	}
}

// TestSampleFonts runs the font clauses on every sample.
func TestSampleFonts(t *testing.T) {
	files, _ := filepath.Glob("../../../samples/*/*.pdf")
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			pdf, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			RequireFonts(t, pdf)
		})
	}
}

package docs_test

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"faldone/internal/faldone"
)

var updateVisual = flag.Bool("update-visual", false, "rewrite the reference PNGs of the visual regression test")

// Visual regression: the first page of each kind in each language, drawn by
// poppler at 40 dpi, against the reference PNG committed under
// testdata/visual. A page may differ from its reference in at most
// visualTolerance of its pixels (antialiasing, a different poppler); a
// moved block or a changed text differs in far more. After an intended
// change of layout or text, look at the new pages and rewrite the
// references with:
//
//	go test ./internal/docs -run TestVisualRegression -update-visual
const visualTolerance = 0.004

func TestVisualRegression(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed")
	}
	r := MustRenderer(t)
	dir := t.TempDir()
	for _, kind := range r.Templates.Kinds() {
		for _, lang := range []string{"it", "en", "de"} {
			name := kind + "-" + lang
			res, err := r.Render(context.Background(), faldone.Kind(kind), sample(t, "loiano", kind), lang)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			pdf := filepath.Join(dir, name+".pdf")
			if err := os.WriteFile(pdf, res.PDF, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-singlefile", "-png", pdf, filepath.Join(dir, name)).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, out)
			}
			got := filepath.Join(dir, name+".png")
			ref := filepath.Join("testdata", "visual", name+".png")
			if *updateVisual {
				b, err := os.ReadFile(got)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(ref, b, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := os.Stat(ref); err != nil {
				t.Errorf("%s: no reference %s (run: go test ./internal/docs -run TestVisualRegression -update-visual)", name, ref)
				continue
			}
			share, diffImg := compare(loadPNG(t, ref), loadPNG(t, got))
			if share > visualTolerance {
				out := filepath.Join(os.TempDir(), "faldone-visual-"+name+"-diff.png")
				writePNG(t, out, diffImg)
				t.Errorf("%s: %.2f%% of the page differs from %s (tolerance %.2f%%); the differences are drawn in %s, the new page in %s. If the change is intended: go test ./internal/docs -run TestVisualRegression -update-visual",
					name, share*100, ref, visualTolerance*100, out, got)
			}
		}
	}
}

// compare returns the share of pixels that differ clearly between two
// images and a picture of them (red on the new page, faded).
func compare(a, b image.Image) (float64, image.Image) {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Dx() != bb.Dx() || ab.Dy() != bb.Dy() {
		return 1, b
	}
	out := image.NewRGBA(bb)
	n := 0
	for y := 0; y < bb.Dy(); y++ {
		for x := 0; x < bb.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			d := max(diff(r1>>8, r2>>8), diff(g1>>8, g2>>8), diff(b1>>8, b2>>8))
			if d > 64 {
				n++
				out.Set(x, y, color.RGBA{R: 220, A: 255})
				continue
			}
			l := uint8(((r2>>8)+(g2>>8)+(b2>>8))/6 + 128)
			out.Set(x, y, color.RGBA{R: l, G: l, B: l, A: 255})
		}
	}
	return float64(n) / float64(bb.Dx()*bb.Dy()), out
}

func writePNG(tb testing.TB, path string, img image.Image) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		tb.Fatal(fmt.Errorf("write %s: %w", path, err))
	}
}

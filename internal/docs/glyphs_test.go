package docs_test

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"faldone/internal/tmpl"
)

// names carries the letters of the people and places of a comune: the
// Slovene minority of Friuli, Romanian and Albanian staff, a Greek name in
// Calabria.
var names = map[string]string{
	"Romanian":  "Ștefan Țărănescu, Așezământ",
	"Slovene":   "Žiga Čebulj Šuštar",
	"Croatian":  "Đurđa Ćosić Šimić",
	"Polish":    "Łukasz Żółkiewski Jędrzej",
	"Hungarian": "Erdős Győző Ősz",
	"Czech":     "Jiří Dvořák Řehoř Ťopka",
	"Turkish":   "Çağrı Işıkoğlu İnönü Şahin",
	"Albanian":  "Xhafer Dëshmori Çela",
	"German":    "Jürgen Weiß, Großbärenweiler",
	"Greek":     "Γιώργος Παπαδόπουλος, Ψυχή",
	"Symbols":   "≤ 5.000 ≥ € № ° ½",
}

var reChar = regexp.MustCompile(`<char quad="([-\d. ]+)" x="[-\d.]+" y="[-\d.]+" color="[^"]*" c="([^"]*)"/>`)

// TestEveryLetterLeavesInk renders names in the scripts a comune's people
// carry, draws the page with mupdf and looks inside every character's box
// (from mutool's structured text) for ink: a character the fonts lack would
// be in the text layer but blank on the page.
func TestEveryLetterLeavesInk(t *testing.T) {
	if _, err := exec.LookPath("mutool"); err != nil {
		t.Skip("mutool (mupdf-tools) is not installed")
	}
	r := MustRenderer(t)
	data, err := tmpl.Decode(sample(t, "loiano", "adesione"))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, lang := range []string{"Romanian", "Slovene", "Croatian", "Polish", "Hungarian", "Czech", "Turkish", "Albanian", "German", "Greek", "Symbols"} {
		all = append(all, names[lang])
	}
	data["note"] = strings.Join(all, "; ")
	data["firmatario"].(map[string]any)["nome"] = names["Greek"]
	data["referente"].(map[string]any)["nome"] = names["Romanian"]
	res, err := r.RenderData(context.Background(), "adesione", data, "it")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "names.pdf")
	if err := os.WriteFile(pdf, res.PDF, 0o644); err != nil {
		t.Fatal(err)
	}
	const dpi = 144
	if out, err := exec.Command("mutool", "draw", "-q", "-r", strconv.Itoa(dpi), "-o", filepath.Join(dir, "p%d.png"), pdf).CombinedOutput(); err != nil {
		t.Fatalf("mutool draw: %v\n%s", err, out)
	}
	stext, err := exec.Command("mutool", "draw", "-q", "-F", "stext", "-o", "-", pdf).Output()
	if err != nil {
		t.Fatalf("mutool draw -F stext: %v", err)
	}
	wanted := map[rune]bool{}
	for _, s := range all {
		for _, c := range s {
			if c > 127 || (c != ' ' && c != ',' && c != ';') {
				wanted[c] = true
			}
		}
	}
	seen := map[rune]bool{}
	for pn, page := range strings.Split(string(stext), "</page>") {
		if !strings.Contains(page, "<char") {
			continue
		}
		img := loadPNG(t, filepath.Join(dir, fmt.Sprintf("p%d.png", pn+1)))
		for _, m := range reChar.FindAllStringSubmatch(page, -1) {
			c := []rune(htmlChar(m[2]))
			if len(c) != 1 || c[0] == ' ' || c[0] == 0xa0 {
				continue
			}
			q := strings.Fields(m[1])
			f := func(i int) float64 { v, _ := strconv.ParseFloat(q[i], 64); return v * dpi / 72 }
			box := image.Rect(int(f(0)), int(f(1)), int(f(6)+0.999), int(f(7)+0.999))
			if !inked(img, box) {
				t.Errorf("page %d: %q (U+%04X) leaves no ink in its box %v", pn+1, c[0], c[0], box)
			}
			if wanted[c[0]] {
				seen[c[0]] = true
			}
		}
	}
	for c := range wanted {
		if !seen[c] {
			t.Errorf("%q (U+%04X) is not in the text layer", c, c)
		}
	}
}

func htmlChar(s string) string {
	if strings.HasPrefix(s, "&#x") && strings.HasSuffix(s, ";") {
		n, err := strconv.ParseInt(s[3:len(s)-1], 16, 32)
		if err == nil {
			return string(rune(n))
		}
	}
	switch s {
	case "&lt;":
		return "<"
	case "&gt;":
		return ">"
	case "&amp;":
		return "&"
	case "&quot;":
		return `"`
	case "&apos;":
		return "'"
	}
	return s
}

func loadPNG(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// inked reports whether some pixel of box differs clearly from the box's
// most common colour, its background.
func inked(img image.Image, box image.Rectangle) bool {
	box = box.Intersect(img.Bounds())
	count := map[[3]uint32]int{}
	var bg [3]uint32
	best := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			k := [3]uint32{r >> 8, g >> 8, b >> 8}
			count[k]++
			if count[k] > best {
				best, bg = count[k], k
			}
		}
	}
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			d := max(diff(r>>8, bg[0]), diff(g>>8, bg[1]), diff(b>>8, bg[2]))
			if d > 80 {
				return true
			}
		}
	}
	return false
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

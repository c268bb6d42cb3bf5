package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"faldone/internal/pdftest"
	"faldone/internal/testenv"
)

// OracleEnv names the environment variable holding how many random
// updates TestRenderingOracle tries (default oracleDefault), and
// OracleSeedEnv the seed (default: a fixed one, so that a run repeats).
const (
	OracleEnv     = "FALDONE_ORACLE_N"
	OracleSeedEnv = "FALDONE_ORACLE_SEED"
	oracleDefault = 12
)

// render returns the pages of pdf as PNG files drawn by poppler
// (pdftoppm) and by mupdf (mutool draw), at a low resolution; a renderer
// that fails returns its error text as its only "page", which differs
// from any rendering.
func render(t *testing.T, pdf []byte) (poppler, mupdf [][]byte) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	pages := func(prefix string, cmd *exec.Cmd) [][]byte {
		out, err := cmd.CombinedOutput()
		if err != nil {
			return [][]byte{[]byte("error: " + err.Error() + ": " + string(out))}
		}
		files, _ := filepath.Glob(filepath.Join(dir, prefix+"-*.png"))
		slices.SortFunc(files, func(a, b string) int { return pageNum(a) - pageNum(b) })
		var png [][]byte
		for _, f := range files {
			b, _ := os.ReadFile(f)
			png = append(png, b)
			os.Remove(f)
		}
		return png
	}
	poppler = pages("p", exec.Command(testenv.Tool(t, "pdftoppm"), "-r", "15", "-png", in, filepath.Join(dir, "p")))
	mupdf = pages("m", exec.Command(testenv.Tool(t, "mutool"), "draw", "-q", "-r", "15", "-o", filepath.Join(dir, "m-%d.png"), in))
	return poppler, mupdf
}

func pageNum(name string) int {
	base := strings.TrimSuffix(filepath.Base(name), ".png")
	n, _ := strconv.Atoi(base[strings.LastIndexByte(base, '-')+1:])
	return n
}

// TestRenderingOracle appends random incremental updates to a sealed
// letter and renders every result with poppler and mupdf: whenever either
// draws any page differently from the sealed letter (or fails to draw
// it), faldone's verdict must be not valid. A few updates are tried in a
// normal run; FALDONE_ORACLE_N asks for more.
func TestRenderingOracle(t *testing.T) {
	e := newEnv(t)
	_, sealed := e.create(t, "loiano", "adesione")
	n := oracleDefault
	if s := os.Getenv(OracleEnv); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	seed := uint64(20261203)
	if s := os.Getenv(OracleSeedEnv); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("%d updates, seed %d", n, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	basePoppler, baseMupdf := render(t, sealed)
	if len(basePoppler) != 2 || len(baseMupdf) != 2 {
		t.Fatalf("the sealed letter renders as %d and %d pages", len(basePoppler), len(baseMupdf))
	}
	l := pdftest.ReadLetter(t, sealed)
	differ, same, validSame := 0, 0, 0
	for i := range n {
		pdf, what := randomUpdate(t, rng, l)
		p, m := render(t, pdf)
		changed := !slices.EqualFunc(p, basePoppler, bytes.Equal) || !slices.EqualFunc(m, baseMupdf, bytes.Equal)
		r, err := e.verifier.Verify(context.Background(), pdf, "en")
		valid := err == nil && r.Valid
		if changed {
			differ++
		} else {
			same++
			if valid {
				validSame++
				t.Logf("update %d (%s): rendered the same, valid", i, what)
			}
		}
		if changed && valid {
			os.WriteFile(filepath.Join(os.TempDir(), fmt.Sprintf("faldone-oracle-%d-%d.pdf", seed, i)), pdf, 0o600)
			t.Errorf("update %d (%s): rendered differently, yet valid", i, what)
		}
	}
	t.Logf("%d updates rendered differently (all not valid), %d rendered the same (%d of them valid)", differ, same, validSame)
}

// randomUpdate appends to the letter an update of one to three random
// changes, and says what they are.
func randomUpdate(t *testing.T, rng *rand.Rand, l *pdftest.Letter) ([]byte, string) {
	u := l.NewUpdate()
	page := l.PageBody
	catalog := l.CatalogBody
	var what []string
	trailing := ""
	num := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	for range num(1, 3) {
		switch k := rng.IntN(12); k {
		case 0: // a rectangle drawn over the page
			c := u.New()
			u.Set(c, pdftest.Stream("", fmt.Sprintf("q %.2f %.2f %.2f rg %d %d %d %d re f Q", rng.Float64(), rng.Float64(), rng.Float64(), num(0, 500), num(0, 700), num(5, 300), num(5, 300))))
			page = pdftest.ReplaceKey(page, "Contents", fmt.Sprintf("[%d 0 R %d 0 R]", l.Contents, c))
			what = append(what, "content appended")
		case 1: // the content written again, unchanged
			u.Set(l.Contents, l.Object(t, l.Contents))
			what = append(what, "content restated")
		case 2:
			page = pdftest.ReplaceKey(page, "MediaBox", fmt.Sprintf("[0 0 %d %d]", num(200, 700), num(200, 900)))
			what = append(what, "media box")
		case 3:
			page = pdftest.ReplaceKey(page, "Rotate", strconv.Itoa(90*num(0, 3)))
			what = append(what, "rotation")
		case 4: // an annotation, visible or hidden
			a, ap := u.New(), u.New()
			u.Set(ap, pdftest.Stream("/Type /XObject /Subtype /Form /BBox [0 0 100 40]", "0 0 1 rg 0 0 100 40 re f"))
			flags := []int{4, 2, 32, 0}[rng.IntN(4)]
			sub := []string{"Square", "Stamp", "FreeText", "Widget"}[rng.IntN(4)]
			ft := ""
			if rng.IntN(3) == 0 {
				ft = "/FT /Sig /T (X" + strconv.Itoa(a) + ")"
			}
			u.Set(a, fmt.Sprintf("<< /Type /Annot /Subtype /%s %s /Rect [%d %d %d %d] /F %d /AP << /N %d 0 R >> /P %d 0 R >>", sub, ft, num(0, 400), num(0, 600), num(410, 590), num(610, 800), flags, ap, l.Page))
			page = pdftest.ReplaceKey(page, "Annots", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, a))
			what = append(what, fmt.Sprintf("annotation %s flags %d %s", sub, flags, ft))
		case 5: // an invisible, unsigned signature field, as signing software adds
			a := u.New()
			u.Set(a, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Firma%d) /Rect [0 0 0 0] /F 132 /P %d 0 R >>", a, l.Page))
			page = pdftest.ReplaceKey(page, "Annots", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, a))
			u.Set(l.AcroForm, pdftest.ReplaceKey(l.AcroFormBody, "Fields", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, a)))
			what = append(what, "empty signature field")
		case 6:
			u.Set(l.Info, fmt.Sprintf("<< /Title (Titolo %d) >>", num(0, 999)))
			what = append(what, "info")
		case 7: // pages swapped
			kids := strings.Fields(strings.Trim(regexpKids(l.Object(t, l.Pages)), "[]"))
			if len(kids) == 6 {
				u.Set(l.Pages, pdftest.ReplaceKey(l.Object(t, l.Pages), "Kids", fmt.Sprintf("[%s %s %s %s %s %s]", kids[3], kids[4], kids[5], kids[0], kids[1], kids[2])))
				what = append(what, "pages swapped")
			}
		case 8: // the second page dropped
			u.Set(l.Pages, pdftest.ReplaceKey(pdftest.ReplaceKey(l.Object(t, l.Pages), "Kids", fmt.Sprintf("[%d 0 R]", l.Page)), "Count", "1"))
			what = append(what, "page dropped")
		case 9: // an object after the last %%EOF, with no cross-reference
			trailing = fmt.Sprintf("%d 0 obj\n%s\nendobj\n", l.Contents, pdftest.Stream("", "0 0 1 rg 50 50 300 300 re f"))
			what = append(what, "trailing object")
		case 10: // the catalog written again, unchanged or with a viewer setting
			if rng.IntN(2) == 0 {
				catalog = pdftest.ReplaceKey(catalog, "PageMode", "/UseOutlines")
			}
			u.Set(l.Root, catalog)
			what = append(what, "catalog")
		case 11: // the font of the page's resources replaced
			res := l.Object(t, l.Resources)
			u.Set(l.Resources, regexpFont(res))
			what = append(what, "font replaced")
		}
	}
	if page != l.PageBody {
		u.Set(l.Page, page)
	}
	pdf := append(u.Bytes(), trailing...)
	if rng.IntN(5) == 0 {
		// a byte of the update changed: offsets, keywords, lengths, that
		// a repairing reader may read past
		i := len(l.PDF) + rng.IntN(len(pdf)-len(l.PDF))
		c := " 0123456789<>[]/obj"[rng.IntN(19)]
		pdf[i] = c
		what = append(what, fmt.Sprintf("byte %d of the update set to %q", i-len(l.PDF), c))
	}
	return pdf, strings.Join(what, ", ")
}

var (
	kidsRE = regexp.MustCompile(`/Kids\s*(\[[^\]]*\])`)
	fontRE = regexp.MustCompile(`/(F\w+)\s+\d+\s+0\s+R`)
)

// regexpKids returns the /Kids array of a page tree node's text.
func regexpKids(body string) string {
	m := kidsRE.FindStringSubmatch(body)
	if m == nil {
		return "[]"
	}
	return m[1]
}

// regexpFont replaces the first font of a resource dictionary's text by
// Courier.
func regexpFont(body string) string {
	done := false
	return fontRE.ReplaceAllStringFunc(body, func(s string) string {
		if done {
			return s
		}
		done = true
		return "/" + fontRE.FindStringSubmatch(s)[1] + " << /Type /Font /Subtype /Type1 /BaseFont /Courier >>"
	})
}

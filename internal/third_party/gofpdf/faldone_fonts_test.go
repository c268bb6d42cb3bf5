package gofpdf

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func titillium(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../fonts/TitilliumWeb-Regular.ttf")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func doc(t *testing.T, font []byte, text string) ([]byte, error) {
	t.Helper()
	pdf := New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(time.Date(2026, 4, 13, 0, 0, 0, 0, time.UTC))
	pdf.SetModificationDate(time.Date(2026, 4, 13, 0, 0, 0, 0, time.UTC))
	pdf.AddUTF8FontFromBytes("t", "", font)
	pdf.AddPage()
	pdf.SetFont("t", "", 12)
	pdf.Text(10, 10, text)
	pdf.CellFormat(100, 10, text, "", 1, "J", false, 0, "")
	var b bytes.Buffer
	err := pdf.Output(&b)
	return b.Bytes(), err
}

// TestNoGlyphZero: a character the font has no glyph for fails the
// document instead of being drawn as glyph 0 (.notdef).
func TestNoGlyphZero(t *testing.T) {
	font := titillium(t)
	if _, err := doc(t, font, "Città di Loiano"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"漢字", "a \u0416 b", "\U0001F600"} {
		_, err := doc(t, font, s)
		if err == nil || !strings.Contains(err.Error(), "has no glyph for") {
			t.Errorf("%q: %v, want a refusal", s, err)
		}
	}
}

// TestFontParsedOnce: documents on several goroutines share one parse of a
// font, never write to its bytes, and come out identical.
func TestFontParsedOnce(t *testing.T) {
	font := titillium(t)
	sum := sha1.Sum(font)
	want, err := doc(t, font, "Perché è così: 12,50 € – «citazione»")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := sharedUTF8Font(fmt.Sprintf("%x", sum), font)
	if err != nil {
		t.Fatal(err)
	}
	if len(shared.CharWidths) > 0x3000 {
		t.Errorf("width table of %d entries, not cut to the font", len(shared.CharWidths))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				got, err := doc(t, font, "Perché è così: 12,50 € – «citazione»")
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, want) {
					t.Error("a document differs from the same document made before")
					return
				}
			}
		}()
	}
	wg.Wait()
	if sha1.Sum(shared.fileReader.array) != sum || sha1.Sum(font) != sum {
		t.Error("cutting subsets wrote to the font's bytes")
	}
}

// TestCIDWidths: the /W array gives every used character its width and
// names no other character.
func TestCIDWidths(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for n := 0; n < 200; n++ {
		cw := make([]int, 300)
		for i := range cw {
			if r.Intn(5) > 0 {
				cw[i] = []int{500, 500, 500, 250, 65535, 600 + r.Intn(3)}[r.Intn(6)]
			}
		}
		used := map[int]int{}
		for i := 0; i < r.Intn(200); i++ {
			c := r.Intn(320)
			used[c] = c
		}
		got := parseW(t, cidWidths(func(c int) int {
			if c < len(cw) {
				return cw[c]
			}
			return 0
		}, used))
		for c := range used {
			if c <= 0 || c >= len(cw) || cw[c] == 0 {
				if _, ok := got[c]; ok {
					t.Fatalf("width for unused or missing character %d", c)
				}
				continue
			}
			w := cw[c]
			if w == 65535 {
				w = 0
			}
			if got[c] != w {
				t.Fatalf("character %d: width %d, want %d", c, got[c], w)
			}
		}
		if len(got) > len(used) {
			t.Fatalf("%d widths for %d used characters", len(got), len(used))
		}
	}
}

// parseW reads a /W array's content: "c [w ...]" and "first last w".
func parseW(t *testing.T, s string) map[int]int {
	t.Helper()
	out := map[int]int{}
	tok := regexp.MustCompile(`\[|\]|\d+`).FindAllString(s, -1)
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	for i := 0; i < len(tok); {
		c := num(tok[i])
		if tok[i+1] == "[" {
			j := i + 2
			for ; tok[j] != "]"; j++ {
				out[c+j-i-2] = num(tok[j])
			}
			i = j + 1
			continue
		}
		for k := c; k <= num(tok[i+1]); k++ {
			out[k] = num(tok[i+2])
		}
		i += 3
	}
	return out
}

// TestSubsetCacheChangesNothing: a document is the same whether its font
// subsets come from the cache or are cut anew.
func TestSubsetCacheChangesNothing(t *testing.T) {
	font := titillium(t)
	text := "Subset cache: Perché 0123456789"
	warm1, err := doc(t, font, text)
	if err != nil {
		t.Fatal(err)
	}
	warm2, err := doc(t, font, text) // from the cache
	if err != nil {
		t.Fatal(err)
	}
	SetFontSubsetCache(0)
	defer SetFontSubsetCache(128)
	cold, err := doc(t, font, text)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(warm1, cold) || !bytes.Equal(warm2, cold) {
		t.Error("the subset cache changes the output")
	}
	other, err := doc(t, font, text+"X")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, cold) {
		t.Error("another text made the same document")
	}
}

// TestWidthsAboveTheTable: a font's characters above its dense width table
// (DejaVu Sans's ligatures at U+FB0x) keep their widths.
func TestWidthsAboveTheTable(t *testing.T) {
	font, err := os.ReadFile("../../../fonts/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	pdf := New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("d", "", font)
	pdf.AddPage()
	pdf.SetFont("d", "", 12)
	if n := len(pdf.currentFont.Cw); n > 0x3000 {
		t.Errorf("dense width table of %d entries", n)
	}
	fi, f, i := pdf.GetStringSymbolWidth("\uFB01"), pdf.GetStringSymbolWidth("f"), pdf.GetStringSymbolWidth("i")
	if fi <= 0 || fi == pdf.currentFont.Desc.MissingWidth || fi > f+i+50 {
		t.Errorf("width of U+FB01 %d (f %d, i %d, missing %d)", fi, f, i, pdf.currentFont.Desc.MissingWidth)
	}
}

// TestToUnicodeRanges: the ToUnicode CMap maps each character used to
// itself, in ranges that never cross a high byte.
func TestToUnicodeRanges(t *testing.T) {
	got := string(toUnicodeCMap(map[int]int{0x41: 3, 0x42: 4, 0xFE: 5, 0xFF: 6, 0x100: 7, 0x101: 8, 0x20AC: 9}))
	want := "4 beginbfrange\n<0041> <0042> <0041>\n<00FE> <00FF> <00FE>\n<0100> <0101> <0100>\n<20AC> <20AC> <20AC>\nendbfrange\n"
	if !strings.Contains(got, want) {
		t.Errorf("ToUnicode CMap:\n%s\nwant the ranges\n%s", got, want)
	}
	many := map[int]int{}
	for c := 0x100; c < 0x100+2*250; c += 2 {
		many[c] = 1
	}
	if got := string(toUnicodeCMap(many)); strings.Count(got, "beginbfrange") != 3 || !strings.Contains(got, "100 beginbfrange") || !strings.Contains(got, "50 beginbfrange") {
		t.Errorf("250 ranges not in blocks of at most 100:\n%s", got)
	}
}

// Text writes the operators fmt wrote, the position of right-to-left
// text included (moved left by its width before it is written).
func TestTextOperators(t *testing.T) {
	for _, rtl := range []bool{false, true} {
		pdf := New("P", "mm", "A4", "")
		pdf.SetCompression(false)
		pdf.AddUTF8FontFromBytes("t", "", titillium(t))
		pdf.AddPage()
		pdf.SetFont("t", "", 12)
		pdf.SetTextColor(200, 10, 10)
		if rtl {
			pdf.RTL()
		}
		pdf.Text(100.123, 20.456, "a (b) \\c")
		x := 100.123
		if rtl {
			x -= pdf.GetStringWidth(reverseText("a (b) \\c"))
		}
		want := fmt.Sprintf("q %s BT %.2f %.2f Td (%s) Tj ET Q", pdf.color.text.str, x*pdf.k, (pdf.h-20.456)*pdf.k,
			pdf.escape(utf8toutf16(func() string {
				if rtl {
					return reverseText("a (b) \\c")
				}
				return "a (b) \\c"
			}(), false)))
		if got := pdf.pages[1].String(); !strings.Contains(got, want) {
			t.Errorf("rtl %v: page lacks %q:\n%s", rtl, want, got)
		}
	}
}

package render

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"faldone/fonts"
)

// face measures text in one font face, in PDF points at size 1.
type face struct {
	mu   sync.Mutex
	f    *sfnt.Font
	buf  sfnt.Buffer
	upem float64
	// The widths of the first runes, most of a letter, lock-free: the
	// bits of the width with the sign bit set once known.
	small  [smallRunes]atomic.Uint64
	widths sync.Map // rune -> float64, the others
}

// smallRunes is how many runes from U+0000 face keeps in an array: the
// Latin scripts and the punctuation of Italian and German.
const smallRunes = 0x250

// known marks a width stored in face.small.
const known = 1 << 63

func newFace(b []byte) (*face, error) {
	f, err := sfnt.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	return &face{f: f, upem: float64(f.UnitsPerEm())}, nil
}

// width returns the advance of r at size 1pt, in points.
func (fc *face) width(r rune) float64 {
	if r >= 0 && r < smallRunes {
		if v := fc.small[r].Load(); v&known != 0 {
			return math.Float64frombits(v &^ known)
		}
	} else if w, ok := fc.widths.Load(r); ok {
		return w.(float64)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	gi, err := fc.f.GlyphIndex(&fc.buf, r)
	w := 0.5
	if err == nil {
		adv, err := fc.f.GlyphAdvance(&fc.buf, gi, fixed.I(int(fc.upem)), 0)
		if err == nil {
			// gofpdf rounds widths to thousandths of the em.
			w = float64(int(float64(adv)/64/fc.upem*1000+0.5)) / 1000
		}
	}
	if r >= 0 && r < smallRunes {
		fc.small[r].Store(math.Float64bits(w) | known)
	} else {
		fc.widths.Store(r, w)
	}
	return w
}

// Width returns the width of s in millimetres at the given size in points.
func (fc *face) Width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += fc.width(r)
	}
	return w * size * 25.4 / 72
}

var (
	facesOnce sync.Once
	faces     map[string]*face // family + "/" + style ("", "B", "I", "BI")
	facesErr  error
)

func loadFaces() (map[string]*face, error) {
	facesOnce.Do(func() {
		f := fonts.All()
		faces = map[string]*face{}
		for key, b := range map[string][]byte{
			fonts.Family + "/": f.Regular, fonts.Family + "/B": f.Bold,
			fonts.Family + "/I": f.Italic, fonts.Family + "/BI": f.BoldItalic,
			fonts.FallbackFamily + "/": f.Fallback, fonts.FallbackFamily + "/B": f.FallbackBold,
			fonts.MonoFamily + "/": f.Mono,
		} {
			fc, err := newFace(b)
			if err != nil {
				facesErr = err
				return
			}
			faces[key] = fc
		}
	})
	return faces, facesErr
}

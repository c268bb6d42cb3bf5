package render

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"faldone/fonts"
)

// face measures text in one font face, in PDF points at size 1.
type face struct {
	mu     sync.Mutex
	f      *sfnt.Font
	buf    sfnt.Buffer
	upem   float64
	widths sync.Map // rune -> float64
}

func newFace(b []byte) (*face, error) {
	f, err := sfnt.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	return &face{f: f, upem: float64(f.UnitsPerEm())}, nil
}

// width returns the advance of r at size 1pt, in points.
func (fc *face) width(r rune) float64 {
	if w, ok := fc.widths.Load(r); ok {
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
	fc.widths.Store(r, w)
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
	faces     map[string]*face
	facesErr  error
)

func loadFaces() (map[string]*face, error) {
	facesOnce.Do(func() {
		f := fonts.Copy()
		faces = map[string]*face{}
		for style, b := range map[string][]byte{"": f.Regular, "B": f.Bold, "I": f.Italic, "BI": f.BoldItalic} {
			fc, err := newFace(b)
			if err != nil {
				facesErr = err
				return
			}
			faces[style] = fc
		}
	})
	return faces, facesErr
}

// wrap breaks s into lines no wider than width millimetres. Explicit
// newlines start new lines; words longer than a line are cut.
func wrap(fc *face, s string, size, width float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			out = append(out, "")
			continue
		}
		space := fc.Width(" ", size)
		line, lineW := "", 0.0
		for _, w := range words {
			ww := fc.Width(w, size)
			for ww > width {
				// Cut a word longer than the line.
				if line != "" {
					out = append(out, line)
					line, lineW = "", 0
				}
				cut := cutAt(fc, w, size, width)
				out = append(out, w[:cut])
				w = w[cut:]
				ww = fc.Width(w, size)
			}
			switch {
			case line == "":
				line, lineW = w, ww
			case lineW+space+ww <= width:
				line += " " + w
				lineW += space + ww
			default:
				out = append(out, line)
				line, lineW = w, ww
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// cutAt returns the byte length of the longest prefix of w that fits width.
func cutAt(fc *face, w string, size, width float64) int {
	total, n := 0.0, 0
	for i, r := range w {
		total += fc.width(r) * size * 25.4 / 72
		if total > width {
			if n == 0 {
				return utf8.RuneLen(r) + i
			}
			return n
		}
		n = i + utf8.RuneLen(r)
	}
	return len(w)
}

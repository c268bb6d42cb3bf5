// Package hyphen tells where a word may be hyphenated, by Liang's algorithm
// (the one TeX uses) over the hyph-utf8 TeX patterns of the document
// languages: hyph-it.tex (Claudio Beccari, LPPL 1.3 or MIT), hyph-de-1996.tex
// (the German Trennmuster project, MIT) and hyph-en-us.tex (Gerard D. C.
// Kuiken, free to copy with its notice). Each file is embedded unchanged,
// its licence in its header, as Debian's texlive-lang-* packages ship it.
//
// No maintained Go implementation is reachable from the module proxy, so
// this is a small one, tested against Debian's python3-pyphen on the same
// patterns.
package hyphen

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

var (
	//go:embed hyph-it.tex
	itTeX string
	//go:embed hyph-en-us.tex
	enTeX string
	//go:embed hyph-de-1996.tex
	deTeX string
)

// Hyphenator holds one language's patterns.
type Hyphenator struct {
	pats        map[string][]uint8 // letters -> values between them (len+1)
	maxLen      int                // longest pattern, in runes
	left, right int                // fewest letters before the first and after the last hyphen
	exceptions  map[string][]int
	cache       sync.Map // word -> []int
}

var (
	mu     sync.Mutex
	byLang = map[string]*Hyphenator{}
)

// For returns the hyphenator of lang ("it", "en", "de"), or nil when there
// are no patterns for it. Patterns are parsed on first use.
func For(lang string) *Hyphenator {
	mu.Lock()
	defer mu.Unlock()
	if h, ok := byLang[lang]; ok {
		return h
	}
	var h *Hyphenator
	switch lang {
	case "it":
		h = Parse(itTeX, 2, 2)
	case "en":
		h = Parse(enTeX, 2, 3)
	case "de":
		h = Parse(deTeX, 2, 2)
	}
	byLang[lang] = h
	return h
}

// Parse reads the \patterns{...} and \hyphenation{...} groups of a TeX
// pattern file. left and right are the fewest letters kept before the
// first and after the last hyphen (TeX's \lefthyphenmin, \righthyphenmin).
func Parse(tex string, left, right int) *Hyphenator {
	h := &Hyphenator{pats: map[string][]uint8{}, exceptions: map[string][]int{}, left: left, right: right}
	var b strings.Builder
	for _, ln := range strings.Split(tex, "\n") {
		if i := strings.IndexByte(ln, '%'); i >= 0 {
			ln = ln[:i]
		}
		b.WriteString(ln)
		b.WriteByte('\n')
	}
	src := b.String()
	for _, f := range strings.Fields(group(src, `\patterns{`)) {
		h.addPattern(f)
	}
	for _, f := range strings.Fields(group(src, `\hyphenation{`)) {
		word := strings.ReplaceAll(f, "-", "")
		var pts []int
		n := 0
		for _, r := range f {
			if r == '-' {
				pts = append(pts, n)
				continue
			}
			n++
		}
		h.exceptions[strings.ToLower(word)] = pts
	}
	return h
}

// group returns the text between a TeX command's opening brace and its
// closing one.
func group(src, cmd string) string {
	i := strings.Index(src, cmd)
	if i < 0 {
		return ""
	}
	rest := src[i+len(cmd):]
	if j := strings.IndexByte(rest, '}'); j >= 0 {
		return rest[:j]
	}
	return rest
}

func (h *Hyphenator) addPattern(p string) {
	var letters []rune
	vals := []uint8{0}
	for _, r := range p {
		if r >= '0' && r <= '9' {
			vals[len(vals)-1] = uint8(r - '0')
			continue
		}
		letters = append(letters, r)
		vals = append(vals, 0)
	}
	if len(letters) == 0 {
		return
	}
	h.pats[string(letters)] = vals
	h.maxLen = max(h.maxLen, len(letters))
}

// Points returns the rune offsets in word where a hyphen may go: a point k
// breaks the word between its runes k-1 and k. A word that is not all
// letters gets none.
func (h *Hyphenator) Points(word string) []int {
	if h == nil {
		return nil
	}
	if v, ok := h.cache.Load(word); ok {
		return v.([]int)
	}
	pts := h.points(word)
	h.cache.Store(word, pts)
	return pts
}

func (h *Hyphenator) points(word string) []int {
	runes := []rune(strings.ToLower(word))
	n := len(runes)
	if n < h.left+h.right {
		return nil
	}
	for _, r := range runes {
		if !unicode.IsLetter(r) {
			return nil
		}
	}
	if pts, ok := h.exceptions[string(runes)]; ok {
		return pts
	}
	w := make([]rune, 0, n+2)
	w = append(append(append(w, '.'), runes...), '.')
	vals := make([]uint8, len(w)+1)
	for i := range w {
		for j := i + 1; j <= len(w) && j-i <= h.maxLen; j++ {
			p, ok := h.pats[string(w[i:j])]
			if !ok {
				continue
			}
			for k, v := range p {
				if v > vals[i+k] {
					vals[i+k] = v
				}
			}
		}
	}
	var pts []int
	for k := h.left; k <= n-h.right; k++ {
		if vals[k+1]%2 == 1 {
			pts = append(pts, k)
		}
	}
	return pts
}

// Hyphenate returns word with a hyphen at every point, for tests and
// diagnostics.
func (h *Hyphenator) Hyphenate(word string) string {
	runes := []rune(word)
	var b strings.Builder
	pts := h.Points(word)
	for i, r := range runes {
		if len(pts) > 0 && pts[0] == i {
			b.WriteByte('-')
			pts = pts[1:]
		}
		b.WriteRune(r)
	}
	return b.String()
}

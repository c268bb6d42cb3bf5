package render

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"faldone/fonts"
	"faldone/internal/render/hyphen"
)

// textLine is one line of set text.
type textLine struct {
	s    string
	last bool // the last line of a paragraph: never justified
}

// run is a text set in one face: its lines, the family that draws them and
// the style they are measured in.
type run struct {
	lines  []textLine
	family string
	st     style   // the style the lines are set in (the fallback's size is scaled)
	lh     float64 // line pitch, mm: the requested style's, whatever the face
	shift  float64 // how far to lower the baseline to centre the glyphs in the line
}

// fallbackScale matches DejaVu Sans's x-height (0.55 em) to Titillium Web's (0.50 em).
const fallbackScale = 0.91

// faceBox is the ascent and descent, in em, of each family's glyphs.
var faceBox = map[string][2]float64{
	fonts.Family:         {1.133, 0.388},
	fonts.FallbackFamily: {0.928, 0.236},
	fonts.MonoFamily:     {1.048, 0.271},
}

const nbsp = "\u00a0"

var (
	reDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)
	reID     = regexp.MustCompile(`^[a-z2-7]{26}$`)
)

// typo applies the typography of an Italian letter to a text: a no-break
// space between the euro sign and its amount, and none of the control
// characters a PDF cannot show.
func typo(s string) string {
	s = strings.ReplaceAll(s, "€ ", "€"+nbsp)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\r':
			return ' '
		case r == '\n':
			return r
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0xad || r == 0x200b || r == 0xfeff:
			return -1
		}
		return r
	}, s)
	return s
}

// isCode reports whether s is a SHA-256 digest or a document id, set in
// Roboto Mono.
func isCode(s string) bool {
	return reDigest.MatchString(s) || (reID.MatchString(s) && strings.ContainsAny(s, "234567"))
}

// grouped writes a digest in groups of eight characters, so it breaks only
// between groups.
func grouped(s string) string {
	if !reDigest.MatchString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i += 8 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i : i+8])
	}
	return b.String()
}

// familyFor picks the family a text is set in: Titillium Web when it has
// every character, else the fallback.
func (m *measurer) familyFor(s string) string {
	main := fonts.Main()
	for _, r := range s {
		if r == '\n' {
			continue
		}
		if !main.Has(r) {
			m.usesFallback = true
			return fonts.FallbackFamily
		}
	}
	return fonts.Family
}

// set wraps s in a column width wide (mm), choosing its face; hyphenate
// allows breaking words by the document language's patterns.
func (m *measurer) set(s string, st style, width float64, hyphenate bool) run {
	s = typo(s)
	fam := m.familyFor(s)
	if isCode(strings.TrimSpace(s)) {
		fam, st.size = fonts.MonoFamily, min(st.size, 8.5)
		s = grouped(strings.TrimSpace(s))
		m.usesMono = true
		hyphenate = false
	}
	fc := m.face(fam, st)
	if fam == fonts.MonoFamily && strings.Count(s, " ") == 7 && fc.Width(s, st.size) > width*0.985 {
		// Lines of four groups, or of two in a narrow column, rather than
		// a ragged break.
		g := strings.Fields(s)
		per := 4
		if fc.Width(strings.Join(g[:4], " "), st.size) > width*0.985 {
			per = 2
		}
		var ls []string
		for i := 0; i < len(g); i += per {
			ls = append(ls, strings.Join(g[i:i+per], " "))
		}
		s = strings.Join(ls, "\n")
	}
	var hy *hyphen.Hyphenator
	if hyphenate && fam != fonts.MonoFamily {
		hy = m.hy
	}
	lh := st.lineH()
	if fam == fonts.FallbackFamily {
		st.size *= fallbackScale
		fc = m.face(fam, st)
	}
	// maroto sets the baseline one em below the top of the line; lower it so
	// that the glyphs' box sits in the middle of the line's pitch.
	em := st.size * ptToMM
	box := faceBox[fam]
	shift := (lh-(box[0]+box[1])*em)/2 + box[0]*em - em
	// A small safety margin keeps the PDF writer from re-wrapping a line.
	return run{lines: wrap(fc, hy, s, st.size, width*0.985), family: fam, st: st, lh: lh, shift: shift}
}

// wrap breaks s into lines no wider than width millimetres. Explicit
// newlines start new paragraphs; a word that does not fit the rest of a
// line is hyphenated when hy allows it, and a word longer than a whole line
// is cut.
func wrap(fc *face, hy *hyphen.Hyphenator, s string, size, width float64) []textLine {
	var out []textLine
	space := fc.Width(" ", size)
	for _, para := range strings.Split(s, "\n") {
		words := strings.FieldsFunc(para, func(r rune) bool { return r == ' ' })
		if len(words) == 0 {
			out = append(out, textLine{last: true})
			continue
		}
		cur, curW := "", 0.0
		emit := func() {
			out = append(out, textLine{s: cur})
			cur, curW = "", 0
		}
		for _, w := range words {
			for w != "" {
				ww := fc.Width(w, size)
				if cur == "" && ww <= width {
					cur, curW = w, ww
					break
				}
				if cur != "" && curW+space+ww <= width {
					cur += " " + w
					curW += space + ww
					break
				}
				// w does not fit: break it at the last point that fits the line.
				room := width
				if cur != "" {
					room = width - curW - space
				}
				if head, tail, ok := breakWord(fc, hy, w, size, room); ok {
					if cur != "" {
						cur += " "
					}
					cur += head
					emit()
					w = tail
					continue
				}
				if cur != "" {
					emit()
					continue
				}
				// A word longer than a whole line, with no point to break it.
				cut := cutAt(fc, w, size, width)
				cur = w[:cut]
				emit()
				w = w[cut:]
			}
		}
		if cur != "" {
			out = append(out, textLine{s: cur})
		}
		out[len(out)-1].last = true
	}
	return out
}

// softHyphen ends the head of a word broken at a hyphenation point. It is
// drawn as a hyphen (the faces map U+00AD to the hyphen's glyph) and read as
// a soft hyphen: a reader of the tagged text joins the word again (ISO
// 32000-1 14.8.2.2.3), where U+002D would leave "con-venzione".
const softHyphen = "\u00ad"

// breakWord splits w at its last break point whose head (with a hyphen when
// the point is a hyphenation) fits room: after a hyphen or slash already in
// the word, or at a hyphenation point of the word's letters.
func breakWord(fc *face, hy *hyphen.Hyphenator, w string, size, room float64) (head, tail string, ok bool) {
	type point struct {
		at     int // byte offset
		hyphen bool
	}
	var pts []point
	runes := []rune(w)
	off := 0
	for i, r := range runes {
		off += utf8.RuneLen(r)
		if (r == '-' || r == '/') && i > 0 && i < len(runes)-1 {
			pts = append(pts, point{off, false})
		}
	}
	if hy != nil {
		// Hyphenate the letters between leading and trailing punctuation.
		start, end := 0, len(runes)
		word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
		for start < end && !word(runes[start]) {
			start++
		}
		for end > start && !word(runes[end-1]) {
			end--
		}
		core := string(runes[start:end])
		if !isCaps(core) {
			for _, k := range hy.Points(core) {
				pts = append(pts, point{len(string(runes[:start+k])), true})
			}
		}
	}
	best := -1
	for i, p := range pts {
		h := w[:p.at]
		if p.hyphen {
			h += softHyphen
		}
		if fc.Width(h, size) <= room && (best < 0 || p.at > pts[best].at) {
			best = i
		}
	}
	if best < 0 {
		return "", "", false
	}
	p := pts[best]
	head = w[:p.at]
	if p.hyphen {
		head += softHyphen
	}
	return head, w[p.at:], true
}

// isCaps reports whether a word is an acronym, which is never hyphenated.
func isCaps(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsUpper(r) {
			n++
		}
	}
	return n > 1
}

// cutAt returns the byte length of the longest prefix of w that fits width,
// at least one character.
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

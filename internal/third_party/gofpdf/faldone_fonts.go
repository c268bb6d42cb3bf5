package gofpdf

// faldone patch: helpers of the UTF-8 font embedding (see PATCHES.md).

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// subsetTag returns the six uppercase letters that name a subset (ISO
// 32000-1 9.6.4), derived from the subset's own bytes: the same subset
// always gets the same tag, and different subsets almost always different
// ones.
func subsetTag(subset []byte) string {
	sum := sha256.Sum256(subset)
	var tag [6]byte
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag[:])
}

// pdfFontName returns the font's PostScript name as a PDF name without
// delimiters or characters that would need escaping, or fallback if the
// font has none.
func pdfFontName(postScript, fallback string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_' || r == '.' {
				return r
			}
			return -1
		}, s)
	}
	if n := clean(postScript); n != "" {
		return n
	}
	return clean(fallback)
}

// cidWidths returns the content of a CIDFont's /W array for the characters
// (CIDs) in used, with their widths from cw (0: no such character; 65535:
// zero width): a run of three or more equal widths as "first last width",
// other consecutive characters as "first [w1 w2 ...]".
func cidWidths(cw func(int) int, used map[int]int) string {
	cids := make([]int, 0, len(used))
	for c := range used {
		if c > 0 && cw(c) != 0 {
			cids = append(cids, c)
		}
	}
	sort.Ints(cids)
	width := func(c int) int {
		if w := cw(c); w != 65535 {
			return w
		}
		return 0
	}
	var b []byte
	for i := 0; i < len(cids); {
		// cids[i:j] are consecutive characters.
		j := i + 1
		for j < len(cids) && cids[j] == cids[j-1]+1 {
			j++
		}
		list := -1 // start of the pending list of single widths
		flush := func(end int) {
			if list < 0 {
				return
			}
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(cids[list]), 10)
			b = append(b, " ["...)
			for k := list; k < end; k++ {
				b = append(b, ' ')
				b = strconv.AppendInt(b, int64(width(cids[k])), 10)
			}
			b = append(b, " ]"...)
			list = -1
		}
		for k := i; k < j; {
			e := k + 1
			for e < j && width(cids[e]) == width(cids[k]) {
				e++
			}
			if e-k >= 3 {
				flush(k)
				b = append(b, ' ')
				b = strconv.AppendInt(b, int64(cids[k]), 10)
				b = append(b, ' ')
				b = strconv.AppendInt(b, int64(cids[e-1]), 10)
				b = append(b, ' ')
				b = strconv.AppendInt(b, int64(width(cids[k])), 10)
			} else if list < 0 {
				list = k
			}
			k = e
		}
		flush(j)
		i = j
	}
	return string(b)
}

// toUnicodeCMap returns the ToUnicode CMap of a subset whose characters
// (CIDs) are the keys of codes: the writer's CIDs are the characters' own
// code points, so each maps to itself, in ranges of consecutive characters
// that stay within one high byte, as CMaps require.
func toUnicodeCMap(codes map[int]int) []byte {
	cids := make([]int, 0, len(codes))
	for c := range codes {
		if c > 0 && c <= 0xFFFF && (c < 0xD800 || c > 0xDFFF) {
			cids = append(cids, c)
		}
	}
	sort.Ints(cids)
	var ranges [][2]int
	for _, c := range cids {
		if n := len(ranges); n > 0 && ranges[n-1][1] == c-1 && c&0xFF != 0 {
			ranges[n-1][1] = c
			continue
		}
		ranges = append(ranges, [2]int{c, c})
	}
	hex4 := func(b []byte, v int) []byte {
		const digits = "0123456789ABCDEF"
		return append(b, '<', digits[v>>12&0xF], digits[v>>8&0xF], digits[v>>4&0xF], digits[v&0xF], '>')
	}
	b := []byte("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(ranges) > 0 {
		n := len(ranges)
		if n > 100 {
			n = 100
		}
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, " beginbfrange\n"...)
		for _, r := range ranges[:n] {
			b = hex4(b, r[0])
			b = append(b, ' ')
			b = hex4(b, r[1])
			b = append(b, ' ')
			b = hex4(b, r[0])
			b = append(b, '\n')
		}
		b = append(b, "endbfrange\n"...)
		ranges = ranges[n:]
	}
	return append(b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"...)
}

// useRunes records the characters of s as used by the current UTF-8 font,
// and fails the document if the font has no glyph for one of them: such a
// character would be drawn as .notdef (glyph 0), which a reader cannot
// read and PDF/A forbids (ISO 19005-2 6.2.11.8).
func (f *Fpdf) useRunes(s string) {
	used := f.currentFont.usedRunes
	for _, r := range s {
		// A character drawn before was checked then (the ones the writer
		// puts in every subset map to 0, not to themselves).
		if v, ok := used[int(r)]; ok && v == int(r) && r != 0 {
			continue
		}
		if !f.currentFont.utf8File.hasGlyph(int(r)) {
			f.SetErrorf("gofpdf: font %s has no glyph for %U", f.currentFont.Name, r)
		}
		f.currentFont.usedRunes[int(r)] = int(r)
	}
}

// growBuffer sizes the document's buffer, before the document is written
// into it, for about what a page of text and a subset font take once
// compressed, so that the buffer is not grown by doubling from empty.
func (f *Fpdf) growBuffer() {
	n := 4096
	for _, p := range f.pages {
		if p != nil {
			n += p.Len() / 3
		}
	}
	for _, font := range f.fonts {
		if font.Tp == "UTF8" {
			n += 8192
		}
	}
	f.buffer.Grow(n)
}

// fontSubset is what a document embeds of a UTF-8 font for the characters
// it uses: everything but the object numbers. It depends only on the font
// and on the set of characters, so documents that use the same characters
// share it (subsetCache).
type fontSubset struct {
	name        string // ABCDEF+PostScriptName
	widths      string // the content of /W
	toUnicode   []byte // compressed ToUnicode CMap
	cidToGID    []byte // compressed CIDToGIDMap
	program     []byte // compressed font program
	programSize int    // its length uncompressed (Length1)
}

// subsetCache keeps the most recently used subsets, by font and set of
// characters: a service renders the same kinds of letter over and over,
// mostly with the same characters.
var subsetCache = struct {
	sync.Mutex
	max   int
	m     map[string]*list.Element // of *subsetCacheEntry
	order *list.List               // most recently used first
}{max: 128}

type subsetCacheEntry struct {
	key string
	sub *fontSubset
}

// SetFontSubsetCache sets how many font subsets the process keeps for
// reuse (128 unless set); 0 turns the cache off. The output does not
// depend on it.
func SetFontSubsetCache(n int) {
	c := &subsetCache
	c.Lock()
	defer c.Unlock()
	c.max = n
	c.m, c.order = nil, nil
}

// subsetKey names a font's subset for a set of characters: the font's id,
// its name in the document (the subset's name when the font has no
// PostScript name) and the characters.
func subsetKey(id, name string, used map[int]int) string {
	runes := make([]int, 0, len(used))
	for _, r := range used {
		if r != 0 {
			runes = append(runes, r)
		}
	}
	sort.Ints(runes)
	b := make([]byte, 0, len(id)+len(name)+2+3*len(runes))
	b = append(b, id...)
	b = append(b, '/')
	b = append(b, name...)
	b = append(b, ':')
	for _, r := range runes {
		b = append(b, byte(r>>16), byte(r>>8), byte(r))
	}
	return string(b)
}

// subsetOf returns the subset of font for the characters the document used.
func (f *Fpdf) subsetOf(font *fontDefType) (*fontSubset, error) {
	delete(font.usedRunes, 0)
	key := subsetKey(font.i, font.Name, font.usedRunes)
	c := &subsetCache
	c.Lock()
	if el, ok := c.m[key]; ok {
		c.order.MoveToFront(el)
		sub := el.Value.(*subsetCacheEntry).sub
		c.Unlock()
		return sub, nil
	}
	c.Unlock()

	cut := font.utf8File.cutter()
	program := cut.generateCut(font.usedRunes)
	if program == nil {
		return nil, fmt.Errorf("gofpdf: font %s cannot be subset", font.Name)
	}
	codes := cut.CodeSymbolDictionary
	delete(codes, 0)
	// The CIDToGIDMap runs up to the last character used.
	last := 0
	for cc := range codes {
		if cc > last {
			last = cc
		}
	}
	cidToGID := make([]byte, (last+1)*2)
	for cc, glyph := range codes {
		cidToGID[cc*2] = byte(glyph >> 8)
		cidToGID[cc*2+1] = byte(glyph & 0xFF)
	}
	sub := &fontSubset{
		name:        subsetTag(program) + "+" + pdfFontName(cut.postScriptName, font.Name),
		widths:      cidWidths(font.runeWidth, codes),
		toUnicode:   sliceCompress(toUnicodeCMap(codes)),
		cidToGID:    sliceCompress(cidToGID),
		program:     sliceCompress(program),
		programSize: len(program),
	}

	c.Lock()
	defer c.Unlock()
	if c.max <= 0 {
		return sub, nil
	}
	if c.m == nil {
		c.m, c.order = map[string]*list.Element{}, list.New()
	}
	if el, ok := c.m[key]; ok { // made meanwhile by another document
		c.order.MoveToFront(el)
		return el.Value.(*subsetCacheEntry).sub, nil
	}
	c.m[key] = c.order.PushFront(&subsetCacheEntry{key, sub})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.m, old.Value.(*subsetCacheEntry).key)
	}
	return sub, nil
}

// putSharedStream writes a stream whose bytes other documents share:
// encryption, which works in place, gets a copy.
func (f *Fpdf) putSharedStream(b []byte) {
	if f.protect.encrypted {
		b = append([]byte(nil), b...)
	}
	f.putstream(b)
}

// pageBuffers keeps the buffers of the pages of documents written before
// (at most 256 KiB each): a page's operators are only needed until the
// document is written.
var pageBuffers = sync.Pool{New: func() interface{} { return bytes.NewBuffer(make([]byte, 0, 32<<10)) }}

func getPageBuffer() *bytes.Buffer { return pageBuffers.Get().(*bytes.Buffer) }

// releasePages gives the buffers of the pages of a written document back
// to pageBuffers and leaves each page empty.
func (f *Fpdf) releasePages() {
	for n, p := range f.pages {
		if n == 0 || p == nil {
			continue
		}
		if p.Cap() <= 256<<10 {
			p.Reset()
			pageBuffers.Put(p)
		}
		f.pages[n] = new(bytes.Buffer)
	}
}

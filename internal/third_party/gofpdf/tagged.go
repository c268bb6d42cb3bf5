package gofpdf

import (
	"strconv"
	"strings"
)

// Tagged PDF (faldone patch). A document becomes tagged when SetStructTree
// is called: from then on every painting operator that is drawn outside a
// marked-content sequence opened with BeginMarked or BeginArtifact is
// wrapped as an /Artifact of its own, so no content is ever left unmarked;
// each page gets /StructParents (its index from 0) and /Tabs /S, and the
// catalog /StructTreeRoot and /MarkInfo. The caller owns the structure tree:
// it records the page and MCID BeginMarked returns for each element and
// writes the tree's objects through the StructWriter at the end of the
// document. Tagging is not supported together with encryption.

// taggedState is the marked-content state of a tagged document.
type taggedState struct {
	on       bool
	depth    int   // explicit marked-content sequences open
	next     []int // the next MCID of each page, 1-based
	pageObjs []int // object number of each page, 1-based
	tree     func(w *StructWriter) int
	root     int // object number of the StructTreeRoot
	// The end of the last text drawn in the open sequence, to put a space
	// between words and lines that are drawn apart.
	has          bool
	lastX, lastY float64
	hyphen       bool
}

// StructWriter writes the objects of a structure tree.
type StructWriter struct{ f *Fpdf }

// Next is the number the next object written will have.
func (w *StructWriter) Next() int { return w.f.n + 1 }

// Object writes an object with the given body (a dictionary or an array)
// and returns its number.
func (w *StructWriter) Object(body []byte) int {
	w.f.newobj()
	w.f.buffer.Write(body)
	w.f.out("\nendobj")
	return w.f.n
}

// Page is the object number of page n (1-based).
func (w *StructWriter) Page(n int) int { return w.f.tag.pageObjs[n] }

// Pages is the number of pages.
func (w *StructWriter) Pages() int { return w.f.page }

// SetStructTree makes the document tagged; tree writes the structure tree
// when the document is closed and returns the object number of its
// StructTreeRoot (0 to write none).
func (f *Fpdf) SetStructTree(tree func(w *StructWriter) int) {
	f.tag.on = true
	f.tag.tree = tree
}

// BeginMarked opens a marked-content sequence tagged with the structure
// type typ (without the slash) on the current page and returns the page
// (1-based) and the sequence's MCID. Close it with EndMarked.
func (f *Fpdf) BeginMarked(typ string) (page, mcid int) {
	page = f.page
	for len(f.tag.next) <= page {
		f.tag.next = append(f.tag.next, 0)
	}
	mcid = f.tag.next[page]
	f.tag.next[page]++
	f.tag.has = false
	b := append(f.textBuf[:0], '/')
	b = append(b, typ...)
	b = append(b, " <</MCID "...)
	b = strconv.AppendInt(b, int64(mcid), 10)
	b = append(b, ">> BDC\n"...)
	f.pages[f.page].Write(b)
	f.textBuf = b
	f.tag.depth++
	return page, mcid
}

// BeginArtifact opens an artifact with the given property list (such as
// "<</Type /Pagination /Subtype /Footer>>", or "" for none). Close it with
// EndMarked.
func (f *Fpdf) BeginArtifact(props string) {
	if props == "" {
		f.out("/Artifact BMC")
	} else {
		f.out("/Artifact " + props + " BDC")
	}
	f.tag.depth++
	f.tag.has = false
}

// EndMarked closes the innermost sequence opened by BeginMarked or
// BeginArtifact.
func (f *Fpdf) EndMarked() {
	if f.tag.depth > 0 {
		f.out("EMC")
		f.tag.depth--
	}
	f.tag.has = false
}

// outPaint writes a painting operator: in a tagged document, outside any
// marked-content sequence, it is wrapped as an artifact.
func (f *Fpdf) outPaint(s string) {
	if f.tag.on && f.tag.depth == 0 && f.state == 2 {
		f.out("/Artifact BMC")
		f.out(s)
		f.out("EMC")
		return
	}
	f.out(s)
}

// outPaintBytes is outPaint for bytes.
func (f *Fpdf) outPaintBytes(b []byte) {
	if f.tag.on && f.tag.depth == 0 && f.state == 2 {
		f.out("/Artifact BMC")
		f.outBytes(b)
		f.out("EMC")
		return
	}
	f.outBytes(b)
}

// endMarked closes what is left open at the end of a page.
func (f *Fpdf) endMarked() {
	for f.tag.depth > 0 {
		f.EndMarked()
	}
}

// putStructTree writes the structure tree.
func (f *Fpdf) putStructTree() {
	if f.tag.tree != nil {
		f.tag.root = f.tag.tree(&StructWriter{f})
	}
}

// tagSpace is called by Text before it draws s at (x, y) inside a
// marked-content sequence. Text drawn word by word (justified lines) or line
// by line has no space characters between the pieces, so a reader of the
// tagged content would run the words together: where the new piece starts
// after a gap on the same line, or on another line, an invisible space
// glyph is drawn where the last piece ended - the page looks the same, and
// the text reads as words. A line that ends in a hyphen joins the next
// without a space.
func (f *Fpdf) tagSpace(x, y float64, s string) {
	t := &f.tag
	if t.has {
		sameLine := y-t.lastY < 0.01 && t.lastY-y < 0.01
		if (sameLine && x-t.lastX > 0.1*f.fontSize) || (!sameLine && !t.hyphen) {
			sp := " "
			if f.isCurrentUTF8 {
				sp = "\000 "
				f.currentFont.usedRunes[' '] = ' '
			}
			b := append(f.textBuf[:0], "BT "...)
			b = strconv.AppendFloat(b, t.lastX*f.k, 'f', 2, 64)
			b = append(b, ' ')
			b = strconv.AppendFloat(b, (f.h-t.lastY)*f.k, 'f', 2, 64)
			b = append(b, " Td ("...)
			b = append(b, sp...)
			b = append(b, ") Tj ET\n"...)
			f.pages[f.page].Write(b)
			f.textBuf = b
		}
	}
	t.has = true
	t.lastX = x + f.GetStringWidth(s)
	t.lastY = y
	t.hyphen = len(s) > 0 && (s[len(s)-1] == '-' || strings.HasSuffix(s, "\u00ad"))
}

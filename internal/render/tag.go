package render

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/johnfercher/go-tree/node"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/phpdave11/gofpdf"

	"faldone/internal/faldone"
)

// Tagging (PDF/UA-1, ISO 14289-1). While the blocks are measured, each one
// adds its structure elements to a tree rooted at a Document element, in
// reading order. Its draw functions put marker components around the
// components that draw each element's content: when maroto renders them, a
// marker opens a marked-content sequence with the next MCID of the page
// (gofpdf's BeginMarked) and records it in its element, so content that the
// paginator splits across pages belongs to one element with a part on each
// page. Everything drawn outside a marker - rules, cell backgrounds - is an
// artifact (the patched gofpdf wraps it), and the footer, the page labels,
// the draft band and repeated table headers are drawn inside artifact
// markers. gofpdf writes the tree, the parent tree and the pages'
// /StructParents when the document is closed.

// selem is a structure element.
type selem struct {
	typ    string
	parent *selem
	kids   []skid
	alt    string
	lang   string
	attrs  string // the /A attribute dictionary, if any
	bbox   bool   // record a /BBox (figures)
	always bool   // kept in the tree without content (table cells)
	fullW  bool   // its bounding box spans the text block's width (charts)
	box    [4]float64
	boxPg  int
	obj    int
}

// skid is a kid of a structure element: an element, or a marked-content
// sequence (page, mcid).
type skid struct {
	e          *selem
	page, mcid int
}

// tagger builds the structure tree of one document.
type tagger struct {
	pdf     *gofpdf.Fpdf
	doc     *selem
	repeat  bool       // drawing a repeated table header
	parents [][]*selem // per page (1-based), per MCID: the element
}

func newTagger() *tagger { return &tagger{doc: &selem{typ: "Document"}} }

// elem adds an element of type typ under parent (the document when nil).
func (t *tagger) elem(parent *selem, typ string) *selem {
	if t == nil { // a measurer outside Render, in tests
		return &selem{typ: typ}
	}
	if parent == nil {
		parent = t.doc
	}
	e := &selem{typ: typ, parent: parent}
	parent.kids = append(parent.kids, skid{e: e})
	return e
}

// begin is a marker that opens e's next marked-content sequence; in a
// repeated table header, an artifact.
func (t *tagger) begin(e *selem) core.Component {
	if t != nil && t.repeat {
		return &marker{t: t, art: "<</Type /Pagination>>"}
	}
	return &marker{t: t, e: e}
}

// artifact is a marker that opens an artifact with the given properties.
func (t *tagger) artifact(props string) core.Component { return &marker{t: t, art: props} }

// end closes what the last begin or artifact opened.
func (t *tagger) end() core.Component { return &marker{t: t, end: true} }

// marker is a component that draws nothing: it opens or closes a
// marked-content sequence where maroto renders it.
type marker struct {
	t      *tagger
	e      *selem
	art    string
	end    bool
	attach *selem // e becomes the next kid of attach when the marker is rendered (spans)
}

func (c *marker) Render(_ core.Provider, cell *entity.Cell) {
	if c.t == nil || c.t.pdf == nil {
		return
	}
	pdf := c.t.pdf
	switch {
	case c.end:
		pdf.EndMarked()
	case c.e == nil:
		pdf.BeginArtifact(c.art)
	default:
		if c.attach != nil {
			c.e.parent = c.attach
			c.attach.kids = append(c.attach.kids, skid{e: c.e})
		}
		page, mcid := pdf.BeginMarked(c.e.typ)
		c.e.kids = append(c.e.kids, skid{page: page, mcid: mcid})
		for len(c.t.parents) <= page {
			c.t.parents = append(c.t.parents, nil)
		}
		c.t.parents[page] = append(c.t.parents[page], c.e)
		if c.e.bbox && cell != nil {
			c.e.addBox(page, cell)
		}
	}
}

// addBox adds a cell (mm from the top left of the text block) to the
// element's bounding box on its first page, in points.
func (e *selem) addBox(page int, cell *entity.Cell) {
	const k = 72 / 25.4
	if e.fullW {
		cell = &entity.Cell{X: 0, Y: cell.Y, Width: contentW, Height: cell.Height}
	}
	b := [4]float64{(marginLR + cell.X) * k, (pageHeight - marginTop - cell.Y - cell.Height) * k,
		(marginLR + cell.X + cell.Width) * k, (pageHeight - marginTop - cell.Y) * k}
	switch {
	case e.boxPg == 0:
		e.box, e.boxPg = b, page
	case e.boxPg == page:
		e.box = [4]float64{math.Min(e.box[0], b[0]), math.Min(e.box[1], b[1]), math.Max(e.box[2], b[2]), math.Max(e.box[3], b[3])}
	}
}

func (c *marker) GetHeight(core.Provider, *entity.Cell) float64 { return 0 }
func (c *marker) SetConfig(*entity.Config)                      {}
func (c *marker) GetStructure() *node.Node[core.Structure] {
	return node.New(core.Structure{Type: "marker"})
}

// hasContent reports whether e or one of its descendants has marked content.
func (e *selem) hasContent() bool {
	if e.always {
		return true
	}
	for _, k := range e.kids {
		if k.e == nil || k.e.hasContent() {
			return true
		}
	}
	return false
}

// write writes the structure tree: the StructTreeRoot, the elements with
// content (in reading order), and the parent tree. It returns the root's
// object number.
func (t *tagger) write(w *gofpdf.StructWriter) int {
	var order []*selem
	var walk func(e *selem)
	walk = func(e *selem) {
		if !e.hasContent() {
			return
		}
		order = append(order, e)
		for _, k := range e.kids {
			if k.e != nil {
				walk(k.e)
			}
		}
	}
	walk(t.doc)
	if len(order) == 0 {
		return 0
	}
	root := w.Next()
	for i, e := range order {
		e.obj = root + 1 + i
	}
	ptree := root + 1 + len(order)
	pages := w.Pages()
	var b bytes.Buffer
	fmt.Fprintf(&b, "<</Type /StructTreeRoot /K %d 0 R /ParentTree %d 0 R /ParentTreeNextKey %d>>", t.doc.obj, ptree, pages)
	w.Object(b.Bytes())
	for _, e := range order {
		b.Reset()
		b.WriteString("<</Type /StructElem /S /")
		b.WriteString(e.typ)
		if e.parent != nil {
			fmt.Fprintf(&b, " /P %d 0 R", e.parent.obj)
		} else {
			fmt.Fprintf(&b, " /P %d 0 R", root)
		}
		pg := 0
		for _, k := range e.kids {
			if k.e == nil {
				pg = k.page
				break
			}
		}
		if pg > 0 {
			fmt.Fprintf(&b, " /Pg %d 0 R", w.Page(pg))
		}
		b.WriteString(" /K [")
		for i, k := range e.kids {
			if i > 0 {
				b.WriteByte(' ')
			}
			switch {
			case k.e != nil && k.e.obj > 0:
				fmt.Fprintf(&b, "%d 0 R", k.e.obj)
			case k.e != nil:
			case k.page == pg:
				b.WriteString(strconv.Itoa(k.mcid))
			default:
				fmt.Fprintf(&b, "<</Type /MCR /Pg %d 0 R /MCID %d>>", w.Page(k.page), k.mcid)
			}
		}
		b.WriteString("]")
		if e.alt != "" {
			b.WriteString(" /Alt " + pdfString(e.alt))
		}
		if e.lang != "" {
			b.WriteString(" /Lang " + pdfString(e.lang))
		}
		var as []string
		if e.attrs != "" {
			as = append(as, e.attrs)
		}
		if e.bbox && e.boxPg > 0 {
			as = append(as, fmt.Sprintf("<</O /Layout /BBox [%.2f %.2f %.2f %.2f]>>", e.box[0], e.box[1], e.box[2], e.box[3]))
		}
		switch len(as) {
		case 1:
			b.WriteString(" /A " + as[0])
		case 2:
			b.WriteString(" /A [" + as[0] + " " + as[1] + "]")
		}
		b.WriteString(">>")
		w.Object(b.Bytes())
	}
	b.Reset()
	b.WriteString("<</Nums [")
	for p := 1; p <= pages; p++ {
		fmt.Fprintf(&b, "%d [", p-1)
		if p < len(t.parents) {
			for i, e := range t.parents[p] {
				if i > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%d 0 R", e.obj)
			}
		}
		b.WriteString("] ")
	}
	b.WriteString("]>>")
	w.Object(b.Bytes())
	return root
}

// fpdfOf is the gofpdf document under a maroto document. maroto keeps it in
// unexported fields (Maroto.provider, whose gofpdf provider has fpdf); the
// render tests fail if a maroto upgrade moves them.
func fpdfOf(m core.Maroto) (*gofpdf.Fpdf, error) {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("render: maroto is a %T", m)
	}
	p := v.Elem().FieldByName("provider")
	if !p.IsValid() || p.Kind() != reflect.Interface || p.IsNil() {
		return nil, fmt.Errorf("render: maroto has no provider")
	}
	p = p.Elem()
	if p.Kind() != reflect.Pointer || p.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("render: provider is a %s", p.Type())
	}
	f := p.Elem().FieldByName("fpdf")
	if !f.IsValid() || f.Kind() != reflect.Interface || f.IsNil() {
		return nil, fmt.Errorf("render: provider has no fpdf")
	}
	f = f.Elem()
	if f.Type() != reflect.TypeFor[*gofpdf.Fpdf]() {
		return nil, fmt.Errorf("render: provider's fpdf is a %s", f.Type())
	}
	return (*gofpdf.Fpdf)(unsafe.Pointer(f.Pointer())), nil
}

// cell adds a table cell (TH or TD) with the given table attributes, such
// as "/Scope /Column"; a cell is kept in the tree even when it is empty.
func (t *tagger) cell(tr *selem, typ, attrs string) *selem {
	e := t.elem(tr, typ)
	e.always = true
	if attrs != "" {
		e.attrs = "<</O /Table " + attrs + ">>"
	}
	return e
}

// list adds a list whose items are marked with marker: its /ListNumbering
// says how (a disc for a bullet, none for a dash).
func (t *tagger) list(marker string) *selem {
	e := t.elem(nil, "L")
	e.attrs = "<</O /List /ListNumbering /None>>"
	if marker == "•" || marker == "·" {
		e.attrs = "<</O /List /ListNumbering /Disc>>"
	}
	return e
}

// figure adds a Figure with its alternate text.
func (t *tagger) figure(title, alt string) *selem {
	e := t.elem(nil, "Figure")
	e.alt = alt
	if title != "" {
		e.alt = title + ": " + alt
	}
	e.bbox = true
	return e
}

// chartAlt states every bar of a chart: its label, what it covers and its
// value as printed.
func chartAlt(b faldone.Block) string {
	var s strings.Builder
	for i, bar := range b.Bars {
		if i > 0 {
			s.WriteString("; ")
		}
		s.WriteString(bar.Label)
		if bar.Note != "" {
			s.WriteString(" (" + bar.Note + ")")
		}
		s.WriteString(" " + bar.Text)
	}
	return s.String()
}

// pairedAlt states both values of every row of a paired chart.
func pairedAlt(b faldone.Block) string {
	var s strings.Builder
	for i, p := range b.Pairs {
		if i > 0 {
			s.WriteString("; ")
		}
		fmt.Fprintf(&s, "%s: %s %s, %s %s", p.Label, b.Legend[0], p.BeforeText, b.Legend[1], p.AfterText)
	}
	return s.String()
}

// qrAlt is the alternate text of a QR code: what it is and its URL.
func (m *measurer) qrAlt(url string) string {
	switch m.lang {
	case "en":
		return "QR code linking to " + url
	case "de":
		return "QR-Code mit dem Link " + url
	}
	return "Codice QR che rimanda a " + url
}

// beginSpan is a marker that opens a Span in language lang inside e, where
// it is drawn.
func (t *tagger) beginSpan(e *selem, lang string) (core.Component, *selem) {
	sp := &selem{typ: "Span", lang: lang}
	return &marker{t: t, e: sp, attach: e}, sp
}

// foreignSpan is an occurrence of a foreign phrase in a line: bytes
// [start, end) of it.
type foreignSpan struct {
	start, end int
	lang       string
	id         int // the occurrence, which may go on over lines
}

// foreignLines finds the foreign phrases in the lines of r, also where a
// phrase breaks between lines (not where it is hyphenated): for each line,
// the byte ranges of it that belong to a phrase.
func (m *measurer) foreignLines(r run) [][]foreignSpan {
	out := make([][]foreignSpan, len(r.lines))
	var b strings.Builder
	starts := make([]int, len(r.lines))
	for i, ln := range r.lines {
		if i > 0 {
			b.WriteByte(' ')
		}
		starts[i] = b.Len()
		b.WriteString(ln.s)
	}
	for id, sp := range m.foreignIn(b.String()) {
		for i, ln := range r.lines {
			s, e := max(sp.start, starts[i]), min(sp.end, starts[i]+len(ln.s))
			if s < e {
				out[i] = append(out[i], foreignSpan{s - starts[i], e - starts[i], sp.lang, id})
			}
		}
	}
	return out
}

// foreignIn finds the foreign phrases of the document in s, as whole words.
func (m *measurer) foreignIn(s string) []foreignSpan {
	var out []foreignSpan
	for _, p := range m.foreign {
		if p.Text == "" {
			continue
		}
		for off := 0; ; {
			i := strings.Index(s[off:], p.Text)
			if i < 0 {
				break
			}
			start, end := off+i, off+i+len(p.Text)
			off = end
			before, _ := utf8.DecodeLastRuneInString(s[:start])
			after, _ := utf8.DecodeRuneInString(s[end:])
			if start > 0 && (unicode.IsLetter(before) || unicode.IsDigit(before)) ||
				end < len(s) && (unicode.IsLetter(after) || unicode.IsDigit(after)) {
				continue
			}
			out = append(out, foreignSpan{start, end, p.Lang, 0})
		}
	}
	return out
}

// splitLine draws line i of r word by word where maroto would draw it (the
// same alignment and, for a justified line, the same spacing), so that the
// words of a foreign phrase go into a Span with its language and the rest
// into e; a phrase that goes on over lines is one Span (open holds the
// Spans of the phrases drawn so far, by occurrence). The page looks the same.
func (m *measurer) splitLine(c core.Col, e *selem, r run, i int, spans []foreignSpan, x, y, w float64, open map[int]*selem) {
	ln := r.lines[i]
	fc := m.face(r.family, r.st)
	size := r.st.size
	al := r.st.align
	if al == align.Justify && ln.last {
		al = align.Left
	}
	type word struct {
		s          string
		start, end int
		x          float64
		first      bool // the first piece of a word between spaces
	}
	var words []word
	for j := 0; j < len(ln.s); {
		for j < len(ln.s) && ln.s[j] == ' ' {
			j++
		}
		k := j
		for k < len(ln.s) && ln.s[k] != ' ' {
			k++
		}
		// A word is cut where a phrase starts or ends inside it
		// ("Sciliar/Völs"): each piece goes where maroto draws it.
		for p := j; p < k; {
			q := k
			for _, sp := range spans {
				if sp.start > p && sp.start < q {
					q = sp.start
				}
				if sp.end > p && sp.end < q {
					q = sp.end
				}
			}
			words = append(words, word{s: ln.s[p:q], start: p, end: q, first: p == j})
			p = q
		}
		j = k
	}
	if len(words) == 0 {
		return
	}
	switch al {
	case align.Justify:
		joined, gaps := 0.0, -1
		for _, wd := range words {
			joined += fc.Width(wd.s, size)
			if wd.first {
				gaps++
			}
		}
		space := (w - joined) / float64(max(gaps, 1))
		last, _ := utf8.DecodeLastRuneInString(words[len(words)-1].s)
		if def := fc.Width(" ", size); joined > 0 && space > def*10 && !unicode.IsLetter(last) && !unicode.IsNumber(last) {
			space = def
		}
		pos := 0.0
		for k := range words {
			if words[k].first && k > 0 {
				pos += space
			}
			words[k].x = pos
			pos += fc.Width(words[k].s, size)
		}
	default:
		off := 0.0
		switch al {
		case align.Center:
			off = (w - fc.Width(ln.s, size)) / 2
		case align.Right:
			off = w - fc.Width(ln.s, size)
		}
		for k := range words {
			words[k].x = off + fc.Width(ln.s[:words[k].start], size)
		}
	}
	cur := -1
	in := func(wd word) int {
		for k, sp := range spans {
			if wd.start >= sp.start && wd.end <= sp.end {
				return k
			}
		}
		return -1
	}
	for _, wd := range words {
		if k := in(wd); k != cur {
			c.Add(m.tg.end())
			switch {
			case k < 0:
				c.Add(m.tg.begin(e))
			case open[spans[k].id] != nil:
				c.Add(m.tg.begin(open[spans[k].id]))
			default:
				mk, sp := m.tg.beginSpan(e, spans[k].lang)
				open[spans[k].id] = sp
				c.Add(mk)
			}
			cur = k
		}
		c.Add(text.New(wd.s, props.Text{
			Top: y + r.shift, Left: x + wd.x,
			Family: r.family, Style: r.st.font, Size: r.st.size, Color: r.st.color, Align: align.Left,
		}))
	}
	if cur >= 0 {
		c.Add(m.tg.end(), m.tg.begin(e))
	}
}

// UAPart is the part of ISO 14289 (PDF/UA) every rendered document is made
// to meet: the XMP metadata declares it as pdfuaid:part.
const UAPart = 1

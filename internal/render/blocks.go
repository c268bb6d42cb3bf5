package render

import (
	"math"
	"strconv"
	"strings"

	"github.com/johnfercher/maroto/v2/pkg/components/code"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"faldone/internal/faldone"
	"faldone/internal/render/paginate"
)

// A blockFunc measures one block of the layout into boxes (m.add, m.glue).
// Every box knows its height and draws itself as maroto rows of exactly
// that height; the paginator decides where it goes. A new block type is a
// new file with a blockFunc and a line in blockFuncs (or a call to
// registerBlock from its init).
type blockFunc func(m *measurer, b faldone.Block)

var blockFuncs = map[faldone.BlockType]blockFunc{
	faldone.BlockLetterhead: (*measurer).letterhead,
	faldone.BlockHeading:    (*measurer).heading,
	faldone.BlockParagraph:  (*measurer).paragraph,
	faldone.BlockKV:         (*measurer).kv,
	faldone.BlockTable:      (*measurer).table,
	faldone.BlockList:       (*measurer).list,
	faldone.BlockChart:      (*measurer).chart,
	faldone.BlockQR:         (*measurer).qr,
	faldone.BlockSignature:  (*measurer).signature,
}

// registerBlock adds the measuring function of a block type; call it from
// an init function.
func registerBlock(t faldone.BlockType, f blockFunc) { blockFuncs[t] = f }

// lines adds a run set across the full width as one box of lines, split
// between lines with at least two on either side.
func (m *measurer) lines(r run, keep bool, e *selem) {
	lh := r.lh
	n := len(r.lines)
	m.add(box{
		Box: paginate.Box{H: float64(n) * lh, Lines: n, Unit: lh, MinLines: 2, Keep: keep},
		draw: func(from, to int) []rowH {
			h := float64(to-from) * lh
			c := col.New(grid)
			m.tagLines(c, e, r, from, to, 0, 0, contentW)
			return []rowH{{row.New(h).Add(c), h}}
		},
	})
}

// tagLines adds the lines [from, to) of r to c like linesAt, as a part of
// the structure element e.
func (m *measurer) tagLines(c core.Col, e *selem, r run, from, to int, x, y, w float64) {
	to = min(to, len(r.lines))
	if from >= to {
		return
	}
	c.Add(m.tg.begin(e))
	if len(m.foreign) == 0 || m.tg == nil || m.tg.repeat {
		linesAt(c, r, from, to, x, y, w)
		c.Add(m.tg.end())
		return
	}
	spans := m.foreignLines(r)
	open := map[int]*selem{}
	for i := from; i < to; i++ {
		yi := y + float64(i-from)*r.lh
		if len(spans[i]) > 0 {
			m.splitLine(c, e, r, i, spans[i], x, yi, w, open)
		} else {
			linesAt(c, r, i, i+1, x, yi, w)
		}
	}
	c.Add(m.tg.end())
}

// block adds rows drawn together as one box that is never split.
func (m *measurer) block(h float64, keep bool, draw func() []rowH) {
	m.add(box{Box: paginate.Box{H: h, Keep: keep}, draw: func(int, int) []rowH { return draw() }})
}

func (m *measurer) letterhead(b faldone.Block) {
	var runs []run
	var els []*selem
	h := 1.2 + 2 + 1.5 + 0.6
	for i, t := range b.Text {
		st := style{fontstyle.Normal, 10, secondary, align.Center}
		if i == 0 {
			st = style{fontstyle.Bold, 17, primary, align.Center}
		}
		r := m.set(t, st, contentW, false)
		runs = append(runs, r)
		els = append(els, m.tg.elem(nil, "P"))
		h += float64(len(r.lines)) * st.lineH()
	}
	m.block(h, false, func() []rowH {
		out := []rowH{{row.New(1.2).Add(col.New(grid).Add(line.New(props.Line{Color: primary, Thickness: 1.2, SizePercent: 100, OffsetPercent: 50}))), 1.2}, spacer(2)}
		for i, r := range runs {
			rh := float64(len(r.lines)) * r.lh
			c := col.New(grid)
			m.tagLines(c, els[i], r, 0, len(r.lines), 0, 0, contentW)
			out = append(out, rowH{row.New(rh).Add(c), rh})
		}
		return append(out, spacer(1.5), rowH{row.New(0.6).Add(col.New(grid).Add(line.New(props.Line{Color: borderC, Thickness: 0.3, SizePercent: 100, OffsetPercent: 50}))), 0.6})
	})
	m.glue(5)
}

func (m *measurer) heading(b faldone.Block) {
	st, before := h1, 3.0
	if b.Level == 2 {
		st, before = h2, 1.5
	}
	m.glue(before)
	r := m.set(strings.Join(b.Text, " "), st, contentW, false)
	h := float64(len(r.lines)) * st.lineH()
	e := m.tg.elem(nil, "H"+strconv.Itoa(min(max(b.Level, 1), 3)))
	m.block(h, true, func() []rowH {
		c := col.New(grid)
		m.tagLines(c, e, r, 0, len(r.lines), 0, 0, contentW)
		return []rowH{{row.New(h).Add(c), h}}
	})
	m.glue(1.5)
}

func (m *measurer) paragraph(b faldone.Block) {
	st := body
	switch b.Align {
	case "right":
		st.align = align.Right
	case "center":
		st.align = align.Center
	case "left":
		st.align = align.Left
	}
	for _, t := range b.Text {
		if marker, rest, ok := bulleted(t); ok && st.align == align.Justify {
			if m.openList == nil {
				m.openList = m.tg.list(marker)
			}
			m.item(marker, rest, m.openList)
			continue
		}
		m.openList = nil
		m.lines(m.set(t, st, contentW, true), false, m.tg.elem(nil, "P"))
	}
	m.glue(2.5)
}

// bulleted splits a paragraph that opens with a bullet ("• ", "– ", "- ")
// into its marker and its text, to be set with a hanging indent.
func bulleted(t string) (marker, rest string, ok bool) {
	for _, mk := range []string{"•", "–", "-", "·"} {
		if r, found := strings.CutPrefix(t, mk+" "); found {
			return mk, strings.TrimSpace(r), true
		}
	}
	return "", "", false
}

// item adds one list item with a hanging indent: the marker in the margin,
// every line of the text aligned after it.
func (m *measurer) item(marker, s string, list *selem) {
	const indent = 5.0
	lh := body.lineH()
	r := m.set(s, body, contentW-indent, true)
	fam := m.familyFor(marker)
	n := len(r.lines)
	li := m.tg.elem(list, "LI")
	lbl, lbody := m.tg.elem(li, "Lbl"), m.tg.elem(li, "LBody")
	m.add(box{
		Box: paginate.Box{H: float64(n) * lh, Lines: n, Unit: lh, MinLines: 2},
		draw: func(from, to int) []rowH {
			h := float64(to-from) * lh
			c := col.New(grid)
			if from == 0 {
				c.Add(m.tg.begin(lbl), textAt(marker, fam, body, 1, 0, indent-1, align.Left), m.tg.end())
			}
			m.tagLines(c, lbody, r, from, to, indent, 0, contentW-indent)
			return []rowH{{row.New(h).Add(c), h}}
		},
	})
}

// caption adds a table's, list's or chart's title, kept with what follows.
func (m *measurer) caption(title string, parent *selem) {
	if title == "" {
		return
	}
	m.glue(1.5)
	r := m.set(title, caption, contentW, false)
	h := float64(len(r.lines))*caption.lineH() + 1
	e := m.tg.elem(parent, "Caption")
	m.block(h, true, func() []rowH {
		c := col.New(grid)
		m.tagLines(c, e, r, 0, len(r.lines), 0, 0, contentW)
		return []rowH{{row.New(h).Add(c), h}}
	})
}

// cellRun is one cell of a table row: its set text and column.
type cellRun struct {
	r    run
	x, w float64 // mm from the left of the text block
	e    *selem  // its TH or TD
}

// tableRow adds one row of cells with a background and a bottom rule as a
// box of lines: it moves whole to the next page unless it is taller than a
// page, and then it is split between lines. below, when set, runs under the
// cells across the full width.
func (m *measurer) tableRow(cells []cellRun, below *run, belowE *selem, bg *props.Color, group int, header, keep bool) {
	lh := tcell.lineH()
	n := 0
	for _, c := range cells {
		n = max(n, len(c.r.lines))
	}
	n = max(n, 1)
	top := n
	if below != nil {
		n += len(below.lines)
	}
	pad := 2 * cellPadding
	bx := paginate.Box{H: float64(n)*lh + pad, Lines: n, Unit: lh, Pad: pad, Group: group, Header: header, Keep: keep}
	if header {
		bx.Lines = 0 // a header is never split
	}
	m.add(box{Box: bx, draw: func(from, to int) []rowH {
		if to == 0 {
			from, to = 0, n
		}
		h := float64(to-from)*lh + pad
		c := col.New(grid)
		for _, cl := range cells {
			m.tagLines(c, cl.e, cl.r, from, min(to, top), cl.x+cellPadding, cellPadding, cl.w-2*cellPadding)
		}
		if below != nil && to > top {
			f := max(from, top)
			m.tagLines(c, belowE, *below, f-top, to-top, cellPadding, cellPadding+float64(f-from)*lh, contentW-2*cellPadding)
		}
		r := row.New(h).Add(c)
		r.WithStyle(&props.Cell{BackgroundColor: bg, BorderType: border.Bottom, BorderColor: borderC, BorderThickness: 0.2})
		return []rowH{{r, h}}
	}})
}

func (m *measurer) kv(b faldone.Block) {
	tbl := m.tg.elem(nil, "Table")
	m.caption(b.Title, tbl)
	lbl := tcell
	lbl.font = fontstyle.Bold
	lw := contentW * 42 / grid
	for i, r := range b.Rows {
		var bg *props.Color
		if i%2 == 0 {
			bg = lightBg
		}
		tr := m.tg.elem(tbl, "TR")
		m.tableRow([]cellRun{
			{m.set(r[0], lbl, lw-2*cellPadding, false), 0, lw, m.tg.cell(tr, "TH", "/Scope /Row")},
			{m.set(r[1], tcell, contentW-lw-2*cellPadding, true), lw, contentW - lw, m.tg.cell(tr, "TD", "")},
		}, nil, nil, bg, 0, false, false)
	}
	m.glue(3)
}

func (m *measurer) table(b faldone.Block) {
	tbl := m.tg.elem(nil, "Table")
	m.caption(b.Title, tbl)
	t := b.Table
	if t == nil {
		return
	}
	m.groups++
	g := m.groups
	// Column positions: the columns set Below take no width.
	total := 0
	for _, c := range t.Columns {
		if !c.Below {
			total += c.Width
		}
	}
	total = max(total, 1)
	xs := make([]float64, len(t.Columns))
	ws := make([]float64, len(t.Columns))
	x := 0.0
	for i, c := range t.Columns {
		if c.Below {
			continue
		}
		xs[i], ws[i] = x, contentW*float64(c.Width)/float64(total)
		x += ws[i]
	}
	var head []cellRun
	htr := m.tg.elem(tbl, "TR")
	for i, c := range t.Columns {
		if !c.Below {
			head = append(head, cellRun{m.set(c.Label, thead, ws[i]-2*cellPadding, true), xs[i], ws[i], m.tg.cell(htr, "TH", "/Scope /Column")})
		}
	}
	span := "/ColSpan " + strconv.Itoa(max(len(head), 1))
	m.tableRow(head, nil, nil, primary, g, true, true)
	if len(t.Rows) == 0 && t.Empty != "" {
		td := m.tg.cell(m.tg.elem(tbl, "TR"), "TD", span)
		m.tableRow([]cellRun{{m.set(t.Empty, tcell, contentW-2*cellPadding, true), 0, contentW, td}}, nil, nil, nil, g, false, false)
	}
	for i, r := range t.Rows {
		var cells []cellRun
		var below *run
		var belowE *selem
		tr := m.tg.elem(tbl, "TR")
		for j, v := range r {
			if j >= len(t.Columns) {
				break
			}
			c := t.Columns[j]
			if c.Below {
				if strings.TrimSpace(v) != "" {
					st := tcell
					st.color = secondary
					br := m.set(c.Label+": "+v, st, contentW-2*cellPadding, true)
					below = &br
				}
				continue
			}
			cells = append(cells, cellRun{m.set(v, tcell, ws[j]-2*cellPadding, true), xs[j], ws[j], m.tg.cell(tr, "TD", "")})
		}
		if below != nil {
			// The note under the cells is a row of its own, across all columns.
			belowE = m.tg.cell(m.tg.elem(tbl, "TR"), "TD", span)
		}
		var bg *props.Color
		if i%2 == 1 {
			bg = lightBg
		}
		m.tableRow(cells, below, belowE, bg, g, false, false)
	}
	m.glue(3)
}

// list sets each item with a hanging indent: the bullet in the margin, the
// text's lines aligned after it.
func (m *measurer) list(b faldone.Block) {
	l := m.tg.list("•")
	m.caption(b.Title, l)
	for _, it := range b.Text {
		m.item("•", it, l)
		m.glue(0.8)
	}
	m.glue(2)
}

// chart draws a horizontal bar chart - label (and what the bar covers), bar
// on a track, value - one box per bar, the caption kept with the first.
func (m *measurer) chart(b faldone.Block) {
	fig := m.tg.figure(b.Title, chartAlt(b))
	fig.fullW = true
	m.caption(b.Title, fig)
	const labelCols, barCols, valueCols = 40, 62, 18
	lw := contentW * labelCols / grid
	st := tcell
	note := small
	for _, bar := range b.Bars {
		lr := m.set(bar.Label, st, lw-2*cellPadding, false)
		var nr run
		if bar.Note != "" {
			nr = m.set(bar.Note, note, lw-2*cellPadding, false)
		}
		rh := math.Max(7, float64(len(lr.lines))*st.lineH()+float64(len(nr.lines))*note.lineH()+2*cellPadding)
		vs := bold
		vs.align = align.Right
		if bar.NA {
			vs = style{fontstyle.Normal, 9, secondary, align.Right}
		}
		vr := m.set(bar.Text, vs, contentW*valueCols/grid-2*cellPadding, false)
		m.block(rh+1.2, false, func() []rowH {
			label := col.New(labelCols).Add(m.tg.begin(fig))
			for i, ln := range lr.lines {
				label.Add(textComponent(ln.s, lr, cellPadding, cellPadding+float64(i)*st.lineH()))
			}
			for i, ln := range nr.lines {
				label.Add(textComponent(ln.s, nr, cellPadding, cellPadding+float64(len(lr.lines))*st.lineH()+float64(i)*note.lineH()))
			}
			cols := []core.Col{label}
			if bar.NA {
				cols = append(cols, col.New(barCols))
			} else {
				frac := 0.0
				if bar.Max > 0 {
					frac = math.Min(1, math.Max(0, bar.Value/bar.Max))
				}
				filled := int(math.Round(frac * barCols))
				if filled > 0 {
					cols = append(cols, col.New(filled).WithStyle(&props.Cell{BackgroundColor: primary}))
				}
				if filled < barCols {
					cols = append(cols, col.New(barCols-filled).WithStyle(&props.Cell{BackgroundColor: trackBg}))
				}
			}
			val := col.New(valueCols)
			for i, ln := range vr.lines {
				val.Add(textComponent(ln.s, vr, cellPadding, (rh-float64(len(vr.lines))*vs.lineH())/2+float64(i)*vs.lineH()))
			}
			cols = append(cols, val.Add(m.tg.end()))
			return []rowH{{row.New(rh).Add(cols...), rh}, spacer(1.2)}
		})
	}
	m.glue(2)
}

func (m *measurer) qr(b faldone.Block) {
	const qrCols = 24
	tw := contentW*(grid-qrCols)/grid - 4
	var runs []run
	th := 2.0
	for _, t := range b.Text {
		r := m.set(t, style{fontstyle.Normal, bodySize, dark, align.Left}, tw, true)
		runs = append(runs, r)
		th += float64(len(r.lines)) * r.lh
	}
	h := math.Max(36, th+2)
	fig := m.tg.figure("", m.qrAlt(b.QR))
	els := make([]*selem, len(runs))
	for i := range runs {
		els[i] = m.tg.elem(nil, "P")
	}
	m.block(h, false, func() []rowH {
		txt := col.New(grid - qrCols)
		y := 2.0
		for k, r := range runs {
			if len(r.lines) > 0 {
				txt.Add(m.tg.begin(els[k]))
				for i, ln := range r.lines {
					txt.Add(textComponent(ln.s, r, 2, y+float64(i)*r.lh))
				}
				txt.Add(m.tg.end())
			}
			y += float64(len(r.lines)) * r.lh
		}
		qr := col.New(qrCols).Add(m.tg.begin(fig), code.NewQr(b.QR, props.Rect{Percent: 95, Center: true}), m.tg.end())
		return []rowH{{row.New(h).Add(qr, txt), h}}
	})
	m.glue(3)
}

// signature sets place and date, role, name and note as one box, and keeps
// the text before it on its page.
func (m *measurer) signature(b faldone.Block) {
	s := b.Sign
	if s == nil {
		return
	}
	const signCols = 54
	sw := contentW * signCols / grid
	place := m.set(s.PlaceDate, style{fontstyle.Normal, bodySize, dark, align.Left}, contentW, false)
	cst := func(st style) style { st.align = align.Center; return st }
	role := m.set(s.Role, cst(bold), sw, false)
	name := m.set(s.Name, cst(style{fontstyle.Normal, bodySize, dark, align.Center}), sw, false)
	var note run
	if s.Note != "" {
		note = m.set(s.Note, cst(small), sw, false)
	}
	runs := []run{role, name, note}
	placeE := m.tg.elem(nil, "P")
	els := []*selem{m.tg.elem(nil, "P"), m.tg.elem(nil, "P"), m.tg.elem(nil, "P")}
	h := 4.0
	if s.PlaceDate != "" {
		h += float64(len(place.lines))*body.lineH() + 4
	}
	for _, r := range runs {
		h += float64(len(r.lines)) * r.lh
	}
	h += 4
	m.keepLast()
	if h > maxSignatureH {
		m.longSignature(s.PlaceDate != "", place, runs, sw, placeE, els)
		return
	}
	m.block(h, false, func() []rowH {
		out := []rowH{spacer(4)}
		if s.PlaceDate != "" {
			ph := float64(len(place.lines)) * body.lineH()
			c := col.New(grid)
			m.tagLines(c, placeE, place, 0, len(place.lines), 0, 0, contentW)
			out = append(out, rowH{row.New(ph).Add(c), ph}, spacer(4))
		}
		for i, r := range runs {
			if len(r.lines) == 0 {
				continue
			}
			rh := float64(len(r.lines)) * r.lh
			c := col.New(grid)
			m.tagLines(c, els[i], r, 0, len(r.lines), contentW-sw, 0, sw)
			out = append(out, rowH{row.New(rh).Add(c), rh})
		}
		return append(out, spacer(4))
	})
}

// maxSignatureH is the tallest signature set as one box: less than any page
// holds, whatever its footer and draft band.
const maxSignatureH = 120.0

// longSignature sets a signature too tall for one box (a long list of
// signatories, say) as boxes of lines: each part keeps with the next and
// splits between lines like a paragraph, so it never overflows a page.
func (m *measurer) longSignature(hasPlace bool, place run, runs []run, sw float64, placeE *selem, els []*selem) {
	m.glue(4)
	if hasPlace {
		m.columnLines(place, 0, contentW, true, placeE)
		m.glue(4)
	}
	last := len(runs) - 1
	for last >= 0 && len(runs[last].lines) == 0 {
		last--
	}
	for i, r := range runs {
		if len(r.lines) > 0 {
			m.columnLines(r, contentW-sw, sw, i < last, els[i])
		}
	}
	m.glue(4)
}

// columnLines adds a run set in a column at x, w wide, as one box of lines,
// split between lines with at least two on either side.
func (m *measurer) columnLines(r run, x, w float64, keep bool, e *selem) {
	lh := r.lh
	n := len(r.lines)
	m.add(box{
		Box: paginate.Box{H: float64(n) * lh, Lines: n, Unit: lh, MinLines: 2, Keep: keep},
		draw: func(from, to int) []rowH {
			h := float64(to-from) * lh
			c := col.New(grid)
			m.tagLines(c, e, r, from, to, x, 0, w)
			return []rowH{{row.New(h).Add(c), h}}
		},
	})
}

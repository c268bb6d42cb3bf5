// Package render draws a faldone.Layout as an A4 PDF with maroto. It is the
// only package that knows maroto and gofpdf.
//
// Text is wrapped here, with the metrics of the embedded Titillium Web
// faces, and drawn one line per row, so long paragraphs break across pages
// at line boundaries and nothing is cut. The output is deterministic: fonts
// are written in sorted order, and the document information carries the
// document's own date instead of the clock.
package render

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/code"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/phpdave11/gofpdf"

	"faldone/fonts"
	"faldone/internal/faldone"
)

func init() {
	// Sorted resource catalogs make the output byte-for-byte repeatable.
	gofpdf.SetDefaultCatalogSort(true)
}

const (
	grid        = 120  // columns of the layout grid
	pageWidth   = 210  // A4, mm
	marginLR    = 20.0 // mm
	marginTop   = 15.0
	marginBot   = 12.0
	contentW    = pageWidth - 2*marginLR
	bodySize    = 10.0
	smallSize   = 8.0
	lineFactor  = 1.45 // line height as a multiple of the font size
	ptToMM      = 25.4 / 72
	maxRowTall  = 200.0 // mm: taller table rows are split
	cellPadding = 1.2   // mm
)

var (
	primary   = &props.Color{Red: 0, Green: 102, Blue: 204}   // #0066CC
	dark      = &props.Color{Red: 25, Green: 25, Blue: 25}    // body text
	secondary = &props.Color{Red: 92, Green: 111, Blue: 130}  // #5C6F82
	lightBg   = &props.Color{Red: 242, Green: 247, Blue: 252} // table zebra
	trackBg   = &props.Color{Red: 224, Green: 230, Blue: 237} // chart track
	white     = &props.Color{Red: 255, Green: 255, Blue: 255}
	borderC   = &props.Color{Red: 200, Green: 208, Blue: 216}
)

// Render draws a layout. It is safe for concurrent use: every call works on
// its own copy of the fonts.
func Render(ctx context.Context, l faldone.Layout) ([]byte, error) {
	fcs, err := loadFaces()
	if err != nil {
		return nil, err
	}
	f := fonts.Copy()
	cfg := config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithLeftMargin(marginLR).WithRightMargin(marginLR).
		WithTopMargin(marginTop).WithBottomMargin(marginBot).
		WithMaxGridSize(grid).
		WithCompression(true).
		WithCustomFonts([]*entity.CustomFont{
			{Family: fonts.Family, Style: fontstyle.Normal, Bytes: f.Regular},
			{Family: fonts.Family, Style: fontstyle.Bold, Bytes: f.Bold},
		}).
		WithDefaultFont(&props.Font{Family: fonts.Family, Style: fontstyle.Normal, Size: bodySize, Color: dark}).
		WithPageNumber(props.PageNumber{Pattern: l.Meta.PageLabel, Place: props.RightBottom, Family: fonts.Family, Size: smallSize, Color: secondary}).
		WithTitle(l.Meta.Title, true).
		WithSubject(l.Meta.Subject, true).
		WithAuthor(l.Meta.Author, true).
		WithCreator(l.Meta.Creator, true).
		WithKeywords(l.Meta.Keywords, true).
		WithCreationDate(l.Meta.Date).
		Build()
	m := maroto.New(cfg)
	d := &drawer{m: m, faces: fcs}
	// The footer repeats on every page, so it is registered before any row.
	for _, b := range l.Blocks {
		if b.Type == faldone.BlockFooter {
			if err := d.footer(b); err != nil {
				return nil, err
			}
		}
	}
	for _, b := range l.Blocks {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		if b.Type != faldone.BlockFooter {
			d.block(b)
		}
	}
	doc, err := m.Generate()
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return finish(doc.GetBytes(), l.Meta)
}

type drawer struct {
	m     core.Maroto
	faces map[string]*face
}

// style is a font style and size with a colour.
type style struct {
	font  fontstyle.Type
	size  float64
	color *props.Color
	align align.Type
}

var (
	body    = style{fontstyle.Normal, bodySize, dark, align.Left}
	bold    = style{fontstyle.Bold, bodySize, dark, align.Left}
	small   = style{fontstyle.Normal, smallSize, secondary, align.Left}
	h1      = style{fontstyle.Bold, 13, primary, align.Left}
	h2      = style{fontstyle.Bold, 11, dark, align.Left}
	caption = style{fontstyle.Bold, 10.5, primary, align.Left}
	thead   = style{fontstyle.Bold, 9, white, align.Left}
	tcell   = style{fontstyle.Normal, 9, dark, align.Left}
)

func (s style) lineH() float64 { return s.size * ptToMM * lineFactor }

func (d *drawer) face(s style) *face {
	switch s.font {
	case fontstyle.Bold:
		return d.faces["B"]
	case fontstyle.Italic:
		return d.faces["I"]
	case fontstyle.BoldItalic:
		return d.faces["BI"]
	}
	return d.faces[""]
}

func colWidth(size int) float64 { return float64(size) * contentW / grid }

// wrapIn wraps s for a column of the given grid size with padding pad on both sides.
func (d *drawer) wrapIn(s string, st style, size int, pad float64) []string {
	// A small safety margin keeps the PDF writer from re-wrapping a line.
	return wrap(d.face(st), s, st.size, (colWidth(size)-2*pad)*0.985)
}

func (d *drawer) props(st style, top, pad float64) props.Text {
	return props.Text{Top: top, Left: pad, Right: pad, Family: fonts.Family, Style: st.font, Size: st.size, Color: st.color, Align: st.align}
}

// space adds vertical space.
func (d *drawer) space(h float64) { d.m.AddRows(row.New(h)) }

// lines draws text across the full width, one row per line.
func (d *drawer) lines(s string, st style) {
	for _, ln := range d.wrapIn(s, st, grid, 0) {
		d.m.AddRows(row.New(st.lineH()).Add(col.New(grid).Add(text.New(ln, d.props(st, 0, 0)))))
	}
}

func (d *drawer) block(b faldone.Block) {
	switch b.Type {
	case faldone.BlockLetterhead:
		d.letterhead(b)
	case faldone.BlockHeading:
		if b.Level == 2 {
			d.space(1.5)
			d.lines(strings.Join(b.Text, " "), h2)
		} else {
			d.space(3)
			d.lines(strings.Join(b.Text, " "), h1)
		}
		d.space(1.5)
	case faldone.BlockParagraph:
		st := body
		switch b.Align {
		case "right":
			st.align = align.Right
		case "center":
			st.align = align.Center
		}
		for _, t := range b.Text {
			d.lines(t, st)
		}
		d.space(2.5)
	case faldone.BlockKV:
		d.kv(b)
	case faldone.BlockTable:
		d.table(b)
	case faldone.BlockList:
		d.list(b)
	case faldone.BlockChart:
		d.chart(b)
	case faldone.BlockPaired:
		d.paired(b)
	case faldone.BlockQR:
		d.qr(b)
	case faldone.BlockSignature:
		d.signature(b)
	}
}

func (d *drawer) letterhead(b faldone.Block) {
	d.m.AddRows(row.New(1.2).Add(col.New(grid).Add(line.New(props.Line{Color: primary, Thickness: 1.2}))))
	d.space(2)
	for i, t := range b.Text {
		st := style{fontstyle.Normal, 10, secondary, align.Center}
		if i == 0 {
			st = style{fontstyle.Bold, 17, primary, align.Center}
		}
		d.lines(t, st)
	}
	d.space(1.5)
	d.m.AddRows(row.New(0.6).Add(col.New(grid).Add(line.New(props.Line{Color: borderC, Thickness: 0.3}))))
	d.space(5)
}

func (d *drawer) caption(title string) {
	if title == "" {
		return
	}
	d.space(1.5)
	d.lines(title, caption)
	d.space(1)
}

// cell is the wrapped text of one table cell.
type cell struct {
	lines []string
	st    style
	size  int
}

// tableRow draws one row of cells with a background and a border, splitting
// it when it would be taller than a page can hold.
func (d *drawer) tableRow(cells []cell, bg *props.Color) {
	maxLines := 0
	for _, c := range cells {
		maxLines = max(maxLines, len(c.lines))
	}
	lh := cells[0].st.lineH()
	per := max(1, int(maxRowTall/lh))
	for from := 0; from < maxLines || from == 0; from += per {
		to := min(from+per, maxLines)
		var cols []core.Col
		for _, c := range cells {
			cl := col.New(c.size)
			for i := from; i < to && i < len(c.lines); i++ {
				cl.Add(text.New(c.lines[i], d.props(c.st, cellPadding+float64(i-from)*lh, cellPadding)))
			}
			cols = append(cols, cl)
		}
		h := float64(max(1, to-from))*lh + 2*cellPadding
		r := row.New(h).Add(cols...)
		r.WithStyle(&props.Cell{BackgroundColor: bg, BorderType: border.Bottom, BorderColor: borderC, BorderThickness: 0.2})
		d.m.AddRows(r)
		if maxLines == 0 {
			break
		}
	}
}

func (d *drawer) kv(b faldone.Block) {
	d.caption(b.Title)
	for i, r := range b.Rows {
		var bg *props.Color
		if i%2 == 0 {
			bg = lightBg
		}
		lbl := tcell
		lbl.font = fontstyle.Bold
		d.tableRow([]cell{
			{d.wrapIn(r[0], lbl, 42, cellPadding), lbl, 42},
			{d.wrapIn(r[1], tcell, 78, cellPadding), tcell, 78},
		}, bg)
	}
	d.space(3)
}

func (d *drawer) table(b faldone.Block) {
	d.caption(b.Title)
	t := b.Table
	if t == nil {
		return
	}
	head := make([]cell, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = cell{d.wrapIn(c.Label, thead, c.Width*grid/12, cellPadding), thead, c.Width * grid / 12}
	}
	d.tableRow(head, primary)
	if len(t.Rows) == 0 && t.Empty != "" {
		d.tableRow([]cell{{d.wrapIn(t.Empty, tcell, grid, cellPadding), tcell, grid}}, nil)
	}
	for i, r := range t.Rows {
		cells := make([]cell, len(r))
		for j, v := range r {
			size := t.Columns[j].Width * grid / 12
			cells[j] = cell{d.wrapIn(v, tcell, size, cellPadding), tcell, size}
		}
		var bg *props.Color
		if i%2 == 1 {
			bg = lightBg
		}
		d.tableRow(cells, bg)
	}
	d.space(3)
}

func (d *drawer) list(b faldone.Block) {
	d.caption(b.Title)
	for _, item := range b.Text {
		for i, ln := range d.wrapIn(item, body, grid-5, 0) {
			bullet := ""
			if i == 0 {
				bullet = "•"
			}
			d.m.AddRows(row.New(body.lineH()).Add(
				col.New(5).Add(text.New(bullet, d.props(body, 0, 0))),
				col.New(grid-5).Add(text.New(ln, d.props(body, 0, 0))),
			))
		}
		d.space(0.8)
	}
	d.space(2)
}

// chart draws a horizontal bar chart: label, bar on a track, value.
func (d *drawer) chart(b faldone.Block) {
	d.caption(b.Title)
	const labelW, barW, valueW = 40, 66, 14
	st := tcell
	for _, bar := range b.Bars {
		lines := d.wrapIn(bar.Label, st, labelW, cellPadding)
		h := math.Max(7, float64(len(lines))*st.lineH()+2*cellPadding)
		label := col.New(labelW)
		for i, ln := range lines {
			label.Add(text.New(ln, d.props(st, cellPadding+float64(i)*st.lineH(), cellPadding)))
		}
		frac := 0.0
		if bar.Max > 0 {
			frac = math.Min(1, math.Max(0, bar.Value/bar.Max))
		}
		filled := int(math.Round(frac * barW))
		cols := []core.Col{label}
		if filled > 0 {
			cols = append(cols, col.New(filled).WithStyle(&props.Cell{BackgroundColor: primary}))
		}
		if filled < barW {
			cols = append(cols, col.New(barW-filled).WithStyle(&props.Cell{BackgroundColor: trackBg}))
		}
		vs := bold
		vs.align = align.Right
		cols = append(cols, col.New(valueW).Add(text.New(bar.Text, d.props(vs, (h-vs.lineH())/2, cellPadding))))
		d.m.AddRows(row.New(h).Add(cols...))
		d.space(1.2)
	}
	d.space(2)
}

func (d *drawer) qr(b faldone.Block) {
	const qrSize = 24
	txt := col.New(grid - qrSize)
	st := body
	y := 2.0
	for _, t := range b.Text {
		for _, ln := range d.wrapIn(t, st, grid-qrSize, 2) {
			txt.Add(text.New(ln, d.props(st, y, 2)))
			y += st.lineH()
		}
	}
	d.m.AddRows(row.New(36).Add(code.NewQrCol(qrSize, b.QR, props.Rect{Percent: 95, Center: true}), txt))
	d.space(3)
}

func (d *drawer) signature(b faldone.Block) {
	s := b.Sign
	if s == nil {
		return
	}
	d.space(4)
	if s.PlaceDate != "" {
		d.lines(s.PlaceDate, body)
		d.space(4)
	}
	right := func(t string, st style) {
		st.align = align.Center
		for _, ln := range d.wrapIn(t, st, 54, 0) {
			d.m.AddRows(row.New(st.lineH()).Add(col.New(grid-54), col.New(54).Add(text.New(ln, d.props(st, 0, 0)))))
		}
	}
	right(s.Role, bold)
	right(s.Name, body)
	if s.Note != "" {
		right(s.Note, small)
	}
	d.space(4)
}

func (d *drawer) footer(b faldone.Block) error {
	var rows []core.Row
	st := small
	for _, t := range b.Text {
		for _, ln := range d.wrapIn(t, st, grid-24, 0) {
			rows = append(rows, row.New(st.lineH()).Add(col.New(grid).Add(text.New(ln, d.props(st, 0, 0)))))
		}
	}
	rows = append([]core.Row{row.New(0.5).Add(col.New(grid).Add(line.New(props.Line{Color: borderC, Thickness: 0.2})))}, rows...)
	if err := d.m.RegisterFooter(rows...); err != nil {
		return fmt.Errorf("render footer: %w", err)
	}
	return nil
}

// Package render draws a faldone.Layout as an A4 PDF with maroto. It is the
// only package that knows maroto and gofpdf.
//
// Rendering has two phases, like TeX's boxes and glue. First every block is
// measured: its text is set (face chosen, hyphenated, wrapped with the
// metrics of the embedded faces) and it becomes boxes of known height that
// know how to draw themselves (blocks.go; one function per block type,
// registered in blockFuncs). Then the pure function paginate.Paginate places
// the boxes on pages - keep-with-next, repeated table headers, splitting
// between lines - and each page is handed to maroto whole, with the footer
// and "Pagina X di Y" drawn by this package, so maroto never breaks a page
// itself. The output is deterministic: fonts are written in sorted order,
// and the document information carries the document's own date.
package render

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/page"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/phpdave11/gofpdf"

	"faldone/fonts"
	"faldone/internal/faldone"
	"faldone/internal/render/hyphen"
	"faldone/internal/render/paginate"
)

func init() {
	// Sorted resource catalogs make the output byte-for-byte repeatable.
	gofpdf.SetDefaultCatalogSort(true)
}

const (
	grid        = 120  // columns of the layout grid
	pageWidth   = 210  // A4, mm
	pageHeight  = 297  // A4, mm
	marginLR    = 20.0 // mm
	marginTop   = 15.0
	marginBot   = 12.0
	contentW    = pageWidth - 2*marginLR
	contentH    = pageHeight - marginTop - marginBot
	bodySize    = 10.0
	smallSize   = 8.0
	lineFactor  = 1.55 // line height as a multiple of the font size: more than Titillium Web's ascent and descent (1.52)
	ptToMM      = 25.4 / 72
	cellPadding = 1.2 // mm
	footerGap   = 3.0 // mm between the body and the footer rule
	labelW      = 30.0
	draftH      = 7.0 // the draft band at the top of every page
	draftGap    = 3.0
	slack       = 0.01 // mm kept free on every page against rounding
)

var (
	primary   = &props.Color{Red: 0, Green: 102, Blue: 204}   // #0066CC
	dark      = &props.Color{Red: 25, Green: 25, Blue: 25}    // body text
	secondary = &props.Color{Red: 92, Green: 111, Blue: 130}  // #5C6F82
	lightBg   = &props.Color{Red: 242, Green: 247, Blue: 252} // table zebra
	trackBg   = &props.Color{Red: 224, Green: 230, Blue: 237} // chart track
	white     = &props.Color{Red: 255, Green: 255, Blue: 255}
	borderC   = &props.Color{Red: 200, Green: 208, Blue: 216}
	draftC    = &props.Color{Red: 204, Green: 51, Blue: 77}   // #CC334D, danger
	draftBg   = &props.Color{Red: 253, Green: 236, Blue: 239} // light danger
)

// style is a font style and size with a colour and alignment.
type style struct {
	font  fontstyle.Type
	size  float64
	color *props.Color
	align align.Type
}

var (
	body    = style{fontstyle.Normal, bodySize, dark, align.Justify}
	bold    = style{fontstyle.Bold, bodySize, dark, align.Left}
	small   = style{fontstyle.Normal, smallSize, secondary, align.Left}
	h1      = style{fontstyle.Bold, 13, primary, align.Left}
	h2      = style{fontstyle.Bold, 11, dark, align.Left}
	caption = style{fontstyle.Bold, 10.5, primary, align.Left}
	thead   = style{fontstyle.Bold, 9, white, align.Left}
	tcell   = style{fontstyle.Normal, 9, dark, align.Left}
)

func (s style) lineH() float64 { return s.size * ptToMM * lineFactor }

// shift lowers a line's baseline so that the glyphs' box (Titillium Web's
// ascent 1.133 em and descent 0.388 em) sits inside the line's own height:
// maroto puts the baseline one em below the top.
func (s style) shift() float64 { return (0.133 + (lineFactor-1.521)/2) * s.size * ptToMM }

// box is a measured piece of the page: its height and keep rules for the
// paginator, and how to draw it (or the lines [from, to) of it) as maroto
// rows whose heights add up to the piece's height.
type box struct {
	paginate.Box
	draw func(from, to int) []rowH
}

// rowH is a maroto row and its height.
type rowH struct {
	r core.Row
	h float64
}

// measurer sets the blocks of one document into boxes.
type measurer struct {
	faces        map[string]*face
	hy           *hyphen.Hyphenator
	boxes        []box
	groups       int
	usesFallback bool
	usesMono     bool
	tg           *tagger
	lang         string
	openList     *selem // the list that consecutive bulleted paragraphs continue
	foreign      []faldone.Phrase
}

func (m *measurer) face(family string, st style) *face {
	key := family + "/"
	switch st.font {
	case fontstyle.Bold:
		key += "B"
	case fontstyle.Italic:
		key += "I"
	case fontstyle.BoldItalic:
		key += "BI"
	}
	if family != fonts.Family && key[len(key)-1] == 'I' {
		key = strings.TrimSuffix(strings.TrimSuffix(key, "I"), "B") // no italic fallback
	}
	if family == fonts.MonoFamily {
		key = family + "/"
	}
	return m.faces[key]
}

// add appends a box.
func (m *measurer) add(b box) { m.boxes = append(m.boxes, b) }

// glue appends vertical space, which disappears at the top of a page.
func (m *measurer) glue(h float64) {
	m.add(box{Box: paginate.Box{H: h, Glue: true}, draw: func(int, int) []rowH { return []rowH{spacer(h)} }})
}

// keepLast marks the last box that is not glue to stay with the next one.
func (m *measurer) keepLast() {
	for i := len(m.boxes) - 1; i >= 0; i-- {
		if !m.boxes[i].Glue {
			m.boxes[i].Keep = true
			return
		}
	}
}

func spacer(h float64) rowH { return rowH{row.New(h).Add(col.New(grid)), h} }

// textAt is a text component placed at (x, y) millimetres from the top left
// of a full-width column, in a box w wide.
func textAt(s string, family string, st style, x, y, w float64, al align.Type) core.Component {
	return text.New(s, props.Text{
		Top: y + st.shift(), Left: x, Right: math.Max(0, contentW-x-w),
		Family: family, Style: st.font, Size: st.size, Color: st.color, Align: al,
	})
}

// textComponent is a line of r in a column, padded by pad on both sides, at y.
func textComponent(s string, r run, pad, y float64) core.Component {
	al := r.st.align
	if al == align.Justify {
		al = align.Left
	}
	return text.New(s, props.Text{
		Top: y + r.shift, Left: pad, Right: pad,
		Family: r.family, Style: r.st.font, Size: r.st.size, Color: r.st.color, Align: al,
	})
}

// linesAt adds the lines [from, to) of r to c, the first at y, in a column
// at x that is w wide. Justified text keeps the last line of each paragraph
// flush left.
func linesAt(c core.Col, r run, from, to int, x, y, w float64) {
	lh := r.lh
	for i := from; i < to && i < len(r.lines); i++ {
		ln := r.lines[i]
		if ln.s == "" {
			continue
		}
		al := r.st.align
		if al == align.Justify && ln.last {
			al = align.Left
		}
		c.Add(text.New(ln.s, props.Text{
			Top: y + float64(i-from)*lh + r.shift, Left: x, Right: math.Max(0, contentW-x-w),
			Family: r.family, Style: r.st.font, Size: r.st.size, Color: r.st.color, Align: al,
		}))
	}
}

// Render draws a layout. It is safe for concurrent use: the fonts are
// parsed once per process and shared, and every call cuts its own subsets.
func Render(ctx context.Context, l faldone.Layout) ([]byte, error) {
	fcs, err := loadFaces()
	if err != nil {
		return nil, err
	}
	lang := l.Meta.Lang
	if lang == "" {
		lang = "it"
	}
	ms := &measurer{faces: fcs, hy: hyphen.For(lang), tg: newTagger(), lang: lang, foreign: l.Meta.Foreign}
	var footer *faldone.Block
	for i, b := range l.Blocks {
		if b.Type == faldone.BlockFooter {
			footer = &l.Blocks[i]
			continue
		}
		f, ok := blockFuncs[b.Type]
		if !ok {
			return nil, fmt.Errorf("render: unknown block type %q", b.Type)
		}
		if b.Type != faldone.BlockParagraph {
			ms.openList = nil
		}
		f(ms, b)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	foot := ms.footer(footer, l.Meta.PageLabel)
	bodyH := contentH - foot.h - footerGap - slack
	if l.Meta.Draft != "" {
		bodyH -= draftH + draftGap
	}
	pboxes := make([]paginate.Box, len(ms.boxes))
	for i, b := range ms.boxes {
		pboxes[i] = b.Box
	}
	pages, err := paginate.Paginate(pboxes, bodyH)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}

	f := fonts.All()
	custom := []*entity.CustomFont{
		{Family: fonts.Family, Style: fontstyle.Normal, Bytes: f.Regular},
		{Family: fonts.Family, Style: fontstyle.Bold, Bytes: f.Bold},
	}
	if ms.usesFallback || strings.ContainsFunc(l.Meta.Draft+l.Meta.PageLabel, func(r rune) bool { return !fonts.Main().Has(r) }) {
		custom = append(custom,
			&entity.CustomFont{Family: fonts.FallbackFamily, Style: fontstyle.Normal, Bytes: f.Fallback},
			&entity.CustomFont{Family: fonts.FallbackFamily, Style: fontstyle.Bold, Bytes: f.FallbackBold})
	}
	if ms.usesMono {
		custom = append(custom, &entity.CustomFont{Family: fonts.MonoFamily, Style: fontstyle.Normal, Bytes: f.Mono})
	}
	cfg := config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithLeftMargin(marginLR).WithRightMargin(marginLR).
		WithTopMargin(marginTop).WithBottomMargin(marginBot).
		WithMaxGridSize(grid).
		WithCompression(true).
		WithCustomFonts(custom).
		WithDefaultFont(&props.Font{Family: fonts.Family, Style: fontstyle.Normal, Size: bodySize, Color: dark}).
		WithTitle(l.Meta.Title, true).
		WithSubject(l.Meta.Subject, true).
		WithAuthor(l.Meta.Author, true).
		WithCreator(l.Meta.Creator, true).
		WithKeywords(l.Meta.Keywords, true).
		WithCreationDate(l.Meta.Date).
		Build()
	m := maroto.New(cfg)
	pdf, err := fpdfOf(m)
	if err != nil {
		return nil, err
	}
	ms.tg.pdf = pdf
	pdf.SetStructTree(ms.tg.write)
	for n, pg := range pages {
		var rows []core.Row
		used := 0.0
		push := func(rs ...rowH) {
			for _, r := range rs {
				rows = append(rows, r.r)
				used += r.h
			}
		}
		if l.Meta.Draft != "" {
			push(ms.draftBand(l.Meta.Draft), spacer(draftGap))
		}
		for _, pc := range pg.Pieces {
			ms.tg.repeat = pc.Repeat
			push(ms.boxes[pc.Box].draw(pc.From, pc.To)...)
		}
		ms.tg.repeat = false
		fill := contentH - slack - used - foot.h
		if fill < -1e-6 {
			return nil, fmt.Errorf("render: page %d overflows by %.2f mm", n+1, -fill)
		}
		push(spacer(math.Max(0, fill)))
		push(foot.draw(n+1, len(pages))...)
		m.AddPages(page.New().Add(rows...))
	}
	doc, err := m.Generate()
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return finish(doc.GetBytes(), l.Meta)
}

// SetFontSubsetCache sets how many font subsets (a font cut to the
// characters a document uses, compressed, with its widths) the process
// keeps for the next documents that use the same characters: 128 unless
// set, 0 for none. The output does not depend on it.
func SetFontSubsetCache(n int) { gofpdf.SetFontSubsetCache(n) }

// footerSet is the measured footer: its height and how to draw it on page n of total.
type footerSet struct {
	h    float64
	draw func(n, total int) []rowH
}

// footer sets the footer: a rule as wide as the text, the footer's lines at
// the left and the page label at the right of the first line.
func (m *measurer) footer(b *faldone.Block, label string) footerSet {
	if label == "" {
		label = "{current} / {total}"
	}
	var runs []run
	lines := 0
	if b != nil {
		for _, t := range b.Text {
			r := m.set(t, small, contentW-labelW, false)
			runs = append(runs, r)
			lines += len(r.lines)
		}
	}
	lines = max(lines, 1)
	lh := small.lineH()
	textH := float64(lines) * lh
	labelFam := m.familyFor(label)
	return footerSet{
		h: 0.5 + 1.5 + textH,
		draw: func(n, total int) []rowH {
			c := col.New(grid).Add(m.tg.artifact("<</Type /Pagination /Subtype /Footer>>"))
			y := 0.0
			for _, r := range runs {
				linesAt(c, r, 0, len(r.lines), 0, y, contentW-labelW)
				y += float64(len(r.lines)) * lh
			}
			lbl := strings.NewReplacer("{current}", strconv.Itoa(n), "{total}", strconv.Itoa(total)).Replace(label)
			c.Add(textAt(lbl, labelFam, small, contentW-labelW, 0, labelW, align.Right), m.tg.end())
			return []rowH{
				{row.New(0.5).Add(col.New(grid).Add(line.New(props.Line{Color: borderC, Thickness: 0.2, SizePercent: 100, OffsetPercent: 50}))), 0.5},
				spacer(1.5),
				{row.New(textH).Add(c), textH},
			}
		},
	}
}

// draftBand is the mark at the top of every page of an unsealed document.
func (m *measurer) draftBand(mark string) rowH {
	st := style{fontstyle.Bold, 9.5, draftC, align.Center}
	fam := m.familyFor(mark)
	r := row.New(draftH).Add(col.New(grid).Add(m.tg.artifact("<</Type /Pagination /Subtype /Watermark>>"),
		textAt(mark, fam, st, 0, (draftH-st.lineH())/2+0.4, contentW, align.Center), m.tg.end()))
	r.WithStyle(&props.Cell{BackgroundColor: draftBg})
	return rowH{r, draftH}
}

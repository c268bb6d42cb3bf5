package render

import (
	"math"

	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"faldone/internal/faldone"
)

func init() { registerBlock(faldone.BlockPaired, (*measurer).paired) }

// beforeC is the colour of the "before" bars of a paired chart: a grey of
// the palette, so that the change stands out in the primary blue and the two
// series read apart in a grey-scale print too.
var beforeC = &props.Color{Red: 150, Green: 163, Blue: 176}

// paired measures a paired horizontal bar chart: per row a label and two
// bars on a common scale - before (grey) above after (blue) - each with its
// value, under a legend naming the two series. The caption and the legend
// stay with the first row; each row is one box that is never split, so a
// page never separates the two bars of a pair, and no row is left alone on
// a page.
//
// The bars are thick lines: a row is cut into columns at the ends of the two
// bars, and each column draws the pieces of track and bar that fall in it.
func (m *measurer) paired(b faldone.Block) {
	fig := m.tg.figure(b.Title, pairedAlt(b))
	fig.fullW = true
	m.caption(b.Title, fig)
	const labelCols, barCols, valueCols = 40, 62, 18
	const keyCols, nameCols = 3, 27
	lw := contentW * labelCols / grid
	vw := contentW*valueCols/grid - 2*cellPadding

	// The legend: a swatch and a name for each series.
	var names [2]run
	legendH := 0.0
	for i, n := range b.Legend {
		names[i] = m.set(n, small, contentW*nameCols/grid-2*cellPadding, false)
		legendH = math.Max(legendH, float64(len(names[i].lines))*small.lineH())
	}
	legendH++
	m.block(legendH+1, true, func() []rowH {
		cols := []core.Col{col.New(labelCols).Add(m.tg.begin(fig))}
		for i, c := range []*props.Color{beforeC, primary} {
			name := col.New(nameCols)
			for j, ln := range names[i].lines {
				name.Add(textComponent(ln.s, names[i], cellPadding, 0.5+float64(j)*small.lineH()))
			}
			cols = append(cols,
				col.New(keyCols).Add(line.New(props.Line{Color: c, Thickness: 2.6, OffsetPercent: 50, SizePercent: 100})),
				name)
		}
		cols = append(cols, col.New(grid-labelCols-2*(keyCols+nameCols)).Add(m.tg.end()))
		return []rowH{{row.New(legendH).Add(cols...), legendH}, spacer(1)}
	})

	st := tcell
	before := small
	before.color = dark
	before.align = align.Right
	after := bold
	after.size = smallSize
	after.align = align.Right
	const thick, top, bottom = 3.6, 30.0, 72.0 // mm; offsets in % of the row
	for k, p := range b.Pairs {
		lr := m.set(p.Label, st, lw-2*cellPadding, false)
		br := m.set(p.BeforeText, before, vw, false)
		ar := m.set(p.AfterText, after, vw, false)
		h := math.Max(11, float64(len(lr.lines))*st.lineH()+2*cellPadding)
		units := func(v float64) int {
			if p.Max <= 0 || math.IsNaN(v) {
				return 0
			}
			return int(math.Round(math.Min(1, math.Max(0, v/p.Max)) * barCols))
		}
		ub, ua := units(p.Before), units(p.After)
		// No pair stands alone on a page: the first goes with the second,
		// the last with the one before.
		keep := k == 0 || k == len(b.Pairs)-2
		m.block(h+1.5, keep, func() []rowH {
			label := col.New(labelCols).Add(m.tg.begin(fig))
			y := (h - float64(len(lr.lines))*st.lineH()) / 2
			for i, ln := range lr.lines {
				label.Add(textComponent(ln.s, lr, cellPadding, y+float64(i)*st.lineH()))
			}
			cols := []core.Col{label}
			cuts := []int{0, min(ub, ua), max(ub, ua), barCols}
			for i := 0; i+1 < len(cuts); i++ {
				from, to := cuts[i], cuts[i+1]
				if to <= from {
					continue
				}
				c := col.New(to - from)
				for _, s := range []struct {
					off  float64
					on   bool
					fill *props.Color
				}{{top, ub > from, beforeC}, {bottom, ua > from, primary}} {
					color := trackBg
					if s.on {
						color = s.fill
					}
					c.Add(line.New(props.Line{Color: color, Thickness: thick, OffsetPercent: s.off, SizePercent: 100}))
				}
				cols = append(cols, c)
			}
			values := col.New(valueCols)
			for _, v := range []struct {
				r   run
				off float64
			}{{br, top}, {ar, bottom}} {
				if len(v.r.lines) > 0 {
					values.Add(textComponent(v.r.lines[0].s, v.r, cellPadding, h*v.off/100-v.r.lh/2))
				}
			}
			cols = append(cols, values.Add(m.tg.end()))
			return []rowH{{row.New(h).Add(cols...), h}, spacer(1.5)}
		})
	}
	m.glue(2)
}

package render

import (
	"math"

	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"faldone/internal/faldone"
)

// beforeC is the colour of the "before" bars of a paired chart: a grey of
// the palette, so that the change stands out in the primary blue and the two
// series read apart in a grey-scale print too.
var beforeC = &props.Color{Red: 150, Green: 163, Blue: 176}

// paired draws a paired horizontal bar chart: per row a label and two bars
// on a common scale - before (grey) above after (blue) - each with its
// value, under a legend naming the two series. Each row is one layout row,
// so a page never separates the two bars of a pair.
//
// The bars are thick lines: a row is cut into columns at the ends of the two
// bars, and each column draws the pieces of track and bar that fall in it.
func (d *drawer) paired(b faldone.Block) {
	d.caption(b.Title)
	const labelW, barW, valueW = 40, 66, 14
	legend := func(c *props.Color, name string) []core.Col {
		return []core.Col{
			col.New(3).Add(line.New(props.Line{Color: c, Thickness: 2.6, OffsetPercent: 50, SizePercent: 100})),
			col.New(27).Add(text.New(name, d.props(small, 0.4, cellPadding))),
		}
	}
	head := []core.Col{col.New(labelW)}
	head = append(head, legend(beforeC, b.Legend[0])...)
	head = append(head, legend(primary, b.Legend[1])...)
	head = append(head, col.New(grid-labelW-60))
	d.m.AddRows(row.New(small.lineH() + 1).Add(head...))
	d.space(1)
	st := tcell
	const thick, top, bottom = 3.6, 30.0, 72.0 // mm; offsets in % of the row
	for _, p := range b.Pairs {
		lines := d.wrapIn(p.Label, st, labelW, cellPadding)
		h := math.Max(11, float64(len(lines))*st.lineH()+2*cellPadding)
		label := col.New(labelW)
		y := (h - float64(len(lines))*st.lineH()) / 2
		for i, ln := range lines {
			label.Add(text.New(ln, d.props(st, y+float64(i)*st.lineH(), cellPadding)))
		}
		units := func(v float64) int {
			if p.Max <= 0 {
				return 0
			}
			return int(math.Round(math.Min(1, math.Max(0, v/p.Max)) * barW))
		}
		ub, ua := units(p.Before), units(p.After)
		cuts := []int{0, min(ub, ua), max(ub, ua), barW}
		cols := []core.Col{label}
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
		vs := small
		vs.color = dark
		vs.align = align.Right
		values := col.New(valueW).Add(
			text.New(p.BeforeText, d.props(vs, h*top/100-vs.lineH()/2, cellPadding)),
			text.New(p.AfterText, d.props(bold.withSize(smallSize), h*bottom/100-vs.lineH()/2, cellPadding)),
		)
		cols = append(cols, values)
		d.m.AddRows(row.New(h).Add(cols...))
		d.space(1.5)
	}
	d.space(2)
}

// withSize returns s at another size, right-aligned (values of a chart).
func (s style) withSize(size float64) style {
	s.size = size
	s.align = align.Right
	return s
}

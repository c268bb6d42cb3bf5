package render

import (
	"math"

	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"faldone/internal/faldone"
)

// beforeC is the colour of the "before" bars of a paired chart: the
// secondary grey of the palette, so that the change stands out in the
// primary blue and the two read apart in grey-scale prints too.
var beforeC = &props.Color{Red: 150, Green: 163, Blue: 176}

// paired draws a paired horizontal bar chart: per row a label, then two
// bars on a common scale - before (grey) above after (blue) - each with
// its value, and a legend naming the two series above the rows.
func (d *drawer) paired(b faldone.Block) {
	d.caption(b.Title)
	const labelW, barW, valueW = 40, 66, 14
	st := tcell
	legend := func(c *props.Color, name string) []core.Col {
		return []core.Col{
			col.New(3).WithStyle(&props.Cell{BackgroundColor: c}),
			col.New(27).Add(text.New(name, d.props(small, 0.2, cellPadding))),
		}
	}
	cols := []core.Col{col.New(labelW)}
	cols = append(cols, legend(beforeC, b.Legend[0])...)
	cols = append(cols, legend(primary, b.Legend[1])...)
	cols = append(cols, col.New(grid-labelW-60))
	d.m.AddRows(row.New(small.lineH()).Add(cols...))
	d.space(1.5)
	for _, p := range b.Pairs {
		lines := d.wrapIn(p.Label, st, labelW, cellPadding)
		barH := 4.2
		h := math.Max(2*barH+1, float64(len(lines))*st.lineH()+2*cellPadding)
		label := col.New(labelW)
		for i, ln := range lines {
			label.Add(text.New(ln, d.props(st, cellPadding+float64(i)*st.lineH(), cellPadding)))
		}
		bar := func(v float64, c *props.Color, txt string, first bool) core.Row {
			frac := 0.0
			if p.Max > 0 {
				frac = math.Min(1, math.Max(0, v/p.Max))
			}
			filled := int(math.Round(frac * barW))
			var cs []core.Col
			if first {
				cs = append(cs, label)
			} else {
				cs = append(cs, col.New(labelW))
			}
			if filled > 0 {
				cs = append(cs, col.New(filled).WithStyle(&props.Cell{BackgroundColor: c}))
			}
			if filled < barW {
				cs = append(cs, col.New(barW-filled).WithStyle(&props.Cell{BackgroundColor: trackBg}))
			}
			vs := small
			vs.color = dark
			vs.align = align.Right
			cs = append(cs, col.New(valueW).Add(text.New(txt, d.props(vs, 0.3, cellPadding))))
			return row.New(barH).Add(cs...)
		}
		d.m.AddRows(bar(p.Before, beforeC, p.BeforeText, true), row.New(0.6), bar(p.After, primary, p.AfterText, false))
		if extra := h - (2*barH + 0.6); extra > 0.5 {
			d.space(extra)
		}
		d.space(2)
	}
	d.space(2)
}

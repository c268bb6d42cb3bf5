package paginate

import (
	"math/rand/v2"
	"testing"
)

func line(n int) Box { return Box{H: float64(n) * 5, Lines: n, Unit: 5, MinLines: 2} }

// pagesOf returns, per page, the boxes placed on it (repeats marked negative).
func pagesOf(pages []Page) [][]int {
	var out [][]int
	for _, p := range pages {
		var ids []int
		for _, pc := range p.Pieces {
			if pc.Repeat {
				ids = append(ids, -pc.Box)
			} else {
				ids = append(ids, pc.Box)
			}
		}
		out = append(out, ids)
	}
	return out
}

func TestHeadingMovesWithItsParagraph(t *testing.T) {
	boxes := []Box{
		{H: 90},            // 0: content
		{H: 8, Keep: true}, // 1: heading, would fit at the foot
		line(4),            // 2: its paragraph, does not
	}
	pages, err := Paginate(boxes, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := pagesOf(pages); len(got) != 2 || len(got[0]) != 1 || got[1][0] != 1 {
		t.Fatalf("pages %v, want the heading on page 2 with its paragraph", got)
	}
}

func TestParagraphSplitsKeepingTwoLinesEachSide(t *testing.T) {
	boxes := []Box{{H: 85}, line(5)} // 15 mm left: 3 lines fit, but 2 must follow
	pages, err := Paginate(boxes, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("%d pages", len(pages))
	}
	a, b := pages[0].Pieces[1], pages[1].Pieces[0]
	if a.From != 0 || a.To != 3 || b.From != 3 || b.To != 5 {
		t.Fatalf("split %+v / %+v, want lines 0-3 / 3-5", a, b)
	}
	// One line would fit: an orphan is not left behind.
	pages, _ = Paginate([]Box{{H: 94}, line(5)}, 100)
	if got := pagesOf(pages); len(got[0]) != 1 {
		t.Fatalf("pages %v: an orphan line was left at the foot", got)
	}
}

func TestTableHeaderRepeats(t *testing.T) {
	boxes := []Box{{H: 10, Keep: true}, {H: 6, Keep: true, Group: 1, Header: true}}
	for range 40 {
		boxes = append(boxes, Box{H: 7, Group: 1})
	}
	boxes = append(boxes, Box{H: 3, Glue: true}, Box{H: 30, Keep: true}, Box{H: 20})
	pages, err := Paginate(boxes, 100)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for n, p := range pagesOf(pages) {
		if n > 0 && n < 3 && p[0] != -1 {
			t.Fatalf("page %d starts with %v, want the repeated header", n+1, p)
		}
		for _, id := range p {
			if id >= 2 && id < 42 {
				rows++
			}
		}
	}
	if rows != 40 {
		t.Fatalf("%d rows placed, want 40", rows)
	}
	for _, p := range pages {
		if p.Used > 100+eps {
			t.Fatalf("page overfull: %.1f", p.Used)
		}
	}
}

func TestRowTallerThanAPageIsSplit(t *testing.T) {
	boxes := []Box{
		{H: 6, Keep: true, Group: 1, Header: true},
		{H: 50*4 + 2, Lines: 50, Unit: 4, Pad: 2, Group: 1},
		{H: 10, Group: 1},
	}
	pages, err := Paginate(boxes, 100)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, p := range pages {
		if p.Used > 100+eps {
			t.Fatalf("page overfull: %.1f", p.Used)
		}
		for _, pc := range p.Pieces {
			if pc.Box == 1 {
				lines += pc.To - pc.From
			}
		}
	}
	if lines != 50 {
		t.Fatalf("%d lines placed, want 50", lines)
	}
	if got := pagesOf(pages); got[1][0] != -0 || len(got) != 3 {
		t.Logf("pages %v", got)
	}
}

func TestRowMovesWholeWhenItFitsAPage(t *testing.T) {
	boxes := []Box{{H: 80}, {H: 30, Lines: 7, Unit: 4, Pad: 2}}
	pages, _ := Paginate(boxes, 100)
	if got := pagesOf(pages); len(got) != 2 || len(got[1]) != 1 || pages[1].Pieces[0].To != 7 {
		t.Fatalf("pages %v, want the row whole on page 2", got)
	}
}

func TestGlueDroppedAtTopAndNoEmptyPage(t *testing.T) {
	boxes := []Box{{H: 98}, {H: 5, Glue: true}, {H: 10}, {H: 5, Glue: true}}
	pages, _ := Paginate(boxes, 100)
	got := pagesOf(pages)
	if len(got) != 2 || len(got[1]) != 2 || got[1][0] != 2 {
		t.Fatalf("pages %v, want [0] [2 3]", got)
	}
	pages, _ = Paginate([]Box{{H: 100}, {H: 5, Glue: true}}, 100)
	if len(pages) != 1 {
		t.Fatalf("%d pages, want no trailing page of glue", len(pages))
	}
}

func TestSignatureTakesTheParagraphTail(t *testing.T) {
	boxes := []Box{{H: 60}, {H: 40, Lines: 8, Unit: 5, MinLines: 2, Keep: true}, {H: 25}}
	pages, _ := Paginate(boxes, 100)
	if len(pages) != 2 {
		t.Fatalf("%d pages", len(pages))
	}
	last := pages[1].Pieces
	if len(last) != 2 || last[0].Box != 1 || last[0].To-last[0].From < 2 || last[1].Box != 2 {
		t.Fatalf("page 2 %+v, want the paragraph's last lines and the signature", last)
	}
}

func TestOversizedBoxIsAnError(t *testing.T) {
	if _, err := Paginate([]Box{{H: 120}}, 100); err == nil {
		t.Fatal("a box taller than the page was accepted")
	}
}

// TestRandomInvariants checks, on random vertical lists, that every page
// fits, every box and line is placed exactly once in order, a chain that
// fits a page is not broken, and no page is empty.
func TestRandomInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 3000 {
		var boxes []Box
		group := 0
		for range r.IntN(60) + 1 {
			switch r.IntN(6) {
			case 0:
				boxes = append(boxes, Box{H: 1 + r.Float64()*5, Glue: true})
			case 1:
				k := r.IntN(30) + 1
				boxes = append(boxes, Box{H: float64(k) * 4.5, Lines: k, Unit: 4.5, MinLines: 2, Keep: r.IntN(4) == 0})
			case 2:
				group++
				boxes = append(boxes, Box{H: 7, Keep: true, Group: group, Header: true})
				for range r.IntN(30) + 1 {
					k := r.IntN(80) + 1
					boxes = append(boxes, Box{H: float64(k)*4 + 2, Lines: k, Unit: 4, Pad: 2, Group: group})
				}
			default:
				boxes = append(boxes, Box{H: 2 + r.Float64()*40, Keep: r.IntN(3) == 0})
			}
		}
		pages, err := Paginate(boxes, 100)
		if err != nil {
			t.Fatal(err)
		}
		next, line := 0, 0
		for pn, p := range pages {
			if p.Used > 100+eps {
				t.Fatalf("case %d page %d overfull: %.2f", n, pn, p.Used)
			}
			content := false
			for _, pc := range p.Pieces {
				if pc.Repeat {
					continue
				}
				for next < pc.Box && boxes[next].Glue {
					next++ // dropped glue
				}
				if pc.Box != next {
					t.Fatalf("case %d page %d: box %d placed, want %d", n, pn, pc.Box, next)
				}
				if !boxes[pc.Box].Glue {
					content = true
				}
				if boxes[pc.Box].Lines > 0 {
					if pc.From != line {
						t.Fatalf("case %d: box %d resumes at line %d, want %d", n, pc.Box, pc.From, line)
					}
					line = pc.To
					if line < boxes[pc.Box].Lines {
						continue
					}
				}
				next, line = next+1, 0
			}
			if !content {
				t.Fatalf("case %d page %d has no content", n, pn)
			}
			// A page ends on a box that keeps with the next only when that
			// chain could not fit an empty page, or when the box closes the
			// part that fits of a longer chain.
			if pn < len(pages)-1 {
				last := -1
				for _, pc := range p.Pieces {
					if !pc.Repeat && !boxes[pc.Box].Glue {
						last = pc.Box
						if boxes[pc.Box].Lines > 0 && pc.To < boxes[pc.Box].Lines {
							last = -1 // split: its last lines go on with the chain
						}
					}
				}
				if last >= 0 && boxes[last].Keep && chainHeight(boxes, last) <= 100-7-eps && !closesLongChain(boxes, last) {
					for k := max(0, last-2); k < min(len(boxes), last+4); k++ {
						t.Logf("box %d: %+v", k, boxes[k])
					}
					t.Logf("page: %+v used %.2f; next: %+v", p.Pieces, p.Used, pages[pn+1].Pieces[:min(3, len(pages[pn+1].Pieces))])
					t.Fatalf("case %d page %d ends on box %d, which keeps with the next (chain %.1f mm)", n, pn, last, chainHeight(boxes, last))
				}
			}
		}
		for next < len(boxes) && boxes[next].Glue {
			next++
		}
		if next != len(boxes) {
			t.Fatalf("case %d: %d of %d boxes placed", n, next, len(boxes))
		}
	}
}

// chainHeight is the least height box i needs with what it keeps with: the
// whole of every kept box and glue, and the first lines of the last.
// closesLongChain reports whether box i holds lines and ends the part that
// fits of a longer keep chain, one that starts before it and could not fit
// an empty page: it then stays with what introduces it, on the same page.
func closesLongChain(boxes []Box, i int) bool {
	if boxes[i].Lines == 0 {
		return false
	}
	s := i
	for s > 0 && (boxes[s-1].Keep || boxes[s-1].Glue) {
		s--
	}
	return s < i && chainHeight(boxes, s) > 100-7-eps
}

func chainHeight(boxes []Box, i int) float64 {
	h := 0.0
	j := i
	for ; j < len(boxes) && (boxes[j].Keep || boxes[j].Glue); j++ {
		h += boxes[j].H
	}
	if j < len(boxes) {
		b := boxes[j]
		if b.Lines > 0 && b.MinLines > 0 && b.Lines >= 2*b.MinLines {
			h += float64(b.MinLines)*b.Unit + b.Pad
		} else {
			h += b.H
		}
	}
	return h
}

// TestHeaderGoesWithATallFirstRow: a table's header keeps with its first
// row even when that row, kept with a signature, is too tall to take the
// signature along; the header is never left alone at the foot of a page.
func TestHeaderGoesWithATallFirstRow(t *testing.T) {
	boxes := []Box{
		{H: 40}, // 0: content
		{H: 7, Keep: true, Group: 1, Header: true},        // 1: header
		{H: 80, Keep: true, Lines: 16, Unit: 5, Group: 1}, // 2: first row, kept with the signature
		{H: 30}, // 3: signature
	}
	pages, err := Paginate(boxes, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := pagesOf(pages)
	for _, pg := range got {
		if pg[len(pg)-1] == 1 {
			t.Fatalf("pages %v: the header ends a page", got)
		}
	}
	if len(got) != 3 || got[1][0] != 1 || got[1][1] != 2 {
		t.Fatalf("pages %v, want the header and its row on page 2, the signature on page 3", got)
	}
}

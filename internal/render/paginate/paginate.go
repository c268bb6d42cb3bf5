// Package paginate places measured boxes on pages: the second of the
// renderer's two phases (measure every block, then place; draw last). It is a
// pure function of the boxes' heights and a few rules, in the spirit of TeX's
// boxes and glue:
//
//   - a box marked Keep stays on the same page as the box after it (headings,
//     captions, a table's header and its first row, a signature's place and
//     date with the signatory), unless the whole chain could not fit even an
//     empty page;
//   - glue (vertical space) is dropped at the top of a page;
//   - a table's header row is repeated at the top of every page the table
//     continues on;
//   - a box of lines (a paragraph) is split between lines, leaving at least
//     MinLines lines on either side; a box that fits no page at all (a table
//     row taller than a page) is split between lines too, and otherwise moves
//     whole to the next page;
//   - no page is left without a box, and no page is opened without one.
package paginate

import "fmt"

// Box is one unit of the page's vertical list.
type Box struct {
	H        float64 // height, including Pad; for a box of lines: Lines*Unit + Pad
	Keep     bool    // stay on the page of the next box
	Glue     bool    // vertical space: dropped at the top of a page
	Lines    int     // > 0: the box is Lines lines of Unit height each, plus Pad
	Unit     float64 // height of one line
	Pad      float64 // fixed height around the lines (cell padding)
	MinLines int     // lines to keep together at either side of a split; 0: split only a box that fits no page
	Group    int     // > 0: the table the box belongs to
	Header   bool    // the header row of its Group, repeated on each page the group continues on
}

// Piece is a box, or the lines [From, To) of a box of lines, placed on a page.
type Piece struct {
	Box      int // index into the boxes
	From, To int // lines of the box on this page; 0, 0 for a whole box without lines
	Repeat   bool
}

// Page is the pieces of one page, top to bottom, and the height they take.
type Page struct {
	Pieces []Piece
	Used   float64
}

const eps = 1e-6

// Paginate places boxes on pages of height pageH. It fails only when a box
// without lines is taller than a page, which measurement must prevent.
func Paginate(boxes []Box, pageH float64) ([]Page, error) {
	p := &paginator{boxes: boxes, pageH: pageH, headers: map[int]int{}, limit: -1}
	for i, b := range boxes {
		if b.Lines == 0 && b.H > pageH+eps {
			return nil, fmt.Errorf("paginate: box %d is %.1f mm tall, the page holds %.1f mm", i, b.H, pageH)
		}
		if b.Lines < 0 || (b.Lines > 0 && b.Unit <= 0) {
			return nil, fmt.Errorf("paginate: box %d has %d lines of %.2f mm", i, b.Lines, b.Unit)
		}
		if b.Header && b.Group > 0 {
			if _, ok := p.headers[b.Group]; !ok {
				p.headers[b.Group] = i
			}
		}
	}
	p.run()
	return p.pages, nil
}

type paginator struct {
	boxes   []Box
	pageH   float64
	headers map[int]int // group -> index of its header box
	pages   []Page
	limit   int // the last box of the keep chain being placed, -1 when none
	cur     *Page
	placed  map[int]bool // headers already placed once
}

func (p *paginator) used() float64 {
	if p.cur == nil {
		return 0
	}
	return p.cur.Used
}

func (p *paginator) empty() bool { return p.cur == nil || len(p.cur.Pieces) == 0 }

// newPage closes the current page and opens the next. When box i continues a
// table whose header is already placed, the header is repeated first.
func (p *paginator) newPage(i int) {
	p.pages = append(p.pages, Page{})
	p.cur = &p.pages[len(p.pages)-1]
	b := p.boxes[i]
	if h, ok := p.headers[b.Group]; ok && b.Group > 0 && !b.Header && p.placed[h] {
		p.put(Piece{Box: h, Repeat: true}, p.boxes[h].H)
	}
}

func (p *paginator) put(pc Piece, h float64) {
	p.cur.Pieces = append(p.cur.Pieces, pc)
	p.cur.Used += h
}

// headerH is the height a repeated header takes above box i on a fresh page.
func (p *paginator) headerH(i int) float64 {
	b := p.boxes[i]
	if h, ok := p.headers[b.Group]; ok && b.Group > 0 && !b.Header {
		return p.boxes[h].H
	}
	return 0
}

// rest is the height of box i from line from on.
func (p *paginator) rest(i, from int) float64 {
	b := p.boxes[i]
	if b.Lines > 0 {
		return float64(b.Lines-from)*b.Unit + b.Pad
	}
	return b.H
}

// minHead is the least height of box i, from line from, that can open a
// page region: MinLines lines of a paragraph, one line of a box that fits
// no page, else all of it.
func (p *paginator) minHead(i, from int) float64 {
	b := p.boxes[i]
	rest := p.rest(i, from)
	switch {
	case b.Lines > 0 && b.MinLines > 0 && b.Lines-from >= 2*b.MinLines:
		return float64(b.MinLines)*b.Unit + b.Pad // the rest may follow on the next page
	case b.Lines > 0 && b.MinLines > 0:
		return rest // too short to split without an orphan or a widow
	case b.Lines > 0 && rest > p.pageH-p.headerH(i)+eps:
		return b.Unit + b.Pad
	}
	return rest
}

// chainAfter is the height that must follow box i on its page: the boxes it
// keeps with (glue included), the last of them only by its minimal head -
// or, when that chain could not fit in room (what an empty page leaves
// after box i), as much of its start as does, ending after a box that
// holds lines or keeps with nothing: a heading or a table's header row
// still goes with the block it introduces when that block, kept in turn
// with what follows it, is too tall to take the rest along. 0 when no such
// start fits: the keep is void. It also returns the last box the chain
// reaches: a chain placed binds the boxes inside it to end there too, and
// the last one keeps with what follows it only if it can split.
func (p *paginator) chainAfter(i int, room float64) (float64, int) {
	if !p.boxes[i].Keep || (i == p.limit && p.minHead(i, 0) >= p.rest(i, 0)) {
		return 0, i
	}
	best, total, end := 0.0, 0.0, i
	j := i + 1
	for ; j < len(p.boxes) && (i >= p.limit || j <= p.limit); j++ {
		b := p.boxes[j]
		if b.Glue {
			total += b.H
			continue
		}
		head := p.minHead(j, 0)
		if total+head > room+eps {
			break
		}
		// The chain may end after a box that keeps with nothing or holds
		// lines; never after a heading, a caption or a header row, which
		// would then end the page.
		cut := !b.Keep || b.Lines > 0
		if cut {
			best, end = total+head, j
		}
		if !b.Keep {
			break
		}
		total += b.H
	}
	if j == len(p.boxes) && total <= room+eps {
		best, end = total, j-1 // the chain runs to the end of the document
	}
	return best, end
}

func (p *paginator) emptyish() bool { return p.empty() || p.onlyRepeat() }

func (p *paginator) run() {
	p.placed = map[int]bool{}
	for i := 0; i < len(p.boxes); i++ {
		b := p.boxes[i]
		if b.Glue {
			if p.emptyish() {
				continue // no space at the top of a page
			}
			if p.used()+b.H > p.pageH+eps {
				continue // space at the foot of a page is the page break itself
			}
			p.put(Piece{Box: i}, b.H)
			continue
		}
		from := 0
		for {
			if p.cur == nil {
				p.newPage(i)
			}
			avail := p.pageH - p.used()
			fresh := p.pageH - p.headerH(i)
			rest := p.rest(i, from)
			chain, end := p.chainAfter(i, fresh-p.minHead(i, from))
			if rest+chain <= avail+eps || (b.Lines == 0 && p.emptyish()) {
				to := 0
				if b.Lines > 0 {
					to = b.Lines
				}
				p.put(Piece{Box: i, From: from, To: to}, rest)
				if chain > 0 && end > p.limit {
					p.limit = end
				}
				if b.Header {
					p.placed[i] = true
				}
				break
			}
			splittable := b.Lines > 0 && (b.MinLines > 0 || rest > fresh+eps)
			if !splittable {
				p.newPage(i)
				continue
			}
			n := p.fit(i, from, avail)
			if chain > 0 {
				// The lines after the split go to the next page with the chain.
				n = min(n, b.Lines-from-max(b.MinLines, 1))
				if n < b.MinLines {
					n = 0
				}
			}
			if n <= 0 && p.emptyish() {
				n = max(1, p.fit(i, from, avail))
			}
			if n <= 0 {
				p.newPage(i)
				continue
			}
			n = min(n, b.Lines-from)
			p.put(Piece{Box: i, From: from, To: from + n}, float64(n)*b.Unit+b.Pad)
			from += n
			if from >= b.Lines {
				break
			}
			p.cur = nil
		}
	}
	// A page that holds only a repeated header or glue is not a page.
	out := p.pages[:0]
	for _, pg := range p.pages {
		content := false
		for _, pc := range pg.Pieces {
			if !pc.Repeat && !p.boxes[pc.Box].Glue {
				content = true
			}
		}
		if content {
			out = append(out, pg)
		}
	}
	p.pages = out
}

// onlyRepeat reports whether the current page holds nothing but a repeated header.
func (p *paginator) onlyRepeat() bool {
	if p.cur == nil {
		return false
	}
	for _, pc := range p.cur.Pieces {
		if !pc.Repeat {
			return false
		}
	}
	return len(p.cur.Pieces) > 0
}

// fit returns how many lines of box i, from line from, go in height avail,
// honouring MinLines at both sides of the split; 0 if none may.
func (p *paginator) fit(i, from int, avail float64) int {
	b := p.boxes[i]
	if b.Lines == 0 {
		return 0
	}
	left := b.Lines - from
	n := int((avail - b.Pad + eps) / b.Unit)
	n = min(n, left)
	if n <= 0 {
		return 0
	}
	if b.MinLines > 0 {
		if left-n < b.MinLines && n < left {
			n = left - b.MinLines
		}
		if n < b.MinLines {
			return 0
		}
	}
	return n
}

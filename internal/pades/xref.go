package pades

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits that keep parsing of hostile input bounded.
const (
	maxXrefSections = 1024
	maxObjects      = 1 << 20
	maxDecoded      = 32 << 20 // bytes decoded from all streams of one document
	maxResolves     = 1 << 18  // object look-ups per document
)

// ErrNotPDF is returned when the input does not look like a PDF file at all.
var ErrNotPDF = errors.New("not a PDF file")

// xrefEntry locates one object: typ 1 at byte offset off, typ 2 as the
// idx-th object of object stream off, typ 0 free.
type xrefEntry struct {
	typ byte
	off int64
	gen int
	idx int
}

// document is a parsed view of a PDF file's newest revision.
type document struct {
	data       []byte
	xref       map[int]xrefEntry
	trailer    Dict
	startxref  int64
	xrefStream bool // the newest cross-reference section is a stream
	cache      map[int]any
	objstm     map[int]*objStream
	busy       map[int]bool
	cost       *costs
	dups       []int // numbers listed twice, recorded when non-nil
}

// costs is what reading a file has spent, shared by the documents made of
// its revisions, so that reading each revision again cannot multiply the
// limits.
type costs struct {
	decoded  int // bytes decoded from streams
	resolves int // object look-ups
}

type objStream struct {
	data    []byte
	offsets []int
}

// parseDocument reads the cross-reference chain starting at the last
// startxref of data.
func parseDocument(data []byte) (*document, error) {
	return parseWithin(data, &costs{})
}

// parsePrefix parses the first end bytes of d's file (an earlier
// revision), within what reading d has left to spend.
func (d *document) parsePrefix(end int64) (*document, error) {
	return parseWithin(d.data[:end], d.cost)
}

func parseWithin(data []byte, cost *costs) (*document, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		if i := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-")); i < 0 {
			return nil, ErrNotPDF
		}
	}
	sx := bytes.LastIndex(data, []byte("startxref"))
	if sx < 0 {
		return nil, fmt.Errorf("find startxref: %w", errSyntax)
	}
	l := &lexer{b: data, pos: sx + len("startxref")}
	off, err := strconv.ParseInt(string(l.keyword()), 10, 64)
	if err != nil || off < 0 || off >= int64(len(data)) {
		return nil, fmt.Errorf("read startxref: %w", errSyntax)
	}
	d := &document{
		data: data, xref: map[int]xrefEntry{}, startxref: off,
		cache: map[int]any{}, objstm: map[int]*objStream{}, busy: map[int]bool{}, cost: cost,
	}
	if err := d.readXrefChain(off); err != nil {
		return nil, fmt.Errorf("read xref: %w", err)
	}
	if _, ok := d.trailer["Root"].(Ref); !ok {
		return nil, fmt.Errorf("read trailer: %w: no /Root", errSyntax)
	}
	return d, nil
}

func (d *document) readXrefChain(off int64) error {
	seen := map[int64]bool{}
	for n := 0; ; n++ {
		if n >= maxXrefSections || seen[off] {
			return fmt.Errorf("%w: xref chain loops or is too long", errSyntax)
		}
		seen[off] = true
		trailer, isStream, err := d.readXrefSection(off)
		if err != nil {
			return err
		}
		if n == 0 {
			d.trailer, d.xrefStream = trailer, isStream
		} else {
			for k, v := range trailer {
				if _, ok := d.trailer[k]; !ok && (k == "Root" || k == "Info" || k == "ID") {
					d.trailer[k] = v
				}
			}
		}
		prev, ok := trailer.int("Prev")
		if !ok {
			return nil
		}
		if prev < 0 || prev >= int64(len(d.data)) {
			return fmt.Errorf("%w: /Prev out of range", errSyntax)
		}
		off = prev
	}
}

// addEntry records an entry unless a newer section already did.
func (d *document) addEntry(num int, e xrefEntry) error {
	if _, ok := d.xref[num]; ok {
		if d.dups != nil && len(d.dups) < 64 {
			d.dups = append(d.dups, num)
		}
		return nil
	}
	if len(d.xref) >= maxObjects {
		return fmt.Errorf("%w: too many objects", errSyntax)
	}
	d.xref[num] = e
	return nil
}

func (d *document) readXrefSection(off int64) (Dict, bool, error) {
	l := &lexer{b: d.data, pos: int(off)}
	if !l.peekKeyword("xref") {
		trailer, err := d.readXrefStream(off)
		return trailer, true, err
	}
	table, trailer, _, err := d.readXrefTable(off)
	if err != nil {
		return nil, false, err
	}
	if xs, ok := trailer.int("XRefStm"); ok && xs >= 0 && xs < int64(len(d.data)) && xs != off {
		if _, err := d.readXrefStream(xs); err != nil {
			return nil, false, err
		}
	}
	for _, t := range table {
		if err := d.addEntry(t.num, t.e); err != nil {
			return nil, false, err
		}
	}
	return trailer, false, nil
}

// tableEntry is one row of a classic cross-reference table.
type tableEntry struct {
	num int
	e   xrefEntry
}

// readXrefTable reads the classic cross-reference table at off and its
// trailer, and returns them with the offset just after the trailer.
func (d *document) readXrefTable(off int64) ([]tableEntry, Dict, int, error) {
	l := &lexer{b: d.data, pos: int(off)}
	l.keyword()
	var table []tableEntry
	for {
		if l.peekKeyword("trailer") {
			l.keyword()
			break
		}
		start, err1 := strconv.Atoi(string(l.keyword()))
		count, err2 := strconv.Atoi(string(l.keyword()))
		if err1 != nil || err2 != nil || start < 0 || count < 0 || count > (len(d.data)-l.pos)/18+1 {
			return nil, nil, 0, fmt.Errorf("%w: bad xref subsection", errSyntax)
		}
		for i := 0; i < count; i++ {
			o, err1 := strconv.ParseInt(string(l.keyword()), 10, 64)
			g, err2 := strconv.Atoi(string(l.keyword()))
			kind := string(l.keyword())
			if err1 != nil || err2 != nil || (kind != "n" && kind != "f") {
				return nil, nil, 0, fmt.Errorf("%w: bad xref entry", errSyntax)
			}
			e := xrefEntry{typ: 0, gen: g}
			if kind == "n" {
				e = xrefEntry{typ: 1, off: o, gen: g}
			}
			table = append(table, tableEntry{start + i, e})
		}
	}
	v, err := l.object(0)
	if err != nil {
		return nil, nil, 0, err
	}
	trailer, ok := v.(Dict)
	if !ok {
		return nil, nil, 0, fmt.Errorf("%w: trailer is not a dictionary", errSyntax)
	}
	return table, trailer, l.pos, nil
}

func (d *document) readXrefStream(off int64) (Dict, error) {
	_, v, err := d.parseIndirect(off)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*Stream)
	if !ok || s.Dict.name("Type") != "XRef" {
		return nil, fmt.Errorf("%w: no xref stream at %d", errSyntax, off)
	}
	raw, err := d.decode(s)
	if err != nil {
		return nil, err
	}
	w, _ := s.Dict["W"].(Array)
	if len(w) != 3 {
		return nil, fmt.Errorf("%w: bad /W", errSyntax)
	}
	var ws [3]int
	row := 0
	for i, x := range w {
		n, ok := x.(int64)
		if !ok || n < 0 || n > 8 {
			return nil, fmt.Errorf("%w: bad /W", errSyntax)
		}
		ws[i] = int(n)
		row += int(n)
	}
	if row == 0 {
		return nil, fmt.Errorf("%w: bad /W", errSyntax)
	}
	size, _ := s.Dict.int("Size")
	index, _ := s.Dict["Index"].(Array)
	if index == nil {
		index = Array{int64(0), size}
	}
	pos := 0
	for i := 0; i+1 < len(index); i += 2 {
		start, ok1 := index[i].(int64)
		count, ok2 := index[i+1].(int64)
		if !ok1 || !ok2 || start < 0 || count < 0 || count > int64(len(raw)/row) || start > 1<<31 {
			return nil, fmt.Errorf("%w: bad /Index", errSyntax)
		}
		for j := int64(0); j < count; j++ {
			if pos+row > len(raw) {
				return nil, fmt.Errorf("%w: xref stream too short", errSyntax)
			}
			var f [3]int64
			for k := 0; k < 3; k++ {
				for b := 0; b < ws[k]; b++ {
					f[k] = f[k]<<8 | int64(raw[pos])
					pos++
				}
			}
			if ws[0] == 0 {
				f[0] = 1
			}
			var e xrefEntry
			switch f[0] {
			case 1:
				e = xrefEntry{typ: 1, off: f[1], gen: int(f[2])}
			case 2:
				e = xrefEntry{typ: 2, off: f[1], idx: int(f[2])}
			}
			if err := d.addEntry(int(start+j), e); err != nil {
				return nil, err
			}
		}
	}
	return s.Dict, nil
}

// parseIndirect parses "N G obj ... endobj" at off.
func (d *document) parseIndirect(off int64) (Ref, any, error) {
	r, v, _, err := d.indirect(off)
	return r, v, err
}

// indirect parses "N G obj ... endobj" at off and also returns the offset
// just after the object's value or stream data, before any "endobj".
func (d *document) indirect(off int64) (Ref, any, int, error) {
	return d.indirectAt(off, false)
}

// skim is indirect for a reader that only needs where objects are and
// what their dictionaries hold: hex strings are skipped, not decoded.
func (d *document) skim(off int64) (Ref, any, int, error) {
	return d.indirectAt(off, true)
}

func (d *document) indirectAt(off int64, skim bool) (Ref, any, int, error) {
	if off < 0 || off >= int64(len(d.data)) {
		return Ref{}, nil, 0, fmt.Errorf("%w: offset %d out of range", errSyntax, off)
	}
	l := &lexer{b: d.data, pos: int(off), skim: skim}
	num, err1 := strconv.Atoi(string(l.keyword()))
	gen, err2 := strconv.Atoi(string(l.keyword()))
	if err1 != nil || err2 != nil || string(l.keyword()) != "obj" {
		return Ref{}, nil, 0, fmt.Errorf("%w: no object at offset %d", errSyntax, off)
	}
	v, err := l.object(0)
	if err != nil {
		return Ref{}, nil, 0, err
	}
	dict, ok := v.(Dict)
	if !ok || !l.peekKeyword("stream") {
		return Ref{num, gen}, v, l.pos, nil
	}
	l.keyword()
	if l.pos < len(l.b) && l.b[l.pos] == '\r' {
		l.pos++
	}
	if l.pos < len(l.b) && l.b[l.pos] == '\n' {
		l.pos++
	}
	start := l.pos
	n := int64(-1)
	switch lv := dict["Length"].(type) {
	case int64:
		n = lv
	case Ref:
		if lv.Num != num {
			if x, err := d.get(lv.Num); err == nil {
				if xi, ok := x.(int64); ok {
					n = xi
				}
			}
		}
	}
	if n < 0 || int64(start)+n > int64(len(d.data)) ||
		!bytes.Contains(d.data[start+int(n):min(len(d.data), start+int(n)+32)], []byte("endstream")) {
		e := bytes.Index(d.data[start:], []byte("endstream"))
		if e < 0 {
			return Ref{}, nil, 0, fmt.Errorf("%w: unterminated stream", errSyntax)
		}
		n = int64(len(bytes.TrimRight(d.data[start:start+e], "\r\n")))
	}
	return Ref{num, gen}, &Stream{Dict: dict, Raw: d.data[start : start+int(n)]}, start + int(n), nil
}

// get returns object num of the newest revision (nil when free or missing).
func (d *document) get(num int) (any, error) {
	if v, ok := d.cache[num]; ok {
		return v, nil
	}
	if d.busy[num] {
		return nil, fmt.Errorf("%w: reference loop at object %d", errSyntax, num)
	}
	d.cost.resolves++
	if d.cost.resolves > maxResolves {
		return nil, fmt.Errorf("%w: too many object look-ups", errSyntax)
	}
	d.busy[num] = true
	defer delete(d.busy, num)
	e, ok := d.xref[num]
	var v any
	var err error
	switch {
	case !ok || e.typ == 0:
		return nil, nil
	case e.typ == 1:
		var r Ref
		r, v, err = d.parseIndirect(e.off)
		if err == nil && r.Num != num {
			err = fmt.Errorf("%w: object %d expected at offset %d, found %d", errSyntax, num, e.off, r.Num)
		}
	default:
		v, err = d.fromObjStream(int(e.off), e.idx)
	}
	if err != nil {
		return nil, err
	}
	d.cache[num] = v
	return v, nil
}

func (d *document) fromObjStream(stm, idx int) (any, error) {
	os, ok := d.objstm[stm]
	if ok && os == nil {
		return nil, fmt.Errorf("%w: object stream %d unreadable", errSyntax, stm)
	}
	if !ok {
		d.objstm[stm] = nil // until read: a stream that fails is not opened again
		v, err := d.get(stm)
		if err != nil {
			return nil, err
		}
		s, ok := v.(*Stream)
		if !ok {
			return nil, fmt.Errorf("%w: object stream %d missing", errSyntax, stm)
		}
		raw, err := d.decode(s)
		if err != nil {
			return nil, err
		}
		n, _ := s.Dict.int("N")
		first, _ := s.Dict.int("First")
		if n < 0 || n > int64(len(raw)) || first < 0 || first > int64(len(raw)) {
			return nil, fmt.Errorf("%w: bad object stream header", errSyntax)
		}
		os = &objStream{data: raw[first:]}
		l := &lexer{b: raw[:first]}
		for i := int64(0); i < n; i++ {
			l.keyword()
			o, err := strconv.Atoi(string(l.keyword()))
			if err != nil || o < 0 || o >= len(os.data) {
				return nil, fmt.Errorf("%w: bad object stream offsets", errSyntax)
			}
			os.offsets = append(os.offsets, o)
		}
		d.objstm[stm] = os
	}
	if idx < 0 || idx >= len(os.offsets) {
		return nil, fmt.Errorf("%w: object stream index out of range", errSyntax)
	}
	l := &lexer{b: os.data, pos: os.offsets[idx]}
	return l.object(0)
}

// resolve follows v when it is a reference; errors resolve to nil.
func (d *document) resolve(v any) any {
	for i := 0; i < 8; i++ {
		r, ok := v.(Ref)
		if !ok {
			return v
		}
		v, _ = d.get(r.Num)
	}
	return nil
}

func (d *document) dict(v any) Dict {
	switch x := d.resolve(v).(type) {
	case Dict:
		return x
	case *Stream:
		return x.Dict
	}
	return nil
}

func (d *document) array(v any) Array {
	a, _ := d.resolve(v).(Array)
	return a
}

// decode returns the decoded bytes of a stream (FlateDecode with PNG
// predictors, or no filter).
func (d *document) decode(s *Stream) ([]byte, error) {
	filter := d.resolve(s.Dict["Filter"])
	if a, ok := filter.(Array); ok {
		if len(a) > 1 {
			return nil, fmt.Errorf("%w: filter chains are not supported", errSyntax)
		}
		if len(a) == 1 {
			filter = a[0]
		} else {
			filter = nil
		}
	}
	switch filter {
	case nil:
		return s.Raw, nil
	case Name("FlateDecode"):
	default:
		return nil, fmt.Errorf("%w: unsupported filter %v", errSyntax, filter)
	}
	// Inflate twice: first to count, within what is left of the limit,
	// so that a compression bomb costs time but no memory; then into a
	// buffer of the right size.
	zr, err := zlib.NewReader(bytes.NewReader(s.Raw))
	if err != nil {
		return nil, fmt.Errorf("%w: flate: %v", errSyntax, err)
	}
	left := int64(maxDecoded - d.cost.decoded)
	n, err := io.Copy(io.Discard, io.LimitReader(zr, left+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		d.cost.decoded += int(min(n, left)) // what a broken stream inflated counts too
		return nil, fmt.Errorf("%w: flate: %v", errSyntax, err)
	}
	if n > left {
		d.cost.decoded = maxDecoded // spent: a stream opened again fails at once
		return nil, fmt.Errorf("%w: decoded streams too large", errSyntax)
	}
	if zr, err = zlib.NewReader(bytes.NewReader(s.Raw)); err != nil {
		return nil, fmt.Errorf("%w: flate: %v", errSyntax, err)
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, fmt.Errorf("%w: flate: %v", errSyntax, err)
	}
	d.cost.decoded += len(out)
	parms := d.dict(s.Dict["DecodeParms"])
	if a, ok := d.resolve(s.Dict["DecodeParms"]).(Array); ok && len(a) == 1 {
		parms = d.dict(a[0])
	}
	pred, _ := parms.int("Predictor")
	if pred < 10 {
		return out, nil
	}
	cols, ok := parms.int("Columns")
	if !ok {
		cols = 1
	}
	return unpredictPNG(out, int(cols))
}

// unpredictPNG undoes the PNG predictors of rows of cols bytes, in one
// allocation whatever the number of rows.
func unpredictPNG(in []byte, cols int) ([]byte, error) {
	if cols <= 0 || cols > 1<<16 {
		return nil, fmt.Errorf("%w: bad /Columns", errSyntax)
	}
	row := cols + 1
	out := make([]byte, 0, len(in)/row*cols)
	zero := make([]byte, cols)
	prev := zero
	for i := 0; i+row <= len(in); i += row {
		ft, n := in[i], len(out)
		out = append(out, in[i+1:i+row]...)
		cur := out[n:]
		for j := range cur {
			var left, upLeft byte
			if j > 0 {
				left, upLeft = cur[j-1], prev[j-1]
			}
			up := prev[j]
			switch ft {
			case 1:
				cur[j] += left
			case 2:
				cur[j] += up
			case 3:
				cur[j] += byte((int(left) + int(up)) / 2)
			case 4:
				cur[j] += paeth(left, up, upLeft)
			}
		}
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

package pades

import (
	"bytes"
	"fmt"
	"strconv"
)

// Reasons a file's structure is ambiguous: two readers could see two
// different documents in it. Each is a Finding of Analyse, and the file is
// not valid.
const (
	// ReasonTrailingData: bytes after the last %%EOF, or between a
	// cross-reference section and its startxref, that no cross-reference
	// lists (a repairing reader such as mupdf may read objects there).
	ReasonTrailingData = "trailing_data"
	// ReasonStartxref: a startxref does not point at the cross-reference
	// section at the end of its own revision.
	ReasonStartxref = "startxref_mismatch"
	// ReasonPrevChain: a section's /Prev is not the previous revision's
	// section, so the chain skips or reorders a revision.
	ReasonPrevChain = "prev_chain_broken"
	// ReasonHybridMismatch: a hybrid section's table and /XRefStm stream
	// locate the same object differently.
	ReasonHybridMismatch = "xref_hybrid_mismatch"
	// ReasonDuplicateObject: an object is defined or listed twice in one
	// revision.
	ReasonDuplicateObject = "duplicate_object"
	// ReasonUnlistedObject: an object in an update that its
	// cross-reference section does not list where it is.
	ReasonUnlistedObject = "unlisted_object"
	// ReasonXrefOffset: a cross-reference entry that does not point at
	// the object of that number inside its own revision.
	ReasonXrefOffset = "xref_offset_invalid"
	// ReasonObjStmRedefines: an object stream of an update redefines an
	// object of an earlier revision.
	ReasonObjStmRedefines = "objstm_redefines_signed"
	// ReasonUnreadableRevision: a revision's bytes cannot be read object
	// by object.
	ReasonUnreadableRevision = "revision_unreadable"
	// ReasonTooManyRevisions: more revisions than the analysis reads.
	ReasonTooManyRevisions = "too_many_revisions"
)

// maxAnalysedRevisions bounds the revisions Analyse reads one by one.
const maxAnalysedRevisions = 64

// Finding is one ambiguity of a file's structure.
type Finding struct {
	// Reason is one of the Reason constants above.
	Reason string
	// Revision is the revision concerned, from 1; 0 for the whole file.
	Revision int
	// Object names the object concerned ("12 0 R"), if any.
	Object string
	// Offset is the byte offset concerned, if any.
	Offset int64
	// Detail says what was found, in English, for people.
	Detail string
}

// section is one revision of a file as its own bytes say it is.
type section struct {
	start, end int64 // the revision's bytes: [start, end)
	startxref  int64
	trailer    Dict
	entries    map[int]xrefEntry // what this revision's section lists
	objects    map[int]int64     // objects found in the body, by number
	listed2    []int             // numbers the section lists twice
	isStream   bool              // the section is a cross-reference stream
}

func (s *section) dups() []int { return s.listed2 }

// readHistory reads every revision of data on its own and reports each
// ambiguity of structure. full is the parsed file (its newest revision),
// used to resolve indirect stream lengths.
func readHistory(data []byte, full *document) ([]section, []Finding) {
	var out []Finding
	add := func(reason string, rev int, obj string, off int64, format string, args ...any) {
		if len(out) < 64 {
			out = append(out, Finding{Reason: reason, Revision: rev, Object: obj, Offset: off, Detail: fmt.Sprintf(format, args...)})
		}
	}
	ends, err := Revisions(data)
	if err != nil {
		add(ReasonUnreadableRevision, 0, "", 0, "%v", err)
		return nil, out
	}
	last := ends[len(ends)-1]
	if rest := bytes.TrimLeft(data[last:], "\x00\t\n\f\r "); len(rest) > 0 {
		add(ReasonTrailingData, len(ends), "", int64(len(data)-len(rest)), "%d bytes after the last %%%%EOF", len(rest))
	}
	if len(ends) > maxAnalysedRevisions {
		add(ReasonTooManyRevisions, 0, "", 0, "%d revisions, at most %d are analysed", len(ends), maxAnalysedRevisions)
		return nil, out
	}
	secs := make([]section, len(ends))
	used := map[int]bool{} // object numbers in use in earlier revisions
	for k, end := range ends {
		s := &secs[k]
		s.end = end
		if k > 0 {
			s.start = ends[k-1]
		}
		rev := k + 1
		sx, ok := startxrefBefore(data, end)
		if !ok {
			add(ReasonStartxref, rev, "", end, "no readable startxref before %%%%EOF")
			continue
		}
		s.startxref = sx
		if sx < s.start || sx >= end {
			add(ReasonStartxref, rev, "", sx, "startxref %d points outside its revision [%d, %d)", sx, s.start, end)
			continue
		}
		secEnd, err := readSection(data, full, s)
		if err != nil {
			add(ReasonUnreadableRevision, rev, "", sx, "cross-reference section: %v", err)
			continue
		}
		for _, n := range s.dups() {
			add(ReasonDuplicateObject, rev, ref(n), sx, "object %d is listed twice in the cross-reference section", n)
		}
		prev, hasPrev := s.trailer.int("Prev")
		switch {
		case k == 0 && hasPrev:
			add(ReasonPrevChain, rev, "", sx, "the first revision has /Prev %d", prev)
		case k > 0 && (!hasPrev || prev != secs[k-1].startxref):
			add(ReasonPrevChain, rev, "", sx, "/Prev is %d, the previous revision's section is at %d", prev, secs[k-1].startxref)
		}
		if xs, ok := s.trailer.int("XRefStm"); ok {
			if xs < s.start || xs >= end {
				add(ReasonHybridMismatch, rev, "", xs, "/XRefStm %d points outside its revision", xs)
			} else if err := hybrid(data, full, s, xs, func(n int, format string, args ...any) {
				add(ReasonHybridMismatch, rev, ref(n), xs, format, args...)
			}); err != nil {
				add(ReasonUnreadableRevision, rev, "", xs, "/XRefStm: %v", err)
			}
		}
		scanBody(data, full, s, k == 0, secEnd, func(reason string, n int, off int64, format string, args ...any) {
			obj := ""
			if n >= 0 {
				obj = ref(n)
			}
			add(reason, rev, obj, off, format, args...)
		})
		for n, e := range s.entries {
			switch {
			case e.typ == 1 && s.isStream && e.off == s.startxref:
				// the cross-reference stream listing itself
			case e.typ == 1 && s.objects[n] != e.off:
				add(ReasonXrefOffset, rev, ref(n), e.off, "object %d is listed at offset %d, where its revision has no such object", n, e.off)
			case e.typ == 2 && used[n]:
				add(ReasonObjStmRedefines, rev, ref(n), 0, "object %d of an earlier revision is redefined in object stream %d", n, e.off)
			case e.typ == 2:
				if _, ok := s.objects[int(e.off)]; !ok {
					add(ReasonXrefOffset, rev, ref(n), 0, "object %d is listed in object stream %d, which its revision does not define", n, e.off)
				}
			}
		}
		for n := range s.objects {
			if e, ok := s.entries[n]; !ok || e.typ != 1 {
				if t, _ := full.objectType(data, s.objects[n]); t != "XRef" {
					add(ReasonUnlistedObject, rev, ref(n), s.objects[n], "object %d at offset %d is not in its revision's cross-reference section", n, s.objects[n])
				}
			}
		}
		if k > 0 {
			checkObjStms(data, full, s, used, func(n, stm int) {
				add(ReasonObjStmRedefines, rev, ref(n), s.objects[stm], "object stream %d redefines object %d of an earlier revision", stm, n)
			})
		}
		for n, e := range s.entries {
			if e.typ != 0 {
				used[n] = true
			}
		}
	}
	return secs, out
}

func ref(n int) string { return strconv.Itoa(n) + " 0 R" }

// startxrefBefore returns the offset of the startxref that ends at the
// %%EOF just before end.
func startxrefBefore(data []byte, end int64) (int64, bool) {
	i := bytes.LastIndex(data[:end], []byte("startxref"))
	if i < 0 {
		return 0, false
	}
	l := &lexer{b: data[:end], pos: i + len("startxref")}
	n, err := strconv.ParseInt(string(l.keyword()), 10, 64)
	return n, err == nil && n >= 0
}

// readSection reads the cross-reference section of s into s.entries and
// returns the offset just after it (after its trailer, or after the
// stream object's data).
func readSection(data []byte, full *document, s *section) (int, error) {
	d := &document{data: data, xref: map[int]xrefEntry{}, cache: map[int]any{}, objstm: map[int]*objStream{}, busy: map[int]bool{}, dups: []int{}, cost: full.cost}
	l := &lexer{b: data, pos: int(s.startxref)}
	if l.peekKeyword("xref") {
		table, trailer, end, err := d.readXrefTable(s.startxref)
		if err != nil {
			return 0, err
		}
		for _, t := range table {
			if err := d.addEntry(t.num, t.e); err != nil {
				return 0, err
			}
		}
		s.trailer, s.entries = trailer, d.xref
		s.objects = map[int]int64{}
		s.listed2 = d.dups
		return end, nil
	}
	trailer, err := d.readXrefStream(s.startxref)
	if err != nil {
		return 0, err
	}
	_, _, end, err := d.indirect(s.startxref)
	if err != nil {
		return 0, err
	}
	s.trailer, s.entries, s.isStream = trailer, d.xref, true
	s.objects = map[int]int64{}
	s.listed2 = d.dups
	return end, nil
}

// hybrid compares the table of s with its /XRefStm stream at xs: an
// object the table lists in use must not be placed elsewhere by the
// stream, and the stream may only add objects the table leaves free or
// unlisted, in object streams.
func hybrid(data []byte, full *document, s *section, xs int64, bad func(n int, format string, args ...any)) error {
	d := &document{data: data, xref: map[int]xrefEntry{}, cache: map[int]any{}, objstm: map[int]*objStream{}, busy: map[int]bool{}, dups: []int{}, cost: full.cost}
	if _, err := d.readXrefStream(xs); err != nil {
		return err
	}
	for n, e := range d.xref {
		t, listed := s.entries[n]
		switch {
		case listed && t.typ == 1 && e != t:
			bad(n, "object %d: the table says offset %d, the /XRefStm stream says otherwise", n, t.off)
		case e.typ == 1 && (!listed || t != e):
			bad(n, "object %d: the /XRefStm stream places it at offset %d, the table does not", n, e.off)
		case e.typ == 2:
			if _, ok := s.entries[n]; !ok || t.typ == 0 {
				s.entries[n] = e
			}
		}
	}
	return nil
}

// scanBody reads the objects of s one after the other, from the start of
// the revision to its cross-reference section and on to its startxref,
// recording each in s.objects.
func scanBody(data []byte, full *document, s *section, first bool, secEnd int, bad func(reason string, n int, off int64, format string, args ...any)) {
	l := &lexer{b: data[:s.end], pos: int(s.start)}
	if first {
		l.skipSpace() // the header and binary marker are comments
	}
	for n := 0; n < maxObjects; n++ {
		l.skipSpace()
		pos := int64(l.pos)
		if pos == s.startxref {
			break
		}
		if pos > s.startxref || l.pos >= len(l.b) {
			bad(ReasonStartxref, -1, pos, "startxref %d is not where the revision's cross-reference section starts", s.startxref)
			return
		}
		if l.peekKeyword("xref") {
			bad(ReasonStartxref, -1, pos, "a cross-reference section at %d that startxref does not point at", pos)
			return
		}
		r, v, end, err := full.skim(pos)
		if err == nil && end > len(l.b) {
			err = fmt.Errorf("%w: it runs past the end of the revision", errSyntax)
		}
		if err != nil {
			bad(ReasonUnreadableRevision, -1, pos, "no object at offset %d: %v", pos, err)
			return
		}
		if st, ok := v.(*Stream); ok {
			if xs, _ := s.trailer.int("XRefStm"); st.Dict.name("Type") == "XRef" && (s.isStream || xs != pos) {
				bad(ReasonStartxref, r.Num, pos, "a cross-reference stream at %d that startxref does not point at", pos)
				return
			}
			l.pos = end
			if l.pos < len(l.b) && l.b[l.pos] == '\r' {
				l.pos++
			}
			if l.pos < len(l.b) && l.b[l.pos] == '\n' {
				l.pos++
			}
			if string(l.keyword()) != "endstream" {
				bad(ReasonUnreadableRevision, r.Num, pos, "object %d: stream data does not end where its /Length says", r.Num)
				return
			}
		} else {
			l.pos = end
		}
		if string(l.keyword()) != "endobj" {
			bad(ReasonUnreadableRevision, r.Num, pos, "object %d: no endobj", r.Num)
			return
		}
		if _, dup := s.objects[r.Num]; dup {
			bad(ReasonDuplicateObject, r.Num, pos, "object %d is defined twice in one revision", r.Num)
		}
		s.objects[r.Num] = pos
	}
	if secEnd > len(l.b) {
		bad(ReasonUnreadableRevision, -1, s.startxref, "the cross-reference section runs past the end of the revision")
		return
	}
	l.pos = secEnd
	if s.isStream {
		// a stream section: its data is followed by endstream, endobj
		if l.pos < len(l.b) && l.b[l.pos] == '\r' {
			l.pos++
		}
		if l.pos < len(l.b) && l.b[l.pos] == '\n' {
			l.pos++
		}
		if string(l.keyword()) != "endstream" || string(l.keyword()) != "endobj" {
			bad(ReasonUnreadableRevision, -1, s.startxref, "the cross-reference stream does not end where its /Length says")
			return
		}
	}
	l.skipSpace()
	if p := int64(l.pos); !l.peekKeyword("startxref") {
		rest := data[p:s.end]
		if i := bytes.LastIndex(rest, []byte("startxref")); i >= 0 && bytes.Contains(rest[:i], []byte("xref")) {
			bad(ReasonStartxref, -1, p, "another cross-reference section after the one startxref points at, at offset %d", p)
			return
		}
		bad(ReasonTrailingData, -1, p, "data between the cross-reference section and startxref at offset %d", p)
	}
}

// objectType returns the /Type of the object at off.
func (d *document) objectType(data []byte, off int64) (Name, error) {
	_, v, _, err := d.skim(off)
	if err != nil {
		return "", err
	}
	if st, ok := v.(*Stream); ok {
		return st.Dict.name("Type"), nil
	}
	if dd, ok := v.(Dict); ok {
		return dd.name("Type"), nil
	}
	return "", nil
}

// checkObjStms reads the header of every object stream defined in the
// body of s and reports each object number it holds that an earlier
// revision uses.
func checkObjStms(data []byte, full *document, s *section, used map[int]bool, bad func(n, stm int)) {
	for num, off := range s.objects {
		_, v, _, err := full.skim(off)
		st, ok := v.(*Stream)
		if err != nil || !ok || st.Dict.name("Type") != "ObjStm" {
			continue
		}
		raw, err := full.decode(st)
		if err != nil {
			continue
		}
		n, _ := st.Dict.int("N")
		first, _ := st.Dict.int("First")
		if first < 0 || first > int64(len(raw)) {
			continue
		}
		l := &lexer{b: raw[:first]}
		for i := int64(0); i < n && i < int64(maxObjects); i++ {
			o, err := strconv.Atoi(string(l.keyword()))
			l.keyword()
			if err != nil {
				break
			}
			if used[o] {
				bad(o, num)
			}
		}
	}
}

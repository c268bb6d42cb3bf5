package pades

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Reasons a countersigned copy is refused, reported in Problem.Reason.
const (
	// ReasonNotPrefix: the returned file does not begin with the sealed file.
	ReasonNotPrefix = "not_prefix"
	// ReasonNoNewSignature: no signature was added after the sealed file.
	ReasonNoNewSignature = "no_new_signature"
	// ReasonInvalidSignature: a signature does not verify.
	ReasonInvalidSignature = "invalid_signature"
	// ReasonDocMDPViolation: the appended revisions change something that
	// the seal's DocMDP permissions forbid (content, resources, pages,
	// other annotations); the more precise reasons of Change.Rule and the
	// ambiguities of Finding.Reason are reported under their own names.
	ReasonDocMDPViolation = "docmdp_violation"
)

// Problem is one failed condition of CheckCountersigned.
type Problem struct {
	// Reason is one of the Reason constants.
	Reason string
	// Detail says what was found, for people, in English.
	Detail string
	// Params are the facts of a change or an ambiguity found by Analyse
	// (Object, Path, Kind, Revision, Offset), for a localised message
	// "verify.<Reason>"; nil for the other reasons.
	Params map[string]any
}

// CounterReport is the outcome of CheckCountersigned.
type CounterReport struct {
	// OK is true when all conditions hold and Problems is empty.
	OK bool
	// SealedSize is the length of the sealed file, where the appended
	// revisions start.
	SealedSize int64
	// Signatures are all signatures of the returned file.
	Signatures []Signature
	// New are the signatures added after the sealed file.
	New []Signature
	// Problems lists every failed condition.
	Problems []Problem
}

// CountersignError is returned by CheckCountersigned when the returned
// copy is refused; it carries the same problems as the report.
type CountersignError struct {
	Problems []Problem
}

// Error lists the problems.
func (e *CountersignError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Reason + ": " + p.Detail
	}
	return "countersigned copy refused: " + strings.Join(parts, "; ")
}

// Has reports whether one of the problems has the given reason.
func (e *CountersignError) Has(reason string) bool {
	return slices.ContainsFunc(e.Problems, func(p Problem) bool { return p.Reason == reason })
}

// CheckCountersigned checks the copy of a sealed PDF returned by a
// signer: returned must begin with exactly the bytes of sealed, add at
// least one valid signature in the appended revisions, have a structure
// that Analyse finds unambiguous, and change only what the seal's DocMDP
// permissions allow, as judged by the same analysis verification uses
// (signing: new signature fields and their dictionaries, the AcroForm's
// /Fields, /SigFlags and resources, page /Annots gaining signature
// widgets, a /DSS, document time-stamps). The report is always returned;
// when a condition fails the error is a *CountersignError with the same
// problems, each forbidden change and each ambiguity under its own reason.
// An error that is not a *CountersignError means sealed itself is unreadable.
func CheckCountersigned(sealed, returned []byte) (*CounterReport, error) {
	sealedDoc, err := parseDocument(sealed)
	if err != nil {
		return nil, fmt.Errorf("check countersigned: parse sealed: %w", err)
	}
	r := &CounterReport{SealedSize: int64(len(sealed))}
	fail := func(reason, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Reason: reason, Detail: fmt.Sprintf(format, args...)})
	}
	done := func() (*CounterReport, error) {
		if len(r.Problems) > 0 {
			return r, &CountersignError{Problems: r.Problems}
		}
		r.OK = true
		return r, nil
	}
	if !bytes.HasPrefix(returned, sealed) {
		n := 0
		for n < len(sealed) && n < len(returned) && sealed[n] == returned[n] {
			n++
		}
		fail(ReasonNotPrefix, "returned file differs from the sealed file at byte %d", n)
		return done()
	}
	if len(returned) == len(sealed) {
		fail(ReasonNoNewSignature, "nothing was appended to the sealed file")
		return done()
	}
	if r.Signatures, err = Inspect(returned); err != nil {
		fail(ReasonInvalidSignature, "returned file cannot be read: %v", err)
		return done()
	}
	for _, s := range r.Signatures {
		end := s.ByteRange[2] + s.ByteRange[3]
		if s.IntegrityErr != nil {
			fail(ReasonInvalidSignature, "signature %d (%s): %v", s.Index, s.FieldName, s.IntegrityErr)
		}
		if end > r.SealedSize {
			r.New = append(r.New, s)
		}
	}
	if len(r.New) == 0 {
		fail(ReasonNoNewSignature, "no signature covers the appended revisions")
	}
	a, err := Analyse(returned)
	if err != nil {
		fail(ReasonInvalidSignature, "returned file cannot be read: %v", err)
		return done()
	}
	for _, f := range a.Findings {
		fail(f.Reason, "%s", f)
		r.Problems[len(r.Problems)-1].Params = map[string]any{"Revision": f.Revision, "Object": f.Object, "Offset": f.Offset}
	}
	// The changes after the sealed revision, and after every signature
	// added since, as verification judges them.
	type judged struct {
		Change
		revision int // the signed revision the change follows
	}
	var changes []judged
	sealedSigned := false
	listed := map[string]bool{}
	for _, s := range a.Signed {
		if s.End < r.SealedSize {
			continue
		}
		sealedSigned = sealedSigned || s.End == r.SealedSize
		for _, c := range s.Changes {
			if key := c.Path + " " + c.Kind + " " + c.Rule; !c.Allowed && !listed[key] {
				listed[key] = true
				changes = append(changes, judged{c, s.Revision})
			}
		}
	}
	if !sealedSigned {
		// The sealed file's own revision holds no signature the analysis
		// found: judge what was appended to it all the same.
		cur, err := parseDocument(returned)
		if err != nil {
			fail(ReasonInvalidSignature, "returned file cannot be read: %v", err)
			return done()
		}
		level := 0
		for _, f := range sigFields(sealedDoc, sealedDoc.dict(sealedDoc.trailer["Root"])) {
			if p := docMDPLevel(sealedDoc, sealedDoc.dict(f.dict["V"])); p > 0 {
				level = p
			}
		}
		budget := maxDiffVisits
		for _, c := range judgeChanges(sealedDoc, cur, restatedAfter(returned, sealedDoc, r.SealedSize), level, r.SealedSize, &budget) {
			changes = append(changes, judged{c, revisionOf(returned, r.SealedSize)})
		}
	}
	n := 0
	for _, c := range changes {
		if c.Allowed {
			continue
		}
		if n++; n > 20 {
			fail(ReasonDocMDPViolation, "more changes not listed")
			break
		}
		fail(c.Rule, "%s", c.Change)
		r.Problems[len(r.Problems)-1].Params = map[string]any{"Object": c.Object, "Path": c.Path, "Kind": c.Kind, "Revision": c.revision}
	}
	return done()
}

// restatedAfter returns the numbers of the objects of old that the
// revisions of pdf after its first end bytes write again.
func restatedAfter(pdf []byte, old *document, end int64) map[int]bool {
	out := map[int]bool{}
	cur, err := parseDocument(pdf)
	if err != nil {
		return out
	}
	secs, _ := readHistory(pdf, cur)
	for _, s := range secs {
		if s.start < end {
			continue
		}
		for n := range s.entries {
			if e, ok := old.xref[n]; ok && e.typ != 0 {
				out[n] = true
			}
		}
	}
	return out
}

// equalObj compares two parsed objects structurally.
func equalObj(a, b any) bool {
	switch x := a.(type) {
	case Dict:
		y, ok := b.(Dict)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalObj(v, w) {
				return false
			}
		}
		return true
	case Array:
		y, ok := b.(Array)
		return ok && slices.EqualFunc(x, y, equalObj)
	case String:
		y, ok := b.(String)
		return ok && bytes.Equal(x, y)
	case *Stream:
		y, ok := b.(*Stream)
		return ok && equalObj(x.Dict, y.Dict) && bytes.Equal(x.Raw, y.Raw)
	default:
		return a == b
	}
}

// revisionOf returns the number, from 1, of the revision of pdf that
// ends at end, or 0.
func revisionOf(pdf []byte, end int64) int {
	revs, _ := Revisions(pdf)
	return slices.Index(revs, end) + 1
}

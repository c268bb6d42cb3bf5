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
	// DocMDP /P 2 forbids (content, resources, pages, other annotations).
	ReasonDocMDPViolation = "docmdp_violation"
)

// Problem is one failed condition of CheckCountersigned.
type Problem struct {
	// Reason is one of the Reason constants.
	Reason string
	// Detail says what was found, for people.
	Detail string
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
// least one valid signature in the appended revisions, and change only
// what DocMDP /P 2 allows (form filling and signing: signature fields,
// widgets and dictionaries, AcroForm, page /Annots gaining signature
// widgets, catalog /AcroForm, /DSS, /Metadata and /Extensions, DSS and
// metadata objects). The report is always returned; when a condition
// fails the error is a *CountersignError with the same problems. An
// error that is not a *CountersignError means sealed itself is unreadable.
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
	doc, err := parseDocument(returned)
	if err != nil {
		fail(ReasonInvalidSignature, "returned file cannot be read: %v", err)
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
	for _, d := range docMDPDiff(sealedDoc, doc) {
		fail(ReasonDocMDPViolation, "%s", d)
	}
	return done()
}

// docMDPDiff compares the newest revisions of two documents, the second
// extending the first, and describes every change DocMDP /P 2 forbids.
func docMDPDiff(old, cur *document) []string {
	var out []string
	if cur.trailer["Root"] != old.trailer["Root"] {
		out = append(out, "trailer /Root changed")
	}
	if cur.trailer["Encrypt"] != nil && old.trailer["Encrypt"] == nil {
		out = append(out, "encryption added")
	}
	nums := make([]int, 0)
	for n, e := range cur.xref {
		if oe, ok := old.xref[n]; !ok || oe != e {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	rootNum := old.trailer["Root"].(Ref).Num
	for _, n := range nums {
		if len(out) >= 20 {
			out = append(out, "more changes not listed")
			break
		}
		ov, oerr := old.get(n)
		if oerr == nil && ov == nil {
			continue // new object: only what references it matters
		}
		nv, nerr := cur.get(n)
		switch {
		case nerr != nil:
			out = append(out, fmt.Sprintf("object %d unreadable: %v", n, nerr))
		case nv == nil:
			out = append(out, fmt.Sprintf("object %d deleted", n))
		case !equalObj(ov, nv):
			if why := changeForbidden(old, cur, n == rootNum, ov, nv); why != "" {
				out = append(out, fmt.Sprintf("object %d: %s", n, why))
			}
		}
	}
	return out
}

// changeForbidden returns why changing ov into nv is not form filling
// or signing, or "" when it is allowed.
func changeForbidden(old, cur *document, isRoot bool, ov, nv any) string {
	od, nd := asDict(ov), asDict(nv)
	switch {
	case isRoot:
		if k := diffKeys(od, nd, "AcroForm", "DSS", "Metadata", "Extensions"); k != "" {
			return "catalog /" + k + " changed"
		}
		return ""
	case od != nil && od.name("Type") == "Page":
		if k := diffKeys(od, nd, "Annots"); k != "" {
			return "page /" + k + " changed"
		}
		return checkAdded(old, cur, old.array(od["Annots"]), cur.array(nd["Annots"]), "page /Annots")
	case od != nil && od.name("Type") == "Metadata":
		return ""
	case od != nil && isSigFieldOrWidget(old, od) && od["V"] == nil:
		return "" // an empty signature field being signed
	case od != nil && od["Fields"] != nil: // AcroForm
		return checkAdded(old, cur, old.array(od["Fields"]), cur.array(nd["Fields"]), "AcroForm /Fields")
	}
	if oa, ok := ov.(Array); ok {
		if na, ok := nv.(Array); ok {
			return checkAdded(old, cur, oa, na, "array")
		}
	}
	t := "object"
	if od != nil && od.name("Type") != "" {
		t = "/" + string(od.name("Type"))
	}
	return t + " modified"
}

// checkAdded requires na to keep every element of oa and to add only
// signature fields or their widgets.
func checkAdded(old, cur *document, oa, na Array, what string) string {
	for _, e := range oa {
		if !slices.ContainsFunc(na, func(x any) bool { return equalObj(x, e) }) {
			return what + " lost an element"
		}
	}
	for _, e := range na {
		if slices.ContainsFunc(oa, func(x any) bool { return equalObj(x, e) }) {
			continue
		}
		if d := cur.dict(e); d == nil || !isSigFieldOrWidget(cur, d) {
			return what + " gained an element that is not a signature field"
		}
	}
	return ""
}

// isSigFieldOrWidget reports whether d is a signature field or a widget
// whose parent is one.
func isSigFieldOrWidget(doc *document, d Dict) bool {
	for i := 0; i < 8 && d != nil; i++ {
		if ft := d.name("FT"); ft != "" {
			return ft == "Sig"
		}
		d = doc.dict(d["Parent"])
	}
	return false
}

func asDict(v any) Dict {
	switch x := v.(type) {
	case Dict:
		return x
	case *Stream:
		return x.Dict
	}
	return nil
}

// diffKeys returns a key whose value differs between a and b, ignoring
// the allowed keys, or "".
func diffKeys(a, b Dict, allowed ...Name) string {
	for _, m := range []Dict{a, b} {
		for k := range m {
			if !slices.Contains(allowed, k) && !equalObj(a[k], b[k]) {
				return string(k)
			}
		}
	}
	return ""
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

package pades

import (
	"fmt"
)

// Analysis is the judgement of what changed in a file after each of its
// signatures, and of whether its structure is unambiguous.
type Analysis struct {
	// Findings are the ambiguities of the file's structure; any one of
	// them makes the file not valid.
	Findings []Finding
	// Signed lists the revisions that hold signatures, oldest first, each
	// with the changes between it and the file as a reader sees it.
	Signed []SignedRevision
}

// SignedRevision is a revision that adds at least one signature.
type SignedRevision struct {
	// Revision is its number, from 1; End is where its bytes end.
	Revision int
	End      int64
	// Fields are the signature fields it signs, as it names them.
	Fields []string
	// DocMDP is the /P of the certification in force (read from the
	// revision the certification signs), 0 when there is none; the
	// changes are judged by PolicyFor(DocMDP).
	DocMDP int
	// Changes are the changes after it, each judged.
	Changes []Change
}

// Forbidden returns the changes the policy does not allow.
func (s *SignedRevision) Forbidden() []Change {
	var out []Change
	for _, c := range s.Changes {
		if !c.Allowed {
			out = append(out, c)
		}
	}
	return out
}

// OK reports whether the structure is unambiguous and every change after
// every signature is allowed.
func (a *Analysis) OK() bool {
	if len(a.Findings) > 0 {
		return false
	}
	for i := range a.Signed {
		if len(a.Signed[i].Forbidden()) > 0 {
			return false
		}
	}
	return true
}

// Analyse reads every revision of pdf strictly, reports each ambiguity
// of structure, and for each revision that adds a signature compares its
// object graph with the file's, as a reader resolves it from the trailer,
// judging every change with the policy of the certification in force.
// Signature dictionaries and their DocMDP references are read from the
// revision they sign, never from a later update. It returns an error only
// when pdf is not a readable PDF.
func Analyse(pdf []byte) (*Analysis, error) {
	cur, err := parseDocument(pdf)
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	secs, findings := readHistory(pdf, cur)
	a := &Analysis{Findings: findings}
	ends, err := Revisions(pdf)
	if err != nil || len(ends) > maxAnalysedRevisions {
		return a, nil // reported as a finding
	}
	level := 0
	budget := maxDiffVisits
	for k, end := range ends {
		start := int64(0)
		if k > 0 {
			start = ends[k-1]
		}
		doc := cur
		if end != int64(len(pdf)) {
			if doc, err = cur.parsePrefix(end); err != nil {
				a.Findings = append(a.Findings, Finding{Reason: ReasonUnreadableRevision, Revision: k + 1, Offset: end, Detail: err.Error()})
				continue
			}
		}
		var fields []string
		for _, f := range sigFields(doc, doc.dict(doc.trailer["Root"])) {
			sd := doc.dict(f.dict["V"])
			br, err := byteRange(sd)
			if err != nil || br[2]+br[3] <= start || br[2]+br[3] > end {
				continue
			}
			fields = append(fields, f.name)
			if p := docMDPLevel(doc, sd); p > 0 && level == 0 {
				level = p
			}
		}
		if len(fields) == 0 {
			continue
		}
		sr := SignedRevision{Revision: k + 1, End: end, Fields: fields, DocMDP: level}
		if doc != cur {
			restated := map[int]bool{}
			for j := k + 1; j < len(secs); j++ {
				for n := range secs[j].entries {
					if e, ok := doc.xref[n]; ok && e.typ != 0 {
						restated[n] = true
					}
				}
			}
			sr.Changes = judgeChanges(doc, cur, restated, level, end, &budget)
		}
		a.Signed = append(a.Signed, sr)
	}
	return a, nil
}

// judgeChanges compares old with cur and judges the changes with the
// policy of DocMDP level.
func judgeChanges(old, cur *document, restated map[int]bool, level int, signedSize int64, budget *int) []Change {
	df := &differ{old: old, cur: cur, restated: restated, seen: map[[3]int]bool{}, visits: maxDiffVisits - *budget}
	for _, k := range []Name{"Root", "Info", "Encrypt"} {
		df.walk(old.trailer[k], cur.trailer[k], "/"+string(k), step{key: k, index: -1, oldParent: old.trailer, curParent: cur.trailer}, 0)
	}
	*budget = max(0, maxDiffVisits-df.visits)
	PolicyFor(level).judge(&judgement{old: old, cur: cur, signedSize: signedSize}, df.changes)
	if df.overflow {
		df.changes = append(df.changes, Change{Path: "/", Kind: ChangeModified, Rule: ReasonDiffTooLarge, index: -1})
	}
	return df.changes
}

// String describes the change for people, in English.
func (c Change) String() string {
	s := c.Path + " " + c.Kind
	if c.Object != "" {
		s = "object " + c.Object + " at " + s
	}
	if !c.Allowed {
		s += " (" + c.Rule + ")"
	}
	return s
}

// String describes the finding for people, in English.
func (f Finding) String() string {
	s := f.Reason + ": " + f.Detail
	if f.Revision > 0 {
		s = fmt.Sprintf("revision %d: %s", f.Revision, s)
	}
	return s
}

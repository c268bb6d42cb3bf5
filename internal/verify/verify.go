package verify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/trust"
)

// Archive is what the verifier reads of the archive ([faldone.Archive]
// implements it).
type Archive interface {
	// BySHA returns the versions whose PDF has this SHA-256 (none: an
	// empty list, not an error).
	BySHA(ctx context.Context, sha256 string) ([]*faldone.Record, error)
}

// Log proves that archived records are in the audit log.
type Log interface {
	// Prove returns the inclusion proof of rec's leaf (rec.Leaf) against
	// the log's newest signed checkpoint. It returns an error wrapping
	// ErrNotLogged when no signed checkpoint covers the leaf yet.
	Prove(ctx context.Context, rec *faldone.Record) (*Proof, error)
	// PublicKey returns the log's public key as a note verifier key
	// (audit.NewVerifier parses it).
	PublicKey() string
}

// ErrNotLogged is returned, wrapped, by Log.Prove when no signed
// checkpoint covers a record yet.
var ErrNotLogged = errors.New("no signed checkpoint covers the record yet")

// Proof is an RFC 6962 inclusion proof with the signed checkpoint it
// leads to.
type Proof struct {
	LeafIndex  uint64   // the record's leaf
	TreeSize   uint64   // the checkpoint's size
	Hashes     [][]byte // the proof, leaf to root
	Checkpoint []byte   // the signed checkpoint note (audit.Sign)
}

// Messages localises message ids; *tmpl.Set implements it.
type Messages interface {
	Localize(lang, id string, params map[string]any) string
}

// Verifier verifies PDFs. Its fields are read-only once in use; it is safe
// for concurrent use.
type Verifier struct {
	// Anchors are the trusted certification authorities. Optional: nil
	// trusts nothing, and no signer is trusted.
	Anchors *Anchors
	// Archive finds archived versions. Optional: nil reports
	// archive_unavailable.
	Archive Archive
	// Log proves inclusion in the audit log. Optional: nil reports
	// log_unavailable for an archived file.
	Log Log
	// Messages localises the reasons. Optional: nil leaves the message
	// ids in place of messages.
	Messages Messages
	// Now is the clock of Report.Checked, the time trust is decided at
	// when no trusted time-stamp fixes it. If nil, time.Now is used.
	Now func() time.Time
	// Tolerance is how far claimed signing times may be from their
	// time-stamps (see trust.DefaultTolerance). Optional.
	Tolerance time.Duration
}

// Policy returns the trust policy of v: the judgement of signers that the
// intake of signed copies shares.
func (v *Verifier) Policy() *trust.Policy {
	return &trust.Policy{Anchors: v.Anchors, Tolerance: v.Tolerance}
}

// maxArchiveLookups bounds the prefixes of a file looked up in the archive.
const maxArchiveLookups = 32

// Verify checks pdf and returns its report, in language lang. It returns
// an EINVALID error, and no report, only when pdf cannot be read as a PDF;
// other errors come from the archive or the context.
func (v *Verifier) Verify(ctx context.Context, pdf []byte, lang string) (*Report, error) {
	sigs, err := pades.Inspect(pdf)
	if err != nil {
		return nil, &faldone.Error{Code: faldone.EINVALID, MessageID: "error.not_pdf",
			Message: "the file is not a readable PDF: " + strings.TrimPrefix(err.Error(), "inspect: "), Err: err}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	r := &Report{Lang: lang, Size: int64(len(pdf)), Checked: now().UTC(), Signatures: []SignatureReport{}, Archived: []ArchivedVersion{}, Reasons: []Reason{}}
	r.TrustAnchors = v.Anchors.Fixed()
	if r.TrustAnchors == nil {
		r.TrustAnchors = []Anchor{}
	}
	r.TrustedLists = v.Anchors.TrustedLists()
	r.Revisions, _ = pades.Revisions(pdf)
	if len(r.Revisions) == 0 || r.Revisions[len(r.Revisions)-1] != r.Size {
		r.Revisions = append(r.Revisions, r.Size) // trailing bytes after the last %%EOF
	}
	prefixes := prefixHashes(pdf, r.Revisions)
	r.SHA256 = prefixes[r.Size]

	if len(sigs) == 0 {
		r.add(SeverityError, CodeNotSigned, nil, "", nil)
	}
	judged := v.Policy().Judge(sigs, r.Checked)
	for i := range sigs {
		r.Signatures = append(r.Signatures, v.signature(r, sigs, i, &judged[i]))
	}
	v.checkDocMDP(r, pdf, sigs)
	if err := v.checkArchive(ctx, r, sigs, prefixes); err != nil {
		return nil, err
	}
	v.finish(r)
	return r, nil
}

// prefixHashes returns the lowercase hex SHA-256 of pdf[:end] for every end,
// in one pass over the file.
func prefixHashes(pdf []byte, ends []int64) map[int64]string {
	out := make(map[int64]string, len(ends))
	h := sha256.New()
	pos := int64(0)
	for _, e := range ends {
		if e < pos || e > int64(len(pdf)) {
			continue
		}
		h.Write(pdf[pos:e])
		pos = e
		out[e] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// add appends a reason; sig is a signature index or nil.
func (r *Report) add(severity, code string, sig *int, detail string, params map[string]any) {
	if sig != nil {
		s := *sig
		sig = &s
		if params == nil {
			params = map[string]any{}
		}
		params["Signature"] = s + 1
	}
	r.Reasons = append(r.Reasons, Reason{Code: code, Severity: severity, Detail: detail, Signature: sig, Params: params})
}

// signature reports on sigs[i] and adds its reasons to r.
func (v *Verifier) signature(r *Report, sigs []pades.Signature, i int, j *trust.Judgement) SignatureReport {
	s := &sigs[i]
	out := SignatureReport{
		Index: s.Index, Field: s.FieldName, SubFilter: s.SubFilter, ByteRange: s.ByteRange,
		Intact: s.IntegrityErr == nil, Level: s.Level, DocMDP: s.DocMDP, Chain: []Cert{},
	}
	idx := &out.Index
	if s.IntegrityErr != nil {
		out.IntegrityError = s.IntegrityErr.Error()
		code := CodeSignatureInvalid
		switch {
		case errors.Is(s.IntegrityErr, pades.ErrRestated):
			code = CodeSignatureRestated
		case strings.Contains(strings.ToLower(out.IntegrityError), "digest mismatch"):
			code = CodeContentModified
		}
		out.IntegrityReason = code
		r.add(SeverityError, code, idx, out.IntegrityError, nil)
	}
	if !s.SigningTime.IsZero() {
		t := s.SigningTime.UTC()
		out.SigningTime = &t
	}
	end := s.ByteRange[2] + s.ByteRange[3]
	out.Covers = Coverage{WholeFile: s.CoversWholeFile, Bytes: s.RevisionEnd}
	if s.IntegrityErr != nil && end == 0 {
		out.Covers.Bytes = 0
	}
	for k, e := range r.Revisions {
		if e == s.RevisionEnd {
			out.Covers.Revision = k + 1
		}
		if e > s.RevisionEnd && out.Covers.Bytes > 0 {
			out.Appended.Revisions++
		}
	}
	if out.Covers.Bytes > 0 && out.Covers.Bytes <= r.Size {
		out.Appended.Bytes = r.Size - out.Covers.Bytes
	}
	out.Appended.Signatures = len(sigs) - 1 - i

	if ts := s.Timestamp; ts != nil {
		tr := &TimestampReport{Time: ts.Time.UTC(), ImprintMatches: ts.ImprintMatches, Valid: ts.Err == nil, Trusted: j.TimestampTrusted}
		if ts.Signer != nil {
			tr.Authority = ts.Signer.Subject.String()
		}
		if ts.Err != nil {
			tr.Error = ts.Err.Error()
			if s.IntegrityErr == nil {
				r.add(SeverityError, CodeTimestampInvalid, idx, tr.Error, nil)
			}
		} else if j.TimestampErr != nil {
			tr.TrustError = j.TimestampErr.Error()
		}
		out.Timestamp = tr
	}
	// Trust is decided at the trusted time-stamp's time, else now; the
	// judgement is the one the intake of signed copies makes too.
	for _, f := range j.Findings {
		r.add(f.Severity, f.Code, idx, f.Detail, maps.Clone(f.Params))
	}
	if s.Signer == nil {
		return out
	}
	signer := certOf(s.Signer)
	out.Signer = &signer
	out.Identity = j.Signer
	out.TrustTime, out.TrustTimeSource = j.Signer.TrustTime, j.Signer.TrustTimeSource
	if j.TrustErr != nil {
		out.TrustError = j.TrustErr.Error()
		for _, c := range s.Certs {
			out.Chain = append(out.Chain, certOf(c))
		}
		return out
	}
	out.Trusted = true
	for _, c := range j.Chain {
		out.Chain = append(out.Chain, certOf(c))
	}
	return out
}

// maxChangeReasons bounds the forbidden changes listed as reasons.
const maxChangeReasons = 12

// checkDocMDP judges, with the analysis every door of the service shares
// (pades.Analyse), the file's structure and what changed after each of
// its signatures, against the DocMDP permissions in force; it flags bytes
// no signature covers. A file whose signatures an update removed is
// judged by the changes that removed them, not reported as not signed.
func (v *Verifier) checkDocMDP(r *Report, pdf []byte, sigs []pades.Signature) {
	if len(sigs) > 0 {
		last := sigs[len(sigs)-1]
		if last.IntegrityErr == nil && last.RevisionEnd > 0 && last.RevisionEnd < r.Size {
			r.add(SeverityWarning, CodeUnsignedChanges, nil, "", map[string]any{"Bytes": r.Size - last.RevisionEnd})
		}
	}
	a, err := pades.Analyse(pdf)
	if err != nil {
		r.add(SeverityError, pades.ReasonUnreadableRevision, nil, err.Error(), map[string]any{"Revision": 0, "Object": "", "Offset": int64(0)})
		return
	}
	if len(a.Signed) > 0 {
		r.Reasons = slices.DeleteFunc(r.Reasons, func(x Reason) bool { return x.Code == CodeNotSigned })
	}
	for _, f := range a.Findings {
		r.add(SeverityError, f.Reason, nil, f.String(), map[string]any{"Revision": f.Revision, "Object": f.Object, "Offset": f.Offset})
	}
	listed := map[string]bool{}
	n := 0
	for _, sr := range a.Signed {
		si := slices.IndexFunc(sigs, func(s pades.Signature) bool { return s.RevisionEnd == sr.End })
		var idx *int
		forbidden := sr.Forbidden()
		if si >= 0 {
			rep := &r.Signatures[si]
			idx = &rep.Index
			if len(sr.Changes) > 0 || rep.Appended.Bytes > 0 {
				// an ambiguous file allows nothing: what it appends
				// depends on the reader
				allowed := len(forbidden) == 0 && len(a.Findings) == 0
				rep.Appended.Allowed = &allowed
				for _, f := range a.Findings {
					rep.Appended.Changes = append(rep.Appended.Changes, f.String())
				}
			}
			for _, c := range forbidden {
				rep.Appended.Changes = append(rep.Appended.Changes, c.String())
				rep.Appended.Found = append(rep.Appended.Found, ChangeReport{Object: c.Object, Path: c.Path, Change: c.Kind, Reason: c.Rule})
			}
			if len(forbidden) == 0 && len(a.Findings) == 0 && len(sr.Changes) > 0 && sigs[si].DocMDP > 0 {
				r.add(SeverityInfo, CodeAppendedAllowed, idx, "", map[string]any{"P": sr.DocMDP})
			}
		}
		for _, c := range forbidden {
			key := c.Path + " " + c.Kind + " " + c.Rule
			if c.Kind == pades.ChangeAdded {
				key = c.Object + " added " + c.Rule // one object added in two places (a page, the form)
			}
			if listed[key] {
				continue
			}
			listed[key] = true
			if n++; n > maxChangeReasons {
				break
			}
			r.add(SeverityError, c.Rule, idx, c.String(), map[string]any{
				"Object": c.Object, "Path": c.Path, "Kind": c.Kind, "P": sr.DocMDP, "Revision": sr.Revision,
			})
		}
	}
	if n > maxChangeReasons {
		r.add(SeverityError, CodeMoreChanges, nil, "", map[string]any{"Count": n - maxChangeReasons})
	}
}

// checkArchive looks the file, then its revisions from the newest, up in
// the archive and proves the inclusion of the versions found.
func (v *Verifier) checkArchive(ctx context.Context, r *Report, sigs []pades.Signature, prefixes map[int64]string) error {
	if v.Archive == nil {
		r.add(SeverityError, CodeArchiveUnavailable, nil, "", nil)
		return nil
	}
	// Candidates: the whole file, the signed revisions, then the other
	// revisions, newest first; at most maxArchiveLookups.
	var ends []int64
	seen := map[int64]bool{}
	addEnd := func(e int64) {
		if _, ok := prefixes[e]; ok && !seen[e] && len(ends) < maxArchiveLookups {
			seen[e] = true
			ends = append(ends, e)
		}
	}
	addEnd(r.Size)
	for i := len(sigs) - 1; i >= 0; i-- {
		addEnd(sigs[i].RevisionEnd)
	}
	for i := len(r.Revisions) - 1; i >= 0; i-- {
		addEnd(r.Revisions[i])
	}
	slices.SortFunc(ends, func(a, b int64) int { return cmp.Compare(b, a) })
	for _, end := range ends {
		recs, err := v.Archive.BySHA(ctx, prefixes[end])
		if err != nil && faldone.ErrorCode(err) != faldone.ENOTFOUND {
			return fmt.Errorf("verify: look up archive: %w", err)
		}
		if len(recs) == 0 {
			continue
		}
		revision := slices.Index(r.Revisions, end) + 1
		for _, rec := range recs[:min(len(recs), 8)] {
			if rec.SHA256 != prefixes[end] {
				continue
			}
			av := ArchivedVersion{
				ID: rec.ID, Version: rec.Version, Kind: string(rec.Kind), Comune: rec.Comune, Oggetto: rec.Oggetto,
				SHA256: rec.SHA256, Created: rec.Created.UTC(), WholeFile: end == r.Size, Bytes: end, Revision: revision,
				Conformance: rec.Conformance,
			}
			params := map[string]any{"ID": rec.ID, "Version": rec.Version, "Kind": string(rec.Kind), "Comune": rec.Comune, "Revision": revision, "Bytes": end}
			if av.WholeFile {
				r.add(SeverityInfo, CodeArchived, nil, "", params)
			} else {
				r.add(SeverityInfo, CodeArchivedPrefix, nil, "", params)
			}
			v.checkSeal(r, sigs, rec, end)
			av.Inclusion = v.prove(ctx, r, rec)
			r.Archived = append(r.Archived, av)
		}
		if len(r.Archived) > 0 {
			return nil
		}
	}
	r.add(SeverityError, CodeNotArchived, nil, "", nil)
	return nil
}

// checkSeal checks that the seal recorded for rec signs the archived bytes.
func (v *Verifier) checkSeal(r *Report, sigs []pades.Signature, rec *faldone.Record, end int64) {
	want := rec.Seal.CertSHA256
	if want == "" {
		return
	}
	for _, s := range sigs {
		if s.Signer == nil || s.RevisionEnd > end {
			continue
		}
		sum := sha256.Sum256(s.Signer.Raw)
		if hex.EncodeToString(sum[:]) == want {
			return
		}
	}
	r.add(SeverityError, CodeSealMismatch, nil, "recorded seal certificate "+want,
		map[string]any{"ID": rec.ID, "Version": rec.Version})
}

// prove fetches and checks the inclusion proof of rec.
func (v *Verifier) prove(ctx context.Context, r *Report, rec *faldone.Record) *Inclusion {
	params := map[string]any{"ID": rec.ID, "Version": rec.Version}
	if v.Log == nil {
		r.add(SeverityError, CodeLogUnavailable, nil, "", params)
		return nil
	}
	r.LogKey = v.Log.PublicKey()
	p, err := v.Log.Prove(ctx, rec)
	if errors.Is(err, ErrNotLogged) {
		r.add(SeverityWarning, CodeProofPending, nil, err.Error(), params)
		return nil
	}
	if err != nil {
		r.add(SeverityError, CodeProofUnavailable, nil, err.Error(), params)
		return nil
	}
	in, code, detail := CheckInclusion(rec, p, r.LogKey)
	if code != "" {
		r.add(SeverityError, code, nil, detail, params)
	} else {
		params["Size"] = in.TreeSize
		r.add(SeverityInfo, CodeIncluded, nil, "", params)
	}
	return in
}

// finish orders the reasons, localises them and sets the verdict.
func (v *Verifier) finish(r *Report) {
	rank := map[string]int{SeverityError: 0, SeverityWarning: 1, SeverityInfo: 2}
	slices.SortStableFunc(r.Reasons, func(a, b Reason) int { return rank[a.Severity] - rank[b.Severity] })
	r.Valid = true
	for i := range r.Reasons {
		if r.Reasons[i].Severity == SeverityError {
			r.Valid = false
		}
		if k, ok := r.Reasons[i].Params["Kind"].(string); ok {
			r.Reasons[i].Params["Change"] = v.localize(r.Lang, "verify.change_"+k, nil)
		}
		r.Reasons[i].Message = v.localize(r.Lang, "verify."+r.Reasons[i].Code, r.Reasons[i].Params)
	}
	if r.Valid {
		r.Summary = v.localize(r.Lang, "verify.summary_valid", nil)
	} else {
		r.Summary = v.localize(r.Lang, "verify.summary_invalid", nil)
	}
}

func (v *Verifier) localize(lang, id string, params map[string]any) string {
	if v.Messages == nil {
		return id
	}
	return v.Messages.Localize(lang, id, params)
}

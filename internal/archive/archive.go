// Package archive holds what the storage engines (sqlite, postgres) share
// to implement [faldone.Archive] the same way: record checks, the version
// rules, the stored form of a record and the checks made when reading it
// back. It does no I/O.
package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"faldone/internal/audit"
	"faldone/internal/faldone"
)

// Prepare checks rec against pdf before it is archived and fills what the
// archive owns: SHA256 and Size when empty (they MUST match pdf when set),
// Created when zero (from now), and times in UTC so that the record in
// memory is the one read back. Errors are EINVALID.
func Prepare(rec *faldone.Record, pdf []byte, now func() time.Time) error {
	if err := faldone.CheckRecord(rec); err != nil {
		return err
	}
	if len(pdf) == 0 {
		return faldone.Errorf(faldone.EINVALID, "record %s v%d: empty PDF", rec.ID, rec.Version)
	}
	sum := sha256.Sum256(pdf)
	got := hex.EncodeToString(sum[:])
	switch {
	case rec.SHA256 == "":
		rec.SHA256 = got
	case rec.SHA256 != got:
		return faldone.Errorf(faldone.EINVALID, "record %s v%d: sha256 %s does not match the PDF (%s)", rec.ID, rec.Version, rec.SHA256, got)
	}
	switch {
	case rec.Size == 0:
		rec.Size = int64(len(pdf))
	case rec.Size != int64(len(pdf)):
		return faldone.Errorf(faldone.EINVALID, "record %s v%d: size %d does not match the PDF (%d bytes)", rec.ID, rec.Version, rec.Size, len(pdf))
	}
	if rec.Created.IsZero() {
		if now == nil {
			now = time.Now
		}
		rec.Created = now()
	}
	rec.Created = rec.Created.UTC().Round(0)
	if t := rec.Seal.TimestampTime; t != nil {
		u := t.UTC().Round(0)
		rec.Seal.TimestampTime = &u
	}
	if sg := rec.Seal.ComuneSigner; sg != nil {
		u := *sg
		u.NotBefore, u.NotAfter, u.TrustTime = u.NotBefore.UTC().Round(0), u.NotAfter.UTC().Round(0), u.TrustTime.UTC().Round(0)
		rec.Seal.ComuneSigner = &u
		if len(u.CertSHA256) != 64 || strings.Trim(u.CertSHA256, "0123456789abcdef") != "" {
			return faldone.Errorf(faldone.EINVALID, "record %s v%d: comune signer's cert_sha256 %q is not a lowercase hex SHA-256", rec.ID, rec.Version, u.CertSHA256)
		}
	}
	return faldone.CheckRecord(rec)
}

// Next applies the version rules to rec given the newest stored version
// of its id (nil when the id is unknown): version 1 for a new id
// (ENOTFOUND for a later version of an unknown id), exactly latest+1
// otherwise (ECONFLICT). It fills PrevSHA from latest when empty and
// rejects one that names another PDF (ECONFLICT).
func Next(rec *faldone.Record, latest *faldone.Record) error {
	if latest == nil {
		if rec.Version != 1 {
			return faldone.Errorf(faldone.ENOTFOUND, "document %s not found: version %d needs an archived version %d", rec.ID, rec.Version, rec.Version-1)
		}
		return nil
	}
	if rec.Version != latest.Version+1 {
		return faldone.Errorf(faldone.ECONFLICT, "document %s is at version %d: cannot archive version %d, next is %d", rec.ID, latest.Version, rec.Version, latest.Version+1)
	}
	switch {
	case rec.PrevSHA == "":
		rec.PrevSHA = latest.SHA256
	case rec.PrevSHA != latest.SHA256:
		return faldone.Errorf(faldone.ECONFLICT, "document %s: prev_sha256 %s is not the PDF of version %d (%s)", rec.ID, rec.PrevSHA, latest.Version, latest.SHA256)
	}
	return nil
}

// ClockSlack is how far a record may be dated before the newest record of
// the log: concurrent appends commit in an order a little different from
// the order their times were taken in (a render takes up to its
// timeout), but a record dated further back means the clock went
// backwards.
const ClockSlack = 2 * time.Minute

// NotBefore refuses rec, with EUNAVAILABLE, when it is dated more than
// ClockSlack before last, the body of the newest record of the log (nil
// for an empty log).
func NotBefore(rec *faldone.Record, last []byte) error {
	if last == nil {
		return nil
	}
	var prev struct {
		Created time.Time `json:"created"`
	}
	if err := json.Unmarshal(last, &prev); err != nil {
		return fmt.Errorf("read the newest record's time: %w", err)
	}
	if rec.Created.Before(prev.Created.Add(-ClockSlack)) {
		return &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.clock_backwards",
			Params: map[string]any{"Last": prev.Created.UTC().Format(time.RFC3339)},
			Message: fmt.Sprintf("record %s v%d is dated %s, before the newest record of the log (%s): the clock went backwards; nothing was archived",
				rec.ID, rec.Version, rec.Created.UTC().Format(time.RFC3339Nano), prev.Created.UTC().Format(time.RFC3339Nano))}
	}
	return nil
}

// Encode returns the stored form of rec (its canonical JSON) and its leaf
// hash.
func Encode(rec *faldone.Record) (body, leafHash []byte) {
	body = faldone.CanonicalRecord(rec)
	return body, audit.LeafHash(body)
}

// Row is a stored record: the canonical body plus the columns kept beside
// it for lookups.
type Row struct {
	Leaf    int64
	ID      string
	Version int
	Comune  string
	SHA256  string
	Body    []byte
	// SignerSHA256 and SignerTrusted are the comune signer's certificate
	// fingerprint and whether it was accepted (see SignerColumns); nil on
	// versions without a comune signer.
	SignerSHA256  *string
	SignerTrusted *bool
}

// SignerColumns returns the signer columns of rec: its comune signer's
// certificate fingerprint and whether the signer was trusted with no error
// about its times; nil, nil when rec has no comune signer.
func SignerColumns(rec *faldone.Record) (*string, *bool) {
	sg := rec.Seal.ComuneSigner
	if sg == nil {
		return nil, nil
	}
	sha, ok := sg.CertSHA256, sg.Trusted && len(sg.Reasons) == 0
	return &sha, &ok
}

func eqPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// Decode decodes a stored row into a record and checks that the lookup
// columns agree with the body: they disagree only when the database was
// edited outside faldone.
func Decode(row *Row) (*faldone.Record, error) {
	rec := new(faldone.Record)
	dec := json.NewDecoder(bytes.NewReader(row.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(rec); err != nil {
		return nil, fmt.Errorf("decode record at leaf %d: %w (the row was edited outside faldone; run an audit)", row.Leaf, err)
	}
	rec.Leaf = row.Leaf
	sha, trusted := SignerColumns(rec)
	if rec.ID != row.ID || rec.Version != row.Version || rec.Comune != row.Comune || rec.SHA256 != row.SHA256 ||
		!eqPtr(sha, row.SignerSHA256) || !eqPtr(trusted, row.SignerTrusted) {
		return nil, fmt.Errorf("decode record at leaf %d: columns (%s v%d, comune %s, sha256 %s) disagree with the stored record (%s v%d, comune %s, sha256 %s): the row was edited outside faldone; run an audit",
			row.Leaf, row.ID, row.Version, row.Comune, row.SHA256, rec.ID, rec.Version, rec.Comune, rec.SHA256)
	}
	return rec, nil
}

// ParseSHA256 returns s as a lowercase hex SHA-256, or an EINVALID error.
func ParseSHA256(s string) (string, error) {
	s = strings.ToLower(s)
	if len(s) != 2*sha256.Size {
		return "", faldone.Errorf(faldone.EINVALID, "%q is not a SHA-256 (64 hex digits)", s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", faldone.Errorf(faldone.EINVALID, "%q is not a SHA-256 (64 hex digits)", s)
	}
	return s, nil
}

// CheckBlob returns an error naming the blob when data does not hash to
// sum (a lowercase hex SHA-256).
func CheckBlob(name, sum string, data []byte) error {
	got := sha256.Sum256(data)
	if g := hex.EncodeToString(got[:]); g != sum {
		return fmt.Errorf("blob %s is corrupt: sha256 is %s, want %s (%d bytes); restore it from a backup and run an audit", name, g, sum, len(data))
	}
	return nil
}

// StoredBlobDiffers is the error of an append whose PDF's SHA-256 is that
// of a stored PDF with other bytes: the stored copy is damaged. The
// append is refused rather than acknowledged on a copy that would not
// read back.
func StoredBlobDiffers(name, sum string) error {
	return &storedBlobDiffers{name, sum}
}

type storedBlobDiffers struct{ name, sum string }

func (e *storedBlobDiffers) Error() string {
	return fmt.Sprintf("blob %s is corrupt: the PDF stored with sha256 %s differs from the one being archived; nothing was archived; restore it from a backup and run an audit", e.name, e.sum)
}

// IsStoredBlobDiffers reports whether err is, or wraps, the error of
// StoredBlobDiffers: an append refused before anything was written.
func IsStoredBlobDiffers(err error) bool {
	var e *storedBlobDiffers
	return errors.As(err, &e)
}

// Span is the part of a [audit.HashReader] request on one level: engines
// read it as one range when it is dense.
type Span struct {
	Level  uint
	Lo, Hi uint64
	// Want maps an index of this level to the positions in ids that ask
	// for it.
	Want map[uint64][]int
}

// Spans groups ids by level, in order of first appearance.
func Spans(ids []audit.NodeID) []*Span {
	var out []*Span
	byLevel := map[uint]*Span{}
	for i, id := range ids {
		s := byLevel[id.Level]
		if s == nil {
			s = &Span{Level: id.Level, Lo: id.Index, Hi: id.Index, Want: map[uint64][]int{}}
			byLevel[id.Level] = s
			out = append(out, s)
		}
		s.Lo, s.Hi = min(s.Lo, id.Index), max(s.Hi, id.Index)
		s.Want[id.Index] = append(s.Want[id.Index], i)
	}
	return out
}

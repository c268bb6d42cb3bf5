package faldone

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// Change reasons of a new version (AgID VersioneDelDocumento).
const (
	ChangeSigned       = "FirmaComune"  // the comune's countersigned copy
	ChangeRettifica    = "Rettifica"    // correction
	ChangeAnnullamento = "Annullamento" // cancellation
	ChangeIntegrazione = "Integrazione" // addition
)

// Seal states of a version.
const (
	StateSealed       = "sealed"          // sealed by the service
	StateAwaitComune  = "awaiting_comune" // sealed, waiting for the comune's signature
	StateSignedComune = "signed_comune"   // countersigned by the comune
)

// SealFacts are the signature facts of an archived version.
type SealFacts struct {
	CertSHA256    string     `json:"cert_sha256,omitempty"`    // seal certificate fingerprint
	Level         string     `json:"level,omitempty"`          // PAdES level: B-B, B-T, B-LT, B-LTA, or "" when unsigned
	SigningTime   *time.Time `json:"signing_time,omitempty"`   // claimed signing time (/M)
	TimestampTime *time.Time `json:"timestamp_time,omitempty"` // RFC 3161 token time (B-T)
	TSAFallback   bool       `json:"tsa_fallback,omitempty"`   // sealed at B-B because the TSA was down
	// ArchiveTimestampTime is the time of the newest document time-stamp
	// (B-LTA); LTVFallback records a seal left at B-T because the
	// revocation data or the document time-stamp could not be had.
	ArchiveTimestampTime *time.Time `json:"archive_timestamp_time,omitempty"`
	LTVFallback          bool       `json:"ltv_fallback,omitempty"`
	ComuneSigned         bool       `json:"comune_signed"`
	// ComuneSigner is the signer of the comune's signature and the trust
	// judgement made when the copy was received; nil on other versions.
	ComuneSigner *Signer `json:"comune_signer,omitempty"`
}

// Protocol is the registration data of a document (DatiDiRegistrazione).
type Protocol struct {
	Number string `json:"number,omitempty"`
	Date   string `json:"date,omitempty"` // YYYY-MM-DD
}

// Record is one archived version of a document. Nothing in it is ever
// updated or deleted: a change is a new version.
type Record struct {
	ID       string      `json:"id"`      // document id, shared by all versions
	Version  int         `json:"version"` // 1, 2, ...
	PrevSHA  string      `json:"prev_sha256,omitempty"`
	Reason   string      `json:"change_reason,omitempty"`
	Kind     Kind        `json:"kind"`
	Comune   string      `json:"comune"`
	IPA      string      `json:"ipa"`
	Oggetto  string      `json:"oggetto"`
	Protocol Protocol    `json:"protocol"`
	Lang     string      `json:"lang"`
	Date     string      `json:"date"` // the document's date, YYYY-MM-DD
	SHA256   string      `json:"sha256"`
	Size     int64       `json:"size"`
	Input    []byte      `json:"input"` // canonical input JSON
	InputSHA string      `json:"input_sha256"`
	Template TemplateRef `json:"template"`
	Seal     SealFacts   `json:"seal"`
	Cites    string      `json:"cites,omitempty"` // id of the cited document
	CitesSHA string      `json:"cites_sha256,omitempty"`
	Actor    string      `json:"actor"`
	Created  time.Time   `json:"created"`
	Format   string      `json:"format"`   // "application/pdf"
	Producer string      `json:"producer"` // producing software and version
	Leaf     int64       `json:"leaf_index"`
	// Conformance names the standards this version's PDF meets ("PDF/A-2b"),
	// as the service produced it; empty for a copy it received (a comune's
	// countersigned file), which it does not claim.
	Conformance []string `json:"conformance,omitempty"`
}

// Archive keeps every version of every document, with its PDF, and the
// tamper-evident log of them.
type Archive interface {
	// Append stores a new version and its PDF and appends its leaf to the
	// log, all or nothing. rec.Version MUST be 1 for a new id, or the next
	// version of an existing one (else ECONFLICT). It sets rec.Leaf.
	Append(ctx context.Context, rec *Record, pdf []byte) error
	// Latest returns the newest version of a document, or ENOTFOUND.
	Latest(ctx context.Context, id string) (*Record, error)
	// Version returns one version of a document, or ENOTFOUND.
	Version(ctx context.Context, id string, version int) (*Record, error)
	// PDF returns the bytes of a PDF by SHA-256, or ENOTFOUND.
	PDF(ctx context.Context, sha256 string) ([]byte, error)
	// Dossier lists every version of every document of a comune, oldest first.
	Dossier(ctx context.Context, istat string) ([]*Record, error)
	// BySHA returns the versions whose PDF has this SHA-256.
	BySHA(ctx context.Context, sha256 string) ([]*Record, error)
	// Close releases the archive.
	Close() error
}

// canonicalRecord has the fields of Record with Leaf left out of the JSON:
// the leaf index is where the log put the record, not part of what it
// commits to. A field added to Record MUST be added here too (the
// conversion in CanonicalRecord does not compile otherwise).
type canonicalRecord struct {
	ID       string      `json:"id"`
	Version  int         `json:"version"`
	PrevSHA  string      `json:"prev_sha256,omitempty"`
	Reason   string      `json:"change_reason,omitempty"`
	Kind     Kind        `json:"kind"`
	Comune   string      `json:"comune"`
	IPA      string      `json:"ipa"`
	Oggetto  string      `json:"oggetto"`
	Protocol Protocol    `json:"protocol"`
	Lang     string      `json:"lang"`
	Date     string      `json:"date"`
	SHA256   string      `json:"sha256"`
	Size     int64       `json:"size"`
	Input    []byte      `json:"input"`
	InputSHA string      `json:"input_sha256"`
	Template TemplateRef `json:"template"`
	Seal     SealFacts   `json:"seal"`
	Cites    string      `json:"cites,omitempty"`
	CitesSHA string      `json:"cites_sha256,omitempty"`
	Actor    string      `json:"actor"`
	Created  time.Time   `json:"created"`
	Format   string      `json:"format"`
	Producer string      `json:"producer"`
	Leaf     int64       `json:"-"`
	// Conformance is omitted when empty, so that records made before it
	// existed keep their canonical bytes.
	Conformance []string `json:"conformance,omitempty"`
}

// CanonicalRecord returns the canonical encoding of r, the bytes the audit
// log hashes into r's leaf: compact JSON of every field but Leaf, in field
// order, with times in UTC. Decoding it into a Record and encoding that
// again gives the same bytes, so a leaf can be recomputed from a stored
// record. It includes the PDF's SHA-256, so the leaf commits to the PDF.
//
// CanonicalRecord MUST only be given records that [CheckRecord] accepts;
// it panics on times outside the years 0-9999, which JSON cannot encode.
func CanonicalRecord(r *Record) []byte {
	c := canonicalRecord(*r)
	c.Leaf = 0
	c.Created = c.Created.UTC()
	if t := c.Seal.TimestampTime; t != nil {
		u := t.UTC()
		c.Seal.TimestampTime = &u
	}
	if sg := c.Seal.ComuneSigner; sg != nil {
		u := *sg
		u.NotBefore, u.NotAfter, u.TrustTime = u.NotBefore.UTC(), u.NotAfter.UTC(), u.TrustTime.UTC()
		c.Seal.ComuneSigner = &u
	}
	b, err := json.Marshal(&c)
	if err != nil {
		panic(fmt.Sprintf("canonical record %s v%d: %v", r.ID, r.Version, err))
	}
	return b
}

// CheckRecord reports, as an EINVALID error, what prevents r from being
// archived with a stable canonical form: an empty id, a version below 1,
// text that is not valid UTF-8 (JSON would replace it, so the record read
// back would differ from the one hashed), or a time JSON cannot encode.
func CheckRecord(r *Record) error {
	if r == nil {
		return Errorf(EINVALID, "no record")
	}
	if r.ID == "" {
		return Errorf(EINVALID, "record has no id")
	}
	if r.Version < 1 {
		return Errorf(EINVALID, "record %s: version %d, want 1 or more", r.ID, r.Version)
	}
	texts := []struct{ name, s string }{
		{"id", r.ID}, {"prev_sha256", r.PrevSHA}, {"change_reason", r.Reason},
		{"kind", string(r.Kind)}, {"comune", r.Comune}, {"ipa", r.IPA},
		{"oggetto", r.Oggetto}, {"protocol.number", r.Protocol.Number},
		{"protocol.date", r.Protocol.Date}, {"lang", r.Lang}, {"date", r.Date},
		{"sha256", r.SHA256}, {"input_sha256", r.InputSHA},
		{"template.id", r.Template.ID}, {"template.version", r.Template.Version},
		{"template.sha256", r.Template.SHA256}, {"seal.cert_sha256", r.Seal.CertSHA256},
		{"seal.level", r.Seal.Level}, {"cites", r.Cites}, {"cites_sha256", r.CitesSHA},
		{"actor", r.Actor}, {"format", r.Format}, {"producer", r.Producer},
	}
	if sg := r.Seal.ComuneSigner; sg != nil {
		texts = append(texts, []struct{ name, s string }{
			{"seal.comune_signer.subject", sg.Subject}, {"seal.comune_signer.common_name", sg.CommonName},
			{"seal.comune_signer.serial_number", sg.SerialNumber}, {"seal.comune_signer.organization", sg.Organization},
			{"seal.comune_signer.issuer", sg.Issuer}, {"seal.comune_signer.anchor", sg.Anchor},
		}...)
	}
	for _, c := range r.Conformance {
		texts = append(texts, struct{ name, s string }{"conformance", c})
	}
	for _, f := range texts {
		if !utf8.ValidString(f.s) {
			return Errorf(EINVALID, "record %s v%d: %s is not valid UTF-8", r.ID, r.Version, f.name)
		}
	}
	times := []struct {
		name string
		t    *time.Time
	}{{"created", &r.Created}, {"seal.timestamp_time", r.Seal.TimestampTime}}
	if sg := r.Seal.ComuneSigner; sg != nil {
		times = append(times, []struct {
			name string
			t    *time.Time
		}{{"seal.comune_signer.not_before", &sg.NotBefore}, {"seal.comune_signer.not_after", &sg.NotAfter}, {"seal.comune_signer.trust_time", &sg.TrustTime}}...)
	}
	for _, f := range times {
		if f.t != nil {
			if y := f.t.UTC().Year(); y < 0 || y > 9999 {
				return Errorf(EINVALID, "record %s v%d: %s year %d is out of range", r.ID, r.Version, f.name, y)
			}
		}
	}
	return nil
}

// State returns the workflow state of a version: signed by the comune,
// awaiting the comune's signature (letters the comune signs), or sealed.
func State(r *Record) string {
	switch {
	case r.Seal.ComuneSigned:
		return StateSignedComune
	case r.Kind == KindAssessment, r.Kind == KindChiusura: // reports of the task force: the comune does not sign them
		return StateSealed
	}
	return StateAwaitComune
}

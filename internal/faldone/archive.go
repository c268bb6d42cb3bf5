package faldone

import (
	"context"
	"time"
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
	CertSHA256    string     `json:"cert_sha256,omitempty"` // seal certificate fingerprint
	Level         string     `json:"level,omitempty"`       // PAdES level: B-B, B-T, or "" when unsigned
	TimestampTime *time.Time `json:"timestamp_time,omitempty"`
	ComuneSigned  bool       `json:"comune_signed"`
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

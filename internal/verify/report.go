package verify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"

	"faldone/internal/trust"
)

// Severities of a Reason. Only errors make a report invalid.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Reason codes. Each has a message "verify.<code>" in the locale files.
const (
	// Errors.
	CodeNotSigned        = "not_signed"              // the file has no signature
	CodeContentModified  = "content_modified"        // the signed bytes were changed
	CodeSignatureInvalid = "signature_invalid"       // the signature does not verify
	CodeUntrustedSigner  = trust.CodeUntrustedSigner // no chain to a trust anchor at the trust time
	CodeSignerExpired    = trust.CodeSignerExpired   // the signer's certificate is not valid at the trust time
	// CodeSigningTimeOutsideValidity: the claimed signing time is outside
	// the signer certificate's validity.
	CodeSigningTimeOutsideValidity = trust.CodeSigningTimeOutsideValidity
	// CodeClaimedTimeMismatch: the claimed signing time is more than the
	// tolerance away from the signature's trusted time-stamp.
	CodeClaimedTimeMismatch = trust.CodeClaimedTimeMismatch
	// CodeTimeBackwards: a signature's time is earlier than that of an
	// earlier revision's signature.
	CodeTimeBackwards     = trust.CodeTimeBackwards
	CodeTimestampInvalid  = "timestamp_invalid"  // the time-stamp token is broken or does not match
	CodeDocMDPViolation   = "docmdp_violation"   // changes the certification does not allow
	CodeSignatureRestated = "signature_restated" // the signature dictionary was written again after signing
	CodeMoreChanges       = "more_changes"       // more forbidden changes than the report lists
	// The other error codes of a report are those of pades.Analyse: the
	// ambiguities of structure (pades.Reason* of a Finding: trailing_data,
	// startxref_mismatch, prev_chain_broken, xref_hybrid_mismatch,
	// duplicate_object, unlisted_object, xref_offset_invalid,
	// objstm_redefines_signed, revision_unreadable, too_many_revisions,
	// analysis_too_costly)
	// and the forbidden changes more precise than docmdp_violation
	// (info_changed, metadata_changed, xfa_added,
	// sig_annotation_not_widget, unsigned_signature_appearance,
	// annotation_added, field_added, signature_reused, changes_too_many).
	CodeNotArchived        = "not_archived"        // neither the file nor a revision is archived
	CodeArchiveUnavailable = "archive_unavailable" // no archive was consulted (offline without a bundle)
	CodeSealMismatch       = "seal_mismatch"       // the seal is not the one recorded for the version
	CodeLogUnavailable     = "log_unavailable"     // no audit log to prove inclusion
	CodeProofUnavailable   = "proof_unavailable"   // the log could not give a proof
	CodeCheckpointInvalid  = "checkpoint_invalid"  // the checkpoint is not signed by the log's key
	CodeInclusionFailed    = "inclusion_failed"    // the proof does not lead to the checkpoint's root
	// Warnings.
	CodeTimestampUntrusted = trust.CodeTimestampUntrusted // the TSA does not chain to a trust anchor
	CodeUnsignedChanges    = "unsigned_changes"           // bytes appended after the last signature
	CodeProofPending       = "proof_pending"              // archived, but no checkpoint covers it yet
	// Information.
	CodeArchived        = "archived"         // the whole file is an archived version
	CodeArchivedPrefix  = "archived_prefix"  // a revision of the file is an archived version
	CodeIncluded        = "included"         // the inclusion proof verifies
	CodeAppendedAllowed = "appended_allowed" // the changes after the certification are allowed
)

// Report is the outcome of verifying one PDF.
type Report struct {
	// Valid is true when no reason has severity "error": every signature
	// is intact and trusted, the file or one of its revisions is an
	// archived version, and its inclusion in the log is proved.
	Valid bool `json:"valid"`
	// Summary is a one-line verdict for people, in the report's language.
	Summary string `json:"summary"`
	Lang    string `json:"lang"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	// Revisions are the end offsets of the file's revisions, in order;
	// revision k (from 1) is the bytes [0, Revisions[k-1]).
	Revisions  []int64           `json:"revisions"`
	Signatures []SignatureReport `json:"signatures"`
	// Archived lists the archived versions the file or its longest
	// archived revision is; empty when none.
	Archived []ArchivedVersion `json:"archived"`
	// Reasons explain the verdict, errors first.
	Reasons []Reason `json:"reasons"`
	// TrustAnchors are the certification authorities trusted at any time.
	TrustAnchors []Anchor `json:"trust_anchors"`
	// TrustedLists are the Trusted Lists whose services are trusted while
	// granted (each signature's identity names the anchor it reached).
	TrustedLists []trust.ListInfo `json:"trusted_lists,omitempty"`
	// LogKey is the public key the checkpoint was checked with, if any.
	LogKey  string    `json:"log_key,omitempty"`
	Checked time.Time `json:"checked"`
}

// Reason is one finding of a verification.
type Reason struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	// Message says it for people, in the report's language.
	Message string `json:"message"`
	// Detail is technical evidence, in English, when there is some.
	Detail string `json:"detail,omitempty"`
	// Signature is the index of the signature concerned, if any.
	Signature *int           `json:"signature,omitempty"`
	Params    map[string]any `json:"params,omitempty"`
}

// Cert describes a certificate.
type Cert struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	SHA256    string    `json:"sha256"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

func certOf(c *x509.Certificate) Cert {
	sum := sha256.Sum256(c.Raw)
	return Cert{
		Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: c.SerialNumber.Text(16),
		SHA256: hex.EncodeToString(sum[:]), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
	}
}

// SignatureReport describes one signature.
type SignatureReport struct {
	Index     int      `json:"index"` // from 0, in revision order
	Field     string   `json:"field"`
	SubFilter string   `json:"subfilter"`
	ByteRange [4]int64 `json:"byte_range"`
	// Intact is true when the signed bytes are unchanged and the
	// signature value verifies with the signer's key.
	Intact         bool   `json:"intact"`
	IntegrityError string `json:"integrity_error,omitempty"`
	// IntegrityReason is the reason code of IntegrityError.
	IntegrityReason string `json:"integrity_reason,omitempty"`
	Signer          *Cert  `json:"signer,omitempty"`
	// Identity says who signed (the subject's serialNumber, such as
	// TINIT-..., whether the certificate is qualified) and the trust
	// judgement, as the archive records it for a comune's signature.
	Identity *trust.Signer `json:"identity,omitempty"`
	// Chain is the path to a trust anchor when Trusted, else the
	// certificates the signature carries.
	Chain []Cert `json:"chain"`
	// Trusted is true when the signer chains to a trust anchor at
	// TrustTime (any key usage).
	Trusted    bool   `json:"trusted"`
	TrustError string `json:"trust_error,omitempty"`
	// TrustTime is when the chain was checked: the time-stamp's time when
	// the signature has a valid time-stamp from a trusted authority, else
	// the time of the verification; never the claimed signing time.
	TrustTime       time.Time        `json:"trust_time"`
	TrustTimeSource string           `json:"trust_time_source"` // "timestamp" or "now"
	SigningTime     *time.Time       `json:"signing_time,omitempty"`
	Timestamp       *TimestampReport `json:"timestamp,omitempty"`
	Level           string           `json:"level,omitempty"` // PAdES B-B, B-T, B-LT or B-LTA, "" for other signatures (and document time-stamps)
	// DocMDP is the /P of a certification signature (1 no changes, 2 form
	// filling and signing, 3 also annotations), 0 for other signatures.
	DocMDP   int      `json:"docmdp,omitempty"`
	Covers   Coverage `json:"covers"`
	Appended Appended `json:"appended"`
}

// TimestampReport describes a signature time-stamp.
type TimestampReport struct {
	Authority      string    `json:"authority,omitempty"` // the TSA certificate's subject
	Time           time.Time `json:"time"`
	ImprintMatches bool      `json:"imprint_matches"`
	Valid          bool      `json:"valid"`
	Error          string    `json:"error,omitempty"`
	Trusted        bool      `json:"trusted"`
	TrustError     string    `json:"trust_error,omitempty"`
}

// Coverage says which part of the file a signature covers.
type Coverage struct {
	WholeFile bool  `json:"whole_file"`
	Bytes     int64 `json:"bytes"`    // the end of the signed revision
	Revision  int   `json:"revision"` // its number, from 1; 0 when unknown
}

// Appended describes what follows a signature's revision.
type Appended struct {
	Bytes      int64 `json:"bytes"`
	Revisions  int   `json:"revisions"`
	Signatures int   `json:"signatures"` // later signatures
	// Allowed, for a signature followed by changes, says whether its
	// permissions (the DocMDP of the certification in force, else form
	// filling and signing) allow them; nil otherwise.
	Allowed *bool    `json:"allowed,omitempty"`
	Changes []string `json:"changes,omitempty"` // the forbidden changes found, in English
	// Found are the forbidden changes as data.
	Found []ChangeReport `json:"found,omitempty"`
}

// ChangeReport is one forbidden change after a signature.
type ChangeReport struct {
	Object string `json:"object,omitempty"` // the object changed, "12 0 R"
	Path   string `json:"path"`             // its path from the trailer
	Change string `json:"change"`           // added, removed, modified or restated
	Reason string `json:"reason"`           // the reason code
}

// ArchivedVersion is an archived document version the file or one of its
// revisions is.
type ArchivedVersion struct {
	ID      string    `json:"id"`
	Version int       `json:"version"`
	Kind    string    `json:"kind"`
	Comune  string    `json:"comune"`
	Oggetto string    `json:"oggetto,omitempty"`
	SHA256  string    `json:"sha256"`
	Created time.Time `json:"created"`
	// WholeFile is true when the file is exactly the archived PDF; else
	// the archived PDF is the file's first Bytes bytes, revision Revision.
	WholeFile bool       `json:"whole_file"`
	Bytes     int64      `json:"bytes"`
	Revision  int        `json:"revision"`
	Inclusion *Inclusion `json:"inclusion,omitempty"`
	// Conformance names the standards the archived version was produced
	// to meet ("PDF/A-2b"), from its record; empty when it claims none.
	Conformance []string `json:"conformance,omitempty"`
}

// Inclusion is the checked proof that a record is in the audit log.
type Inclusion struct {
	Verified   bool      `json:"verified"`
	Error      string    `json:"error,omitempty"`
	LeafIndex  uint64    `json:"leaf_index"`
	LeafHash   string    `json:"leaf_hash"`
	TreeSize   uint64    `json:"tree_size"`
	Root       string    `json:"root,omitempty"`
	Proof      []string  `json:"proof"`
	Origin     string    `json:"origin,omitempty"`
	Time       time.Time `json:"checkpoint_time,omitzero"`
	Checkpoint string    `json:"checkpoint,omitempty"` // the signed note
}

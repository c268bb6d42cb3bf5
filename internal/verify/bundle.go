package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/trust"
)

// BundleFormat names the evidence bundle's format and version.
const BundleFormat = "faldone-evidence/1"

// maxBundleProof bounds the proof length of a bundle (a tree of 2^64
// leaves needs 64 hashes).
const maxBundleProof = 64

// Bundle is the evidence of one archived version, for offline
// verification: the PDF, the record the log committed to, the inclusion
// proof against a signed checkpoint, the log's public key and the trust
// anchors the service used. It is JSON; byte strings are base64.
type Bundle struct {
	Format  string `json:"format"`
	ID      string `json:"id"`
	Version int    `json:"version"`
	SHA256  string `json:"sha256"` // of PDF
	// PDF is the archived file.
	PDF []byte `json:"pdf"`
	// Record is faldone.CanonicalRecord of the version: the exact bytes
	// whose RFC 6962 leaf hash is in the log.
	Record    []byte   `json:"record"`
	LeafIndex uint64   `json:"leaf_index"`
	TreeSize  uint64   `json:"tree_size"`
	Proof     []string `json:"proof"` // hex hashes, leaf to root
	// Checkpoint is the signed checkpoint note the proof leads to.
	Checkpoint string `json:"checkpoint"`
	// LogKey is the log's public key (note verifier key).
	LogKey string `json:"log_key"`
	// TrustAnchors is a PEM bundle of the certification authorities the
	// service trusts at any time.
	TrustAnchors string `json:"trust_anchors"`
	// TrustedServices are the anchors the service takes from a Trusted
	// List, each with its service's status history, trusted only while
	// granted.
	TrustedServices []trust.ServiceAnchor `json:"trusted_services,omitempty"`
	Created         time.Time             `json:"created"`
}

// Evidence builds the evidence bundle of rec, whose PDF is pdf. It needs
// the Log: without one it returns EUNAVAILABLE, and so when no signed
// checkpoint covers rec yet.
func (v *Verifier) Evidence(ctx context.Context, rec *faldone.Record, pdf []byte) (*Bundle, error) {
	if v.Log == nil {
		return nil, faldone.Errorf(faldone.EUNAVAILABLE, "no audit log is configured: evidence cannot be exported")
	}
	p, err := v.Log.Prove(ctx, rec)
	if errors.Is(err, ErrNotLogged) {
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, Message: fmt.Sprintf("document %s version %d is not yet covered by a signed checkpoint: try again shortly", rec.ID, rec.Version), Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("evidence of %s v%d: %w", rec.ID, rec.Version, err)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	b := &Bundle{
		Format: BundleFormat, ID: rec.ID, Version: rec.Version, SHA256: rec.SHA256, PDF: pdf,
		Record: faldone.CanonicalRecord(rec), LeafIndex: p.LeafIndex, TreeSize: p.TreeSize,
		Proof: make([]string, len(p.Hashes)), Checkpoint: string(p.Checkpoint), LogKey: v.Log.PublicKey(),
		TrustAnchors: string(v.Anchors.PEM()), TrustedServices: v.Anchors.Services(), Created: now().UTC(),
	}
	for i, h := range p.Hashes {
		b.Proof[i] = hex.EncodeToString(h)
	}
	return b, nil
}

// ParseBundle reads an evidence bundle and checks its shape: the format,
// the record (canonical, naming the bundle's id, version and PDF) and the
// proof hashes. It does not check the proof; verification does.
func ParseBundle(data []byte) (*Bundle, error) {
	var b Bundle
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("evidence bundle: %w", err)
	}
	if b.Format != BundleFormat {
		return nil, fmt.Errorf("evidence bundle: format %q, want %q", b.Format, BundleFormat)
	}
	rec, err := b.record()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b.PDF)
	switch {
	case rec.ID != b.ID || rec.Version != b.Version:
		return nil, fmt.Errorf("evidence bundle: the record is %s v%d, the bundle names %s v%d", rec.ID, rec.Version, b.ID, b.Version)
	case len(b.PDF) > 0 && hex.EncodeToString(sum[:]) != rec.SHA256:
		return nil, errors.New("evidence bundle: the PDF is not the one the record names")
	case len(b.Proof) > maxBundleProof:
		return nil, errors.New("evidence bundle: proof too long")
	}
	if _, err := b.hashes(); err != nil {
		return nil, err
	}
	return &b, nil
}

// record decodes the bundle's record; it must be in canonical form.
func (b *Bundle) record() (*faldone.Record, error) {
	var rec faldone.Record
	if err := json.Unmarshal(b.Record, &rec); err != nil {
		return nil, fmt.Errorf("evidence bundle: record: %w", err)
	}
	if err := faldone.CheckRecord(&rec); err != nil {
		return nil, fmt.Errorf("evidence bundle: record: %w", err)
	}
	if !bytes.Equal(faldone.CanonicalRecord(&rec), b.Record) {
		return nil, errors.New("evidence bundle: the record is not in canonical form")
	}
	rec.Leaf = int64(min(b.LeafIndex, 1<<62))
	return &rec, nil
}

func (b *Bundle) hashes() ([][]byte, error) {
	out := make([][]byte, len(b.Proof))
	for i, s := range b.Proof {
		h, err := hex.DecodeString(s)
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("evidence bundle: proof hash %d is not 32 bytes of hex", i)
		}
		out[i] = h
	}
	return out, nil
}

// Offline returns a verifier that reads the archive and the log from the
// bundle and trusts its anchors (source "evidence"), plus those of extra.
// logKey, when not empty, replaces the bundle's log key: an auditor pins
// the key the service publishes.
func (b *Bundle) Offline(extra *Anchors, logKey string, msgs Messages) (*Verifier, error) {
	rec, err := b.record()
	if err != nil {
		return nil, err
	}
	hashes, err := b.hashes()
	if err != nil {
		return nil, err
	}
	anchors := &Anchors{}
	if b.TrustAnchors != "" {
		if _, err := anchors.AddPEM([]byte(b.TrustAnchors), "evidence"); err != nil {
			return nil, err
		}
	}
	if err := anchors.AddServices(b.TrustedServices, "evidence"); err != nil {
		return nil, fmt.Errorf("evidence bundle: %w", err)
	}
	anchors.AddAll(extra)
	if logKey == "" {
		logKey = b.LogKey
	}
	p := &Proof{LeafIndex: b.LeafIndex, TreeSize: b.TreeSize, Hashes: hashes, Checkpoint: []byte(b.Checkpoint)}
	src := &bundleSource{rec: rec, proof: p, key: logKey}
	return &Verifier{Anchors: anchors, Archive: src, Log: src, Messages: msgs}, nil
}

// bundleSource is the archive and the log of one bundle.
type bundleSource struct {
	rec   *faldone.Record
	proof *Proof
	key   string
}

func (s *bundleSource) BySHA(_ context.Context, sha string) ([]*faldone.Record, error) {
	if sha != s.rec.SHA256 {
		return nil, nil
	}
	rec := *s.rec
	return []*faldone.Record{&rec}, nil
}

func (s *bundleSource) Prove(_ context.Context, rec *faldone.Record) (*Proof, error) {
	if rec.ID != s.rec.ID || rec.Version != s.rec.Version {
		return nil, fmt.Errorf("%w: the bundle proves %s v%d only", ErrNotLogged, s.rec.ID, s.rec.Version)
	}
	return s.proof, nil
}

func (s *bundleSource) PublicKey() string { return s.key }

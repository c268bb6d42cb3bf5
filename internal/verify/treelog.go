package verify

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"faldone/internal/audit"
	"faldone/internal/faldone"
)

// LogStore is the audit log of a storage engine: its nodes and its size
// (the sqlite and postgres archives implement it).
type LogStore interface {
	audit.HashReader
	Size(ctx context.Context) (uint64, error)
}

// TreeLog is a [Log] over a storage engine's tree that signs a checkpoint
// of the current size for every proof. It suits a single service that
// holds the log's key; a log service that publishes checkpoints is
// adapted to [Log] instead.
type TreeLog struct {
	Store  LogStore    // Required.
	Signer note.Signer // Required: the log's key (audit.NewSigner).
	VKey   string      // Required: the matching public key (audit.NewKey).
	// Now is the clock of the checkpoints. If nil, time.Now is used.
	Now func() time.Time
}

// Prove implements Log.
func (l *TreeLog) Prove(ctx context.Context, rec *faldone.Record) (*Proof, error) {
	size, err := l.Store.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	if rec.Leaf < 0 || uint64(rec.Leaf) >= size {
		return nil, fmt.Errorf("prove leaf %d: %w", rec.Leaf, ErrNotLogged)
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	tree := audit.NewTree(l.Store)
	cp, err := tree.Checkpoint(ctx, l.Signer.Name(), size, now().UTC())
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	signed, err := audit.Sign(cp, l.Signer)
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	hashes, err := tree.InclusionProof(ctx, uint64(rec.Leaf), size)
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	return &Proof{LeafIndex: uint64(rec.Leaf), TreeSize: size, Hashes: hashes, Checkpoint: signed}, nil
}

// PublicKey implements Log.
func (l *TreeLog) PublicKey() string { return l.VKey }

// Package ledger runs faldone's audit log inside the service: it owns the
// log's Ed25519 note key, signs checkpoints (size, root, time) whenever the
// tree grew, stores them with the engine, and answers inclusion and
// consistency proofs against them. It implements verify.Log.
//
// Several instances on one PostgreSQL database share one key file and one
// tree. Two of them may sign a checkpoint of the same size at nearly the
// same moment; both are stored, both are valid, and they commit to the same
// root, so an auditor sees one consistent log.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"faldone/internal/audit"
	"faldone/internal/faldone"
	"faldone/internal/verify"
)

// Store is the audit log of a storage engine (the sqlite and postgres
// archives implement it).
type Store interface {
	audit.HashReader
	// Size returns the number of leaves in the log.
	Size(ctx context.Context) (uint64, error)
	// SaveCheckpoint stores a signed checkpoint of the log of size leaves.
	SaveCheckpoint(ctx context.Context, size uint64, note []byte) error
	// Checkpoints returns every stored checkpoint in the order saved.
	Checkpoints(ctx context.Context) ([][]byte, error)
	// LatestCheckpoint returns the stored checkpoint of the largest size,
	// or ENOTFOUND.
	LatestCheckpoint(ctx context.Context) (uint64, []byte, error)
}

// Ledger is the service's audit log. It is safe for concurrent use.
type Ledger struct {
	store    Store
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	now      func() time.Time
	log      *slog.Logger

	mu sync.Mutex // serialises signing in this process
}

// Options configure a Ledger. Every field is optional.
type Options struct {
	Now    func() time.Time // clock of the checkpoints; default time.Now
	Logger *slog.Logger     // default slog.Default()
}

var _ verify.Log = (*Ledger)(nil)

// New returns a Ledger over store signing with the secret note key skey
// (see [LoadKey]).
func New(store Store, skey string, opts Options) (*Ledger, error) {
	signer, err := audit.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	vkey, err := PublicKey(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	verifier, err := audit.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	l := &Ledger{store: store, signer: signer, verifier: verifier, vkey: vkey, now: opts.Now, log: opts.Logger}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	return l, nil
}

// PublicKey implements verify.Log: the note verifier key of the log.
func (l *Ledger) PublicKey() string { return l.vkey }

// Origin returns the name of the log, the origin line of its checkpoints.
func (l *Ledger) Origin() string { return l.signer.Name() }

// Verifier returns the verifier of the log's key.
func (l *Ledger) Verifier() note.Verifier { return l.verifier }

// Store returns the store of the log.
func (l *Ledger) Store() Store { return l.store }

// Signed is a stored signed checkpoint and its parsed content.
type Signed struct {
	Note       []byte
	Checkpoint *audit.Checkpoint
}

// latest returns the newest stored checkpoint, nil when there is none.
func (l *Ledger) latest(ctx context.Context) (*Signed, error) {
	_, n, err := l.store.LatestCheckpoint(ctx)
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cp, err := audit.Open(n, l.verifier)
	if err != nil {
		return nil, fmt.Errorf("the newest stored checkpoint does not verify with the log key (run faldone audit verify): %w", err)
	}
	return &Signed{Note: n, Checkpoint: cp}, nil
}

// Checkpoint returns the newest signed checkpoint, signing and storing a
// new one first when the tree grew beyond it (or none exists yet).
func (l *Ledger) Checkpoint(ctx context.Context) (*Signed, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last, err := l.latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	size, err := l.store.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if last != nil && last.Checkpoint.Size >= size {
		return last, nil
	}
	now := l.now().UTC()
	if last != nil && now.Before(last.Checkpoint.Time) {
		l.log.ErrorContext(ctx, "checkpoint refused: the clock is before the newest checkpoint", "now", now, "newest", last.Checkpoint.Time, "size", last.Checkpoint.Size)
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.clock_backwards",
			Params:  map[string]any{"Last": last.Checkpoint.Time.Format(time.RFC3339)},
			Message: fmt.Sprintf("checkpoint: the clock (%s) is before the newest checkpoint (%s): not signed", now.Format(time.RFC3339Nano), last.Checkpoint.Time.Format(time.RFC3339Nano))}
	}
	cp, err := audit.NewTree(l.store).Checkpoint(ctx, l.signer.Name(), size, now)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	signed, err := audit.Sign(cp, l.signer)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := l.store.SaveCheckpoint(ctx, size, signed); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return &Signed{Note: signed, Checkpoint: cp}, nil
}

// Run signs a checkpoint every interval while the tree grows, until ctx
// ends. Failures are logged and retried at the next tick.
func (l *Ledger) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := l.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			l.log.Error("audit checkpoint failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prove implements verify.Log: the inclusion proof of rec's leaf against
// the newest signed checkpoint, signing a fresh one when none covers the
// leaf yet. It returns an error wrapping verify.ErrNotLogged when the leaf
// is beyond the log.
func (l *Ledger) Prove(ctx context.Context, rec *faldone.Record) (*verify.Proof, error) {
	if rec.Leaf < 0 {
		return nil, fmt.Errorf("prove leaf %d: %w", rec.Leaf, verify.ErrNotLogged)
	}
	s, err := l.latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	if s == nil || s.Checkpoint.Size <= uint64(rec.Leaf) {
		if s, err = l.Checkpoint(ctx); err != nil {
			return nil, fmt.Errorf("prove: %w", err)
		}
	}
	if s.Checkpoint.Size <= uint64(rec.Leaf) {
		return nil, fmt.Errorf("prove leaf %d: %w", rec.Leaf, verify.ErrNotLogged)
	}
	hashes, err := audit.NewTree(l.store).InclusionProof(ctx, uint64(rec.Leaf), s.Checkpoint.Size)
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	return &verify.Proof{LeafIndex: uint64(rec.Leaf), TreeSize: s.Checkpoint.Size, Hashes: hashes, Checkpoint: s.Note}, nil
}

// ErrRange is returned, wrapped, by [Ledger.Consistency] for sizes that do
// not satisfy 0 < from <= to <= the log size.
var ErrRange = errors.New("consistency: sizes out of range")

// Consistency returns the RFC 6962 consistency proof between the trees of
// from and to leaves with their roots.
func (l *Ledger) Consistency(ctx context.Context, from, to uint64) (proof [][]byte, root1, root2 []byte, err error) {
	size, err := l.store.Size(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("consistency: %w", err)
	}
	if from == 0 || from > to || to > size {
		return nil, nil, nil, fmt.Errorf("%w: from %d, to %d, log size %d", ErrRange, from, to, size)
	}
	t := audit.NewTree(l.store)
	if proof, err = t.ConsistencyProof(ctx, from, to); err != nil {
		return nil, nil, nil, fmt.Errorf("consistency: %w", err)
	}
	if root1, err = t.Root(ctx, from); err != nil {
		return nil, nil, nil, fmt.Errorf("consistency: %w", err)
	}
	if root2, err = t.Root(ctx, to); err != nil {
		return nil, nil, nil, fmt.Errorf("consistency: %w", err)
	}
	return proof, root1, root2, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"faldone/internal/archive"
	"faldone/internal/audit"
	"faldone/internal/faldone"
)

var _ audit.HashReader = (*Archive)(nil)

// querier is what node reads need from a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// nodeReader reads tree nodes through a pool or a transaction.
type nodeReader struct{ q querier }

// Hashes implements [audit.HashReader]: it reads dense runs of a level
// with one range query and scattered nodes one by one.
func (nr nodeReader) Hashes(ctx context.Context, ids []audit.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for _, s := range archive.Spans(ids) {
		if s.Lo > math.MaxInt64 {
			continue // never stored
		}
		hi := min(s.Hi, math.MaxInt64)
		if hi-s.Lo < uint64(2*len(s.Want)+16) {
			if err := nr.scan(ctx, out, s, qNodeRange,
				int64(s.Level), int64(s.Lo), int64(hi)); err != nil {
				return nil, err
			}
			continue
		}
		for idx := range s.Want {
			if idx > math.MaxInt64 {
				continue
			}
			if err := nr.scan(ctx, out, s, qNode,
				int64(s.Level), int64(idx)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// scan runs a node query and places the hashes where s wants them.
func (nr nodeReader) scan(ctx context.Context, out [][]byte, s *archive.Span, query string, args ...any) error {
	rows, err := nr.q.QueryContext(ctx, query, args...)
	if err != nil {
		return classify(fmt.Errorf("read nodes: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return classify(fmt.Errorf("read nodes: %w", err))
		}
		for _, pos := range s.Want[uint64(idx)] {
			out[pos] = h
		}
	}
	if err := rows.Err(); err != nil {
		return classify(fmt.Errorf("read nodes: %w", err))
	}
	return nil
}

// Hashes implements [audit.HashReader] over the committed log.
func (a *Archive) Hashes(ctx context.Context, ids []audit.NodeID) ([][]byte, error) {
	return nodeReader{a.r}.Hashes(ctx, ids)
}

// Size returns the number of leaves in the log.
func (a *Archive) Size(ctx context.Context) (uint64, error) {
	var size int64
	if err := a.r.QueryRowContext(ctx, `SELECT size FROM audit_head WHERE id = 1`).Scan(&size); err != nil {
		return 0, classify(fmt.Errorf("log size: %w", err))
	}
	return uint64(size), nil
}

// SaveCheckpoint stores a signed checkpoint note (see audit.Sign) for the
// log of the given size. It returns ECONFLICT when size exceeds the log.
// Checkpoints are append-only; the engine does not check the signature.
func (a *Archive) SaveCheckpoint(ctx context.Context, size uint64, note []byte) error {
	if len(note) == 0 {
		return faldone.Errorf(faldone.EINVALID, "save checkpoint: empty note")
	}
	tx, err := a.w.BeginTx(ctx, nil)
	if err != nil {
		return classify(fmt.Errorf("save checkpoint: %w", busyHint(err)))
	}
	defer tx.Rollback()
	var logSize int64
	if err := tx.QueryRowContext(ctx, `SELECT size FROM audit_head WHERE id = 1`).Scan(&logSize); err != nil {
		return classify(fmt.Errorf("save checkpoint: %w", err))
	}
	if size > uint64(logSize) {
		return faldone.Errorf(faldone.ECONFLICT, "checkpoint size %d exceeds the log size %d", size, logSize)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (size, note, created) VALUES (?, ?, ?)`,
		int64(size), note, a.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return classify(fmt.Errorf("save checkpoint: %w", err))
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("save checkpoint: %w", busyHint(err)))
	}
	return nil
}

// Checkpoints returns every stored checkpoint note in the order saved.
func (a *Archive) Checkpoints(ctx context.Context) ([][]byte, error) {
	rows, err := a.r.QueryContext(ctx, `SELECT note FROM checkpoints ORDER BY seq`)
	if err != nil {
		return nil, classify(fmt.Errorf("checkpoints: %w", err))
	}
	defer rows.Close()
	out := [][]byte{}
	for rows.Next() {
		var n []byte
		if err := rows.Scan(&n); err != nil {
			return nil, classify(fmt.Errorf("checkpoints: %w", err))
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("checkpoints: %w", err))
	}
	return out, nil
}

// LatestCheckpoint returns the stored checkpoint of the largest size (the
// last saved among equal sizes), or ENOTFOUND when there is none.
func (a *Archive) LatestCheckpoint(ctx context.Context) (size uint64, note []byte, err error) {
	var s int64
	err = a.r.QueryRowContext(ctx, `SELECT size, note FROM checkpoints ORDER BY size DESC, seq DESC LIMIT 1`).Scan(&s, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, faldone.Errorf(faldone.ENOTFOUND, "no checkpoint saved")
	}
	if err != nil {
		return 0, nil, classify(fmt.Errorf("latest checkpoint: %w", err))
	}
	return uint64(s), note, nil
}

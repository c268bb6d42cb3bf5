package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"faldone/internal/audit"
	"faldone/internal/faldone"
)

var _ audit.HashReader = (*Archive)(nil)

// querier is what node reads need from a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// nodeReader reads tree nodes through a pool or a transaction.
type nodeReader struct{ q querier }

// Hashes implements [audit.HashReader] with one query per call.
func (nr nodeReader) Hashes(ctx context.Context, ids []audit.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	want := make(map[audit.NodeID][]int, len(ids))
	levels := make([]int16, 0, len(ids))
	idxs := make([]int64, 0, len(ids))
	for i, id := range ids {
		if id.Index > math.MaxInt64 || id.Level > math.MaxInt16 {
			continue // never stored
		}
		if _, dup := want[id]; !dup {
			levels = append(levels, int16(id.Level))
			idxs = append(idxs, int64(id.Index))
		}
		want[id] = append(want[id], i)
	}
	if len(levels) == 0 {
		return out, nil
	}
	rows, err := nr.q.Query(ctx, `SELECT n.level, n.idx, n.hash
		FROM unnest($1::smallint[], $2::bigint[]) AS q(level, idx)
		JOIN audit_nodes n ON n.level = q.level AND n.idx = q.idx`, levels, idxs)
	if err != nil {
		return nil, classify(fmt.Errorf("read nodes: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var level int16
		var idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return nil, classify(fmt.Errorf("read nodes: %w", err))
		}
		for _, pos := range want[audit.NodeID{Level: uint(level), Index: uint64(idx)}] {
			out[pos] = h
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("read nodes: %w", err))
	}
	return out, nil
}

// Hashes implements [audit.HashReader] over the committed log.
func (a *Archive) Hashes(ctx context.Context, ids []audit.NodeID) ([][]byte, error) {
	return nodeReader{a.pool}.Hashes(ctx, ids)
}

// Size returns the number of leaves in the log.
func (a *Archive) Size(ctx context.Context) (uint64, error) {
	var size int64
	if err := a.pool.QueryRow(ctx, `SELECT size FROM audit_head WHERE id = 1`).Scan(&size); err != nil {
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
	if size > math.MaxInt64 {
		return faldone.Errorf(faldone.ECONFLICT, "checkpoint size %d exceeds the log", size)
	}
	var logSize int64
	var saved bool
	err := a.pool.QueryRow(ctx, `WITH h AS (SELECT size FROM audit_head WHERE id = 1),
		ins AS (INSERT INTO checkpoints (size, note) SELECT $1, $2 FROM h WHERE h.size >= $1 RETURNING 1)
		SELECT h.size, EXISTS (SELECT 1 FROM ins) FROM h`, int64(size), note).Scan(&logSize, &saved)
	if err != nil {
		return classify(fmt.Errorf("save checkpoint: %w", err))
	}
	if !saved {
		return faldone.Errorf(faldone.ECONFLICT, "checkpoint size %d exceeds the log size %d", size, logSize)
	}
	return nil
}

// Checkpoints returns every stored checkpoint note in the order saved.
func (a *Archive) Checkpoints(ctx context.Context) ([][]byte, error) {
	rows, err := a.pool.Query(ctx, `SELECT note FROM checkpoints ORDER BY seq`)
	if err != nil {
		return nil, classify(fmt.Errorf("checkpoints: %w", err))
	}
	notes, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, classify(fmt.Errorf("checkpoints: %w", err))
	}
	if notes == nil {
		notes = [][]byte{}
	}
	return notes, nil
}

// LatestCheckpoint returns the stored checkpoint of the largest size (the
// last saved among equal sizes), or ENOTFOUND when there is none.
func (a *Archive) LatestCheckpoint(ctx context.Context) (size uint64, note []byte, err error) {
	var s int64
	err = a.pool.QueryRow(ctx, `SELECT size, note FROM checkpoints ORDER BY size DESC, seq DESC LIMIT 1`).Scan(&s, &note)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, faldone.Errorf(faldone.ENOTFOUND, "no checkpoint saved")
	}
	if err != nil {
		return 0, nil, classify(fmt.Errorf("latest checkpoint: %w", err))
	}
	return uint64(s), note, nil
}

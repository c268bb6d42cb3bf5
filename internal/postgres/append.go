package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"faldone/internal/archive"
	"faldone/internal/audit"
	"faldone/internal/faldone"
)

// Append stores a new version, its PDF, its leaf and the tree nodes the
// leaf completes in one transaction, shared with the appends that wait
// with it (see committer), holding the log head row lock from reading the
// log size until commit. It returns once that transaction committed. It
// returns EINVALID for a record that does not match its PDF, ENOTFOUND
// for a later version of an unknown id, ECONFLICT for a wrong version. On
// success it sets rec.Leaf and fills SHA256, Size, PrevSHA and Created
// when they were empty; on failure rec is unchanged.
func (a *Archive) Append(ctx context.Context, rec *faldone.Record, pdf []byte) error {
	if rec == nil {
		return faldone.Errorf(faldone.EINVALID, "append: no record")
	}
	r := *rec
	if err := archive.Prepare(&r, pdf, a.now); err != nil {
		return err
	}
	inline := pdf
	if a.Objects != nil {
		// The object first: a record never names an absent one.
		if err := a.Objects.Put(ctx, r.SHA256, pdf); err != nil {
			return fmt.Errorf("append %s v%d: %w", r.ID, r.Version, err)
		}
		inline = nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	leaf, err := a.group.append(&r, inline)
	if err != nil {
		if faldone.ErrorCode(err) != faldone.EINTERNAL {
			return err
		}
		return classify(fmt.Errorf("append %s v%d: %w", r.ID, r.Version, err))
	}
	r.Leaf = leaf
	*rec = r
	return nil
}

// appendTx runs the statements of an append and returns the leaf index.
// A nil pdf is kept in the object store, not in the blobs table.
// The caller holds the log head's row lock. A refusal (the version rules,
// the clock, a stored copy of the PDF that differs from it) returns before
// anything is written; any other error leaves the transaction to be
// rolled back.
func appendTx(ctx context.Context, tx pgx.Tx, r *faldone.Record, pdf []byte) (int64, error) {
	var size int64
	var stored *bool // the PDF is in the blobs table already
	if err := tx.QueryRow(ctx, `SELECT size, (SELECT true FROM blobs WHERE sha256 = $1) FROM audit_head WHERE id = 1`, r.SHA256).Scan(&size, &stored); err != nil {
		return 0, classify(fmt.Errorf("read log size: %w", err))
	}
	if pdf != nil && stored != nil {
		// It must be these bytes; it is not written again.
		var same bool
		if err := tx.QueryRow(ctx, `SELECT data = $2 FROM blobs WHERE sha256 = $1`, r.SHA256, pdf).Scan(&same); err != nil {
			return 0, classify(fmt.Errorf("compare stored PDF: %w", err))
		}
		if !same {
			return 0, archive.StoredBlobDiffers("row "+r.SHA256+" of table blobs", r.SHA256)
		}
		pdf = nil
	}
	var latest *faldone.Record
	var v int
	var sha string
	err := tx.QueryRow(ctx, `SELECT version, sha256 FROM records WHERE id = $1 ORDER BY version DESC LIMIT 1`, r.ID).Scan(&v, &sha)
	switch {
	case err == nil:
		latest = &faldone.Record{ID: r.ID, Version: v, SHA256: sha}
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, classify(fmt.Errorf("read latest version: %w", err))
	}
	if err := archive.Next(r, latest); err != nil {
		return 0, err
	}
	if size > 0 {
		var last []byte
		if err := tx.QueryRow(ctx, `SELECT body FROM records WHERE leaf_index = $1`, size-1).Scan(&last); err != nil {
			return 0, classify(fmt.Errorf("read the newest record: %w", err))
		}
		if err := archive.NotBefore(r, last); err != nil {
			return 0, err
		}
	}
	body, leafHash := archive.Encode(r)
	nodes, err := audit.Append(ctx, nodeReader{tx}, uint64(size), leafHash)
	if err != nil {
		return 0, err
	}
	levels := make([]int16, len(nodes))
	idxs := make([]int64, len(nodes))
	hashes := make([][]byte, len(nodes))
	for i, n := range nodes {
		levels[i], idxs[i], hashes[i] = int16(n.ID.Level), int64(n.ID.Index), n.Hash
	}
	b := &pgx.Batch{}
	if pdf != nil {
		b.Queue(`INSERT INTO blobs (sha256, data) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING`, r.SHA256, pdf)
	}
	b.Queue(`INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`, levels, idxs, hashes)
	signer, trusted := archive.SignerColumns(r)
	b.Queue(`INSERT INTO records (leaf_index, id, version, comune, sha256, body, signer_sha256, signer_trusted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		size, r.ID, r.Version, r.Comune, r.SHA256, body, signer, trusted)
	b.Queue(`UPDATE audit_head SET size = $1 WHERE id = 1`, size+1)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, classify(fmt.Errorf("insert: %w", err))
	}
	return size, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"faldone/internal/archive"
	"faldone/internal/audit"
	"faldone/internal/faldone"
)

// Append stores a new version: in one BEGIN IMMEDIATE transaction shared
// with the appends that wait with it (see committer), it checks the
// version rules, inserts the record, its PDF (unless the PDFs are in an
// object store, where it is written durably first) and its leaf with the
// tree nodes it completes, and grows the log. It
// returns only once that transaction is durable. It returns EINVALID for a
// record that does not match its PDF, ENOTFOUND for a later version of an
// unknown id, ECONFLICT for a wrong version. On success it sets rec.Leaf
// and fills SHA256, Size, PrevSHA and Created when they were empty; on
// failure rec is unchanged.
func (a *Archive) Append(ctx context.Context, rec *faldone.Record, pdf []byte) error {
	if rec == nil {
		return faldone.Errorf(faldone.EINVALID, "append: no record")
	}
	r := *rec
	if err := archive.Prepare(&r, pdf, a.now); err != nil {
		return err
	}
	if a.Objects != nil {
		// The group reserves the space of what goes into the database
		// (reserve); this is for the record's, before the PDF goes out.
		if err := a.checkSpace(len(pdf)); err != nil {
			return err
		}
		if err := a.Objects.Put(ctx, r.SHA256, pdf); err != nil {
			return classify(fmt.Errorf("append %s v%d: %w", r.ID, r.Version, err))
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	leaf, err := a.group.append(&r, pdf)
	if err != nil {
		return err
	}
	r.Leaf = leaf
	*rec = r
	return nil
}

// insert adds one record to the group's transaction tx and returns its
// leaf index. It writes nothing when it fails; the caller rolls back to a
// savepoint when it fails after writing.
func (a *Archive) insert(ctx context.Context, tx *preparedTx, r *faldone.Record, pdf []byte) (int64, error) {
	fail := func(err error) (int64, error) {
		if faldone.ErrorCode(err) != faldone.EINTERNAL {
			return 0, err
		}
		return 0, classify(fmt.Errorf("append %s v%d: %w", r.ID, r.Version, err))
	}
	var latest *faldone.Record
	var v int
	var sha string
	err := tx.QueryRowContext(ctx, qLatestVersion, r.ID).Scan(&v, &sha)
	switch {
	case err == nil:
		latest = &faldone.Record{ID: r.ID, Version: v, SHA256: sha}
	case !errors.Is(err, sql.ErrNoRows):
		return fail(err)
	}
	if err := archive.Next(r, latest); err != nil {
		return fail(err)
	}

	var size int64
	if err := tx.QueryRowContext(ctx, qLogSize).Scan(&size); err != nil {
		return fail(fmt.Errorf("read log size: %w", err))
	}
	if size > 0 {
		var last []byte
		if err := tx.QueryRowContext(ctx, qRecordBody, size-1).Scan(&last); err != nil {
			return fail(fmt.Errorf("read the newest record: %w", err))
		}
		if err := archive.NotBefore(r, last); err != nil {
			return fail(err)
		}
	}
	body, leafHash := archive.Encode(r)
	nodes, err := audit.Append(ctx, nodeReader{tx}, uint64(size), leafHash)
	if err != nil {
		return fail(err)
	}
	for _, n := range nodes {
		if _, err := tx.ExecContext(ctx, qInsertNode, int64(n.ID.Level), int64(n.ID.Index), n.Hash); err != nil {
			return fail(fmt.Errorf("insert node %s: %w", n.ID, err))
		}
	}
	signer, trusted := archive.SignerColumns(r)
	if _, err := tx.ExecContext(ctx, qInsertRecord,
		size, r.ID, r.Version, r.Comune, r.SHA256, body, signer, trusted); err != nil {
		return fail(fmt.Errorf("insert record: %w", err))
	}
	if _, err := tx.ExecContext(ctx, qGrowLog, size+1); err != nil {
		return fail(fmt.Errorf("grow log: %w", err))
	}
	// The PDF commits with its record; one already there is kept, once
	// checked to be these bytes.
	if a.Objects == nil {
		if same, err := storeBlob(ctx, tx, r.SHA256, pdf); err != nil {
			return fail(err)
		} else if !same {
			return fail(archive.StoredBlobDiffers(a.rowName(r.SHA256), r.SHA256))
		}
	}
	return size, nil
}

// execQuerier is a transaction, compiled statements or not.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// storeBlob inserts the PDF data, whose SHA-256 is sum, into the blobs
// table in tx; one already there is kept, and same reports whether it is
// these bytes.
func storeBlob(ctx context.Context, tx execQuerier, sum string, data []byte) (same bool, err error) {
	res, err := tx.ExecContext(ctx, qInsertBlob, sum, data)
	if err != nil {
		return false, fmt.Errorf("insert PDF: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err == nil, err
	}
	if err := tx.QueryRowContext(ctx, qSameBlob, sum, data).Scan(&same); err != nil {
		return false, fmt.Errorf("compare stored PDF: %w", err)
	}
	return same, nil
}

// busyHint adds a hint to errors that mean another process holds the
// database.
func busyHint(err error) error {
	if err != nil && (containsAny(err.Error(), "SQLITE_BUSY", "database is locked")) {
		return &faldone.Error{Code: faldone.EUNAVAILABLE,
			Message: "the archive database is locked by another writer; retry, and check that no other process keeps a write transaction open",
			Err:     err}
	}
	return err
}

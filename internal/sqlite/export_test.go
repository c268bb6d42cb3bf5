package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// ExecRaw runs a statement on the write connection, triggers included.
func (a *Archive) ExecRaw(ctx context.Context, query string) error {
	_, err := a.w.ExecContext(ctx, query)
	return err
}

// TamperRecord overwrites the body of the record at leaf, dropping the
// trigger that forbids it.
func (a *Archive) TamperRecord(ctx context.Context, leaf int64, body []byte) error {
	return a.tamper(ctx, "records_no_update", `UPDATE records SET body = ? WHERE leaf_index = ?`, body, leaf)
}

// TamperBlob overwrites a PDF in the blobs table, dropping the trigger
// that forbids it.
func (a *Archive) TamperBlob(ctx context.Context, sum string, data []byte) error {
	return a.tamper(ctx, "blobs_no_update", `UPDATE blobs SET data = ? WHERE sha256 = ?`, data, sum)
}

// tamper drops trigger and runs query, which must change one row.
func (a *Archive) tamper(ctx context.Context, trigger, query string, args ...any) error {
	if _, err := a.w.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+trigger); err != nil {
		return err
	}
	res, err := a.w.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("tamper: %d rows changed by %s", n, query)
	}
	return nil
}

// BlobRows counts the PDFs in the blobs table.
func (a *Archive) BlobRows(ctx context.Context) (n int, err error) {
	err = a.r.QueryRowContext(ctx, `SELECT count(*) FROM blobs`).Scan(&n)
	return n, err
}

// MoveBlobToFile takes a PDF out of the blobs table (dropping the trigger
// that forbids it) and writes it as a file in layout 0 (blobs/ab/) or 1
// (blobs/ab/cd/), as an archive written before kept it; it returns the
// file.
func (a *Archive) MoveBlobToFile(ctx context.Context, sum string, layout int) (string, error) {
	var data []byte
	if err := a.w.QueryRowContext(ctx, `SELECT data FROM blobs WHERE sha256 = ?`, sum).Scan(&data); err != nil {
		return "", err
	}
	if err := a.DeleteBlob(ctx, sum); err != nil {
		return "", err
	}
	p := a.files.path(sum)
	if layout == 1 {
		p = a.files.legacyPath(sum)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, data, 0o600)
}

// DeleteBlob removes a PDF from the blobs table, dropping the trigger
// that forbids it.
func (a *Archive) DeleteBlob(ctx context.Context, sum string) error {
	if _, err := a.w.ExecContext(ctx, `DROP TRIGGER IF EXISTS blobs_no_delete`); err != nil {
		return err
	}
	_, err := a.w.ExecContext(ctx, `DELETE FROM blobs WHERE sha256 = ?`, sum)
	return err
}

// Pending returns how many appends are queued or in a group, not yet
// answered.
func (a *Archive) Pending() int64 { return a.group.Unanswered() }

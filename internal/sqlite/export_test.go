package sqlite

import (
	"context"
	"fmt"
	"os"
)

// ExecRaw runs a statement on the write connection, triggers included.
func (a *Archive) ExecRaw(ctx context.Context, query string) error {
	_, err := a.w.ExecContext(ctx, query)
	return err
}

// TamperRecord overwrites the body of the record at leaf, dropping the
// trigger that forbids it.
func (a *Archive) TamperRecord(ctx context.Context, leaf int64, body []byte) error {
	if _, err := a.w.ExecContext(ctx, `DROP TRIGGER records_no_update`); err != nil {
		return err
	}
	res, err := a.w.ExecContext(ctx, `UPDATE records SET body = ? WHERE leaf_index = ?`, body, leaf)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("tamper record: %d rows at leaf %d", n, leaf)
	}
	return nil
}

// TamperBlob overwrites a blob file in place.
func (a *Archive) TamperBlob(_ context.Context, sum string, data []byte) error {
	return os.WriteFile(a.blobs.path(sum), data, 0o600)
}

// BlobPath returns the file of a blob.
func (a *Archive) BlobPath(sum string) string { return a.blobs.path(sum) }

// Pending returns how many appends are queued or in a group, not yet
// answered.
func (a *Archive) Pending() int64 { return a.group.Unanswered() }

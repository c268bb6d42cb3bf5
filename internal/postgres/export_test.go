package postgres

import (
	"context"
	"fmt"
)

// ExecRaw runs a statement on the pool, triggers included.
func (a *Archive) ExecRaw(ctx context.Context, query string) error {
	_, err := a.pool.Exec(ctx, query)
	return err
}

// TamperRecord overwrites the body of the record at leaf with the
// table's triggers disabled.
func (a *Archive) TamperRecord(ctx context.Context, leaf int64, body []byte) error {
	return a.tamper(ctx, "records", `UPDATE records SET body = $1 WHERE leaf_index = $2`, body, leaf)
}

// TamperBlob overwrites the bytes of a PDF with the table's triggers
// disabled.
func (a *Archive) TamperBlob(ctx context.Context, sum string, data []byte) error {
	return a.tamper(ctx, "blobs", `UPDATE blobs SET data = $1 WHERE sha256 = $2`, data, sum)
}

func (a *Archive) tamper(ctx context.Context, table, query string, args ...any) error {
	if _, err := a.pool.Exec(ctx, `ALTER TABLE `+table+` DISABLE TRIGGER USER`); err != nil {
		return err
	}
	tag, err := a.pool.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("tamper %s: %d rows", table, tag.RowsAffected())
	}
	_, err = a.pool.Exec(ctx, `ALTER TABLE `+table+` ENABLE TRIGGER USER`)
	return err
}

// Pending returns how many appends are queued or in a group, not yet
// answered.
func (a *Archive) Pending() int64 { return a.group.Unanswered() }

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// The statements of an append. A group runs a dozen of them for each
// record; they are compiled once, on the writing connection, instead of
// every time.
const (
	qSavepoint     = `SAVEPOINT append`
	qRollbackTo    = `ROLLBACK TO append`
	qRelease       = `RELEASE append`
	qLatestVersion = `SELECT version, sha256 FROM records WHERE id = ? ORDER BY version DESC LIMIT 1`
	qLogSize       = `SELECT size FROM audit_head WHERE id = 1`
	qRecordBody    = `SELECT body FROM records WHERE leaf_index = ?`
	qInsertNode    = `INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)`
	qInsertRecord  = `INSERT INTO records (leaf_index, id, version, comune, sha256, body, signer_sha256, signer_trusted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qGrowLog       = `UPDATE audit_head SET size = ? WHERE id = 1`
	qNodeRange     = `SELECT idx, hash FROM audit_nodes WHERE level = ? AND idx BETWEEN ? AND ?`
	qNode          = `SELECT idx, hash FROM audit_nodes WHERE level = ? AND idx = ?`
	qInsertBlob    = `INSERT INTO blobs (sha256, data) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING`
	qSameBlob      = `SELECT data = ?2 FROM blobs WHERE sha256 = ?1`
)

// prepare compiles the statements of an append on the writing connection.
// The archive's schema must be in place.
func (a *Archive) prepare(ctx context.Context) error {
	a.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{qSavepoint, qRollbackTo, qRelease, qLatestVersion, qLogSize, qRecordBody,
		qInsertNode, qInsertRecord, qGrowLog, qNodeRange, qNode, qInsertBlob, qSameBlob} {
		s, err := a.w.PrepareContext(ctx, q)
		if err != nil {
			a.closeStmts()
			return fmt.Errorf("open sqlite archive %s: prepare %q: %w", a.path, q, err)
		}
		a.stmts[q] = s
	}
	return nil
}

func (a *Archive) closeStmts() {
	for _, s := range a.stmts {
		s.Close()
	}
	a.stmts = nil
}

// preparedTx runs a transaction's statements through the archive's
// compiled ones where it has them, and as plain queries otherwise; it
// binds each compiled statement to the transaction once.
type preparedTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt // the archive's
	bound map[string]*sql.Stmt // bound to Tx
}

func newPreparedTx(tx *sql.Tx, stmts map[string]*sql.Stmt) *preparedTx {
	return &preparedTx{Tx: tx, stmts: stmts, bound: make(map[string]*sql.Stmt, len(stmts))}
}

// stmt returns query's statement bound to the transaction, or nil.
func (t *preparedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if s, ok := t.bound[query]; ok {
		return s
	}
	s, ok := t.stmts[query]
	if !ok {
		return nil
	}
	s = t.StmtContext(ctx, s)
	t.bound[query] = s
	return s
}

func (t *preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

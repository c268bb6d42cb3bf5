// Package sqlite is the embedded storage engine of faldone: records, their
// PDFs, the audit log and checkpoints in one SQLite database
// (modernc.org/sqlite, no cgo).
//
// One process writes at a time: appends run in BEGIN IMMEDIATE
// transactions on a single connection, the database is in WAL mode with
// synchronous=FULL, and readers use a separate read-only pool. A PDF is
// inserted, by its SHA-256, in the transaction that inserts its record, so
// no record ever lacks its PDF and no PDF is left without a record.
// Archives written before kept the PDFs as files (blobs/ab/<sha256>.pdf),
// where they are still read.
//
// Appends commit in groups: concurrent appends wait in a queue, and one
// goroutine commits all that wait in one transaction (one fsync of the
// WAL), then answers each; an append returns only once its group is
// durable.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"faldone/internal/archive"
	"faldone/internal/faldone"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// walLimit is the size the WAL file is cut back to after a checkpoint.
const walLimit = 64 << 20

// busyTimeout is how long a writer waits for another process's write lock.
const busyTimeout = 10 * time.Second

// Archive is a [faldone.Archive] stored in SQLite. It is
// safe for concurrent use; several processes may share the files, one
// writing at a time.
type Archive struct {
	// Now returns the time given to records appended without one.
	// Optional: if nil, time.Now is used.
	Now func() time.Time
	// Objects keeps the PDFs in an object store instead of the
	// database. Optional: set it before the archive is used.
	Objects archive.Blobs
	// MinFree is the free space, in bytes, that appends leave on the
	// database's file system: an append that would go under it, alone or
	// with the others of its group, is refused with ESTORAGE before
	// anything is written. Optional: with 0 an append is refused only
	// when the disk has not room for it (twice its PDF and its record).
	MinFree int64

	path  string
	w     *sql.DB   // one connection, BEGIN IMMEDIATE
	r     *sql.DB   // read-only pool
	files fileBlobs // the PDFs of archives written before, as files
	group committer
	stmts map[string]*sql.Stmt // the append's, on w
}

var _ faldone.Archive = (*Archive)(nil)

// Open opens (creating if needed) the archive database at path and
// applies pending schema migrations. blobDir is where archives written
// before kept the PDFs as files, still read; if empty, "blobs" beside the
// database is used.
func Open(ctx context.Context, path, blobDir string) (*Archive, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite archive: invalid path %q: want a plain file path", path)
	}
	if blobDir == "" {
		blobDir = filepath.Join(filepath.Dir(path), "blobs")
	}
	if err := mkdirSync(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("open sqlite archive %s: %w", path, err)
	}
	a := &Archive{path: path, files: fileBlobs{dir: filepath.Clean(blobDir)}}
	var err error
	if a.w, err = openDB(path, "immediate", false); err != nil {
		return nil, err
	}
	a.w.SetMaxOpenConns(1)
	a.w.SetMaxIdleConns(1)
	a.w.SetConnMaxIdleTime(0)
	a.w.SetConnMaxLifetime(0)
	if err := a.w.PingContext(ctx); err != nil {
		a.w.Close()
		return nil, fmt.Errorf("open sqlite archive %s: %w (check that the directory is writable and the file is a SQLite database)", path, err)
	}
	if err := a.Migrate(ctx); err != nil {
		a.w.Close()
		return nil, err
	}
	if err := a.prepare(ctx); err != nil {
		a.w.Close()
		return nil, err
	}
	if a.r, err = openDB(path, "deferred", true); err != nil {
		a.closeStmts()
		a.w.Close()
		return nil, err
	}
	a.r.SetMaxOpenConns(8)
	a.r.SetMaxIdleConns(8)
	a.group.start(a)
	return a, nil
}

// openDB opens a pool on path with the pragmas every connection needs.
func openDB(path, txlock string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	// INSERT OR REPLACE fires the append-only tables' delete triggers.
	q.Add("_pragma", "recursive_triggers(ON)")
	// The WAL, which holds the PDFs of the last groups until a checkpoint
	// copies them, shrinks back to this once checkpointed.
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walLimit))
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	}
	q.Set("_txlock", txlock)
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite archive %s: %w", path, err)
	}
	return db, nil
}

// Local reports whether an append waits for no other server: the PDFs
// are in the database, not in an object store.
func (a *Archive) Local() bool { return a.Objects == nil }

// Writer returns the archive's one writing connection (BEGIN IMMEDIATE),
// for a job queue in the same database to share, so that their writes
// wait for each other in the pool rather than in SQLite's busy handler.
// A transaction on it MUST NOT wait for another of the archive's writes.
func (a *Archive) Writer() *sql.DB { return a.w }

// Close closes the database pools.
func (a *Archive) Close() error {
	a.group.stop()
	a.closeStmts()
	var errs []error
	if a.r != nil {
		errs = append(errs, a.r.Close())
	}
	if a.w != nil {
		errs = append(errs, a.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite archive %s: %w", a.path, err)
	}
	return nil
}

// Migrate applies the embedded schema migrations the database lacks, in
// one transaction, and records them in schema_migrations. Open calls it;
// running it again does nothing.
func (a *Archive) Migrate(ctx context.Context) error {
	ms, err := archive.Migrations(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("migrate %s: %w", a.path, err)
	}
	tx, err := a.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", a.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate %s: %w", a.path, err)
	}
	var applied []int
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", a.path, err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate %s: %w", a.path, err)
		}
		applied = append(applied, v)
	}
	rows.Close()
	pending, err := archive.Pending(ms, applied)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", a.path, err)
	}
	for _, m := range pending {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate %s: %s: %w", a.path, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("migrate %s: %s: %w", a.path, m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", a.path, err)
	}
	return nil
}

// now returns the archive's current time.
func (a *Archive) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// mkdirSync creates dir and its missing parents, fsyncing each parent
// that gains an entry.
func mkdirSync(dir string) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("mkdir %s: not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirSync(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil
		}
		return fmt.Errorf("mkdir: %w", err)
	}
	return syncDir(filepath.Dir(dir))
}

// syncDir fsyncs a directory so that entries created or renamed in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// Package postgres is the storage engine of faldone for deployments that
// outgrow one machine: records, PDFs, the audit log and its checkpoints in
// one PostgreSQL database (pgx/v5), so that several `faldone serve`
// instances share one archive and one tree.
//
// An append is one transaction: it locks the log head row (SELECT ... FOR
// UPDATE), which orders appenders across every instance, takes the log
// size as its leaf index, and stores the PDF, the record, the leaf and the
// tree nodes it completes before moving the size on. A rolled-back append
// leaves nothing behind, so leaf indexes have no gaps.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key that serialises schema
// migrations of instances starting together ("faldone" in ASCII).
const migrationLock = 0x6661_6c64_6f6e_65

// Archive is a [faldone.Archive] stored in PostgreSQL. It is safe for
// concurrent use, and any number of Archives, in any number of processes,
// may share one database.
type Archive struct {
	// Now returns the time given to records appended without one.
	// Optional: if nil, time.Now is used.
	Now func() time.Time
	// Objects keeps the PDFs in an object store instead of the blobs
	// table. Optional: set it before the archive is used.
	Objects archive.Blobs

	pool  *pgxpool.Pool
	name  string // database name, for messages
	group committer
}

var _ faldone.Archive = (*Archive)(nil)

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string, pool settings such as pool_max_conns included) and
// applies pending schema migrations. The database MUST exist. It returns
// EUNAVAILABLE when the server cannot be reached.
func Open(ctx context.Context, url string) (*Archive, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres archive: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres archive: %w", err)
	}
	a := &Archive{pool: pool, name: fmt.Sprintf("%s@%s:%d/%s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE,
			Message: fmt.Sprintf("open postgres archive %s: cannot connect (is the server up, and do the URL's host, port, user and database exist?)", a.name),
			Err:     err}
	}
	if err := a.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	a.group.start(a)
	return a, nil
}

// Close commits the appends that wait and closes the connection pool.
func (a *Archive) Close() error {
	a.group.stop()
	a.pool.Close()
	return nil
}

// Migrate applies the embedded schema migrations the database lacks, in
// one transaction under an advisory lock (instances starting together
// wait for each other), and records them in schema_migrations. Open calls
// it; running it again does nothing.
func (a *Archive) Migrate(ctx context.Context) error {
	ms, err := archive.Migrations(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("migrate %s: %w", a.name, err)
	}
	err = pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    int PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		pending, err := archive.Pending(ms, applied)
		if err != nil {
			return err
		}
		for _, m := range pending {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate %s: %w", a.name, err)
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

// Package queue is faldone's durable job queue: River
// (github.com/riverqueue/river) in the archive's own database, SQLite or
// PostgreSQL, reached through database/sql on both engines so that the
// packages on top (batch, webhook) write their rows and insert their jobs
// in one transaction with the same code.
//
// On SQLite the queue has its own connection to the archive's file (one
// writer at a time, BEGIN IMMEDIATE, WAL, synchronous=FULL). On
// PostgreSQL it uses pgx's database/sql adapter; several instances on one
// database share the work, and River elects one of them to rescue the
// jobs of an instance that died.
//
// The tables of the packages on top are created by the numbered
// migrations of this package, from 0100 on, recorded in queue_migrations
// apart from the archive's schema_migrations.
package queue

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Engine names a storage engine.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// migrationLock is the advisory lock that serialises the queue's
// migrations across instances starting together on PostgreSQL.
const migrationLock = 0x6661_6c64_7175_65

// Queue is the job queue of one archive database.
type Queue struct {
	// DB is the queue's pool on the archive database.
	DB *sql.DB
	// Engine is the database's engine.
	Engine Engine
	// Workers are the job kinds this process works; register them before
	// Start.
	Workers *river.Workers

	client *river.Client[*sql.Tx]
	own    bool // Close closes DB
	sqlite *riversqlite.Driver
	pg     *riverdatabasesql.Driver
}

// OpenSQLite opens the queue in the SQLite archive database at path, on a
// connection of its own, and applies its migrations. A process that has
// the archive open SHOULD use OpenSQLiteDB with the archive's writer
// instead: two writing connections in one process wait for each other in
// SQLite's busy handler, which sleeps.
func OpenSQLite(ctx context.Context, path string) (*Queue, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	// SQLite writes one at a time: River's goroutines and ours share one
	// connection rather than fail with SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	qu, err := OpenSQLiteDB(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	qu.own = true
	return qu, nil
}

// OpenSQLiteDB opens the queue on db, the one writing connection of a
// SQLite archive (BEGIN IMMEDIATE, WAL), and applies its migrations. The
// queue's writes and the archive's then wait for each other in the pool,
// not in SQLite's busy handler. Close leaves db open.
func OpenSQLiteDB(ctx context.Context, db *sql.DB) (*Queue, error) {
	qu := &Queue{DB: db, Engine: SQLite, Workers: river.NewWorkers(), sqlite: riversqlite.New(db)}
	if err := qu.migrate(ctx); err != nil {
		return nil, err
	}
	return qu, nil
}

// OpenPostgres opens the queue in the PostgreSQL archive database at url
// and applies its migrations.
func OpenPostgres(ctx context.Context, url string) (*Queue, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open queue: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	qu := &Queue{DB: db, Engine: Postgres, Workers: river.NewWorkers(), pg: riverdatabasesql.New(db), own: true}
	if err := qu.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return qu, nil
}

func (q *Queue) driver() riverdriver.Driver[*sql.Tx] {
	if q.sqlite != nil {
		return q.sqlite
	}
	return q.pg
}

// migrate applies River's migrations and then this package's.
func (q *Queue) migrate(ctx context.Context) error {
	if q.Engine == Postgres {
		conn, err := q.DB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	}
	m, err := rivermigrate.New(q.driver(), &rivermigrate.Config{Logger: quiet()})
	if err != nil {
		return fmt.Errorf("migrate queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate queue (river): %w", err)
	}
	return q.migrateOwn(ctx)
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrateOwn applies the migrations/NNNN_name.sql files not yet recorded
// in queue_migrations, in order, in one transaction.
func (q *Queue) migrateOwn(ctx context.Context) error {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migrate queue: %s: want NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return err
		}
		ms = append(ms, migration{v, strings.TrimSuffix(e.Name(), ".sql"), string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return q.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS queue_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL
		)`); err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		done := map[int]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM queue_migrations`)
		if err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			done[v] = true
		}
		rows.Close()
		for _, m := range ms {
			if done[m.version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migrate queue: %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO queue_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
				return fmt.Errorf("migrate queue: %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// Tx runs fn in a transaction and commits it when fn returns nil.
func (q *Queue) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := q.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Config tunes the working side of the queue.
type Config struct {
	// Workers is how many jobs this process works at once. Optional:
	// default 8.
	Workers int
	// JobTimeout is the deadline of one job. Optional: default 1 minute.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken
	// for the work of a dead process and run again; it MUST be longer
	// than JobTimeout. Optional: default JobTimeout + 1 minute.
	RescueAfter time.Duration
	// PollInterval is how often idle workers look for new jobs. Optional:
	// default 200ms.
	PollInterval time.Duration
	// FetchCooldown is the least time between two fetches of jobs: longer
	// fetches more jobs at once, in fewer transactions. Optional: default
	// 20ms.
	FetchCooldown time.Duration
	// Logger receives River's warnings. Optional.
	Logger *slog.Logger
	// InsertOnly makes a client that inserts jobs but works none.
	InsertOnly bool
	// Periodic are jobs the elected instance inserts on a schedule.
	Periodic []*river.PeriodicJob
}

// Client makes the River client of the queue with the workers registered
// so far. Call it once, after every worker is registered.
func (q *Queue) Client(cfg Config) (*river.Client[*sql.Tx], error) {
	if q.client != nil {
		return q.client, nil
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = time.Minute
	}
	if cfg.RescueAfter <= cfg.JobTimeout {
		cfg.RescueAfter = cfg.JobTimeout + time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.FetchCooldown <= 0 {
		cfg.FetchCooldown = 20 * time.Millisecond
	}
	logger := cfg.Logger
	if logger == nil {
		logger = quiet()
	} else {
		logger = slog.New(levelHandler{slog.LevelWarn, logger.Handler()})
	}
	rc := &river.Config{
		Logger:               logger,
		Workers:              q.Workers,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchCooldown:        cfg.FetchCooldown,
		FetchPollInterval:    cfg.PollInterval,
		MaxAttempts:          25,
	}
	if !cfg.InsertOnly {
		rc.PeriodicJobs = cfg.Periodic
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	c, err := river.NewClient(q.driver(), rc)
	if err != nil {
		return nil, fmt.Errorf("queue client: %w", err)
	}
	q.client = c
	return c, nil
}

// River returns the client made by Client, or nil.
func (q *Queue) River() *river.Client[*sql.Tx] { return q.client }

// CompleteTx marks job completed in tx, so that the job's effects and its
// completion commit together.
func CompleteTx[T river.JobArgs](ctx context.Context, q *Queue, tx *sql.Tx, job *river.Job[T]) error {
	var err error
	if q.sqlite != nil {
		_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
	} else {
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job)
	}
	if err != nil {
		return fmt.Errorf("complete job %d: %w", job.ID, err)
	}
	return nil
}

// Close closes the queue's pool, unless it is an archive's (see
// OpenSQLiteDB); stop the client first.
func (q *Queue) Close() error {
	if !q.own {
		return nil
	}
	return q.DB.Close()
}

// quiet is a logger of River's errors only.
func quiet() *slog.Logger {
	return slog.New(levelHandler{slog.LevelError, slog.Default().Handler()})
}

// levelHandler drops records below a level.
type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{h.min, h.Handler.WithAttrs(a)}
}

func (h levelHandler) WithGroup(n string) slog.Handler {
	return levelHandler{h.min, h.Handler.WithGroup(n)}
}

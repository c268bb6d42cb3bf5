package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"faldone/internal/archive"
)

// Orphan blobs. Archives written before the PDFs moved into the database
// wrote each PDF as a file before the transaction that recorded it, so a
// refused append (the loser of two concurrent uploads of the next
// version, a record dated before the log's newest), a failed one and a
// crash in between left a blob file no record names, or a temporary file.
// CollectGarbage removes them. (A PDF in the database commits with its
// record or not at all: it is never an orphan.) It also moves each file a
// record names into the database, so that an upgraded archive comes to
// keep every PDF in it: the PDF is inserted (once checked against its
// name) and the file removed only after that transaction commits.
//
// It never removes a blob file a record names before its PDF is durable
// in the database: it checks, moves and removes files while holding the
// database's write lock (BEGIN IMMEDIATE), under which no append commits.
// Files modified within grace are left alone.

// GC is the outcome of a collection.
type GC struct {
	Examined int   // blob files looked at
	Removed  int   // orphan blobs and temporary files removed
	Bytes    int64 // their size
	Moved    int   // PDF files a record names moved into the database
}

// gcBatch is how many blobs one write transaction checks.
const gcBatch = 256

// tmpGrace is the least age of a temporary file the collector removes,
// whatever its grace: a write in flight owns it until it renames it.
const tmpGrace = time.Hour

// CollectGarbage removes the blobs that no record names and the
// temporary files of failed writes, if last modified more than grace ago
// (temporary files: and more than an hour ago).
func (a *Archive) CollectGarbage(ctx context.Context, grace time.Duration) (GC, error) {
	var out GC
	cutoff := a.now().Add(-grace)
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := a.collect(ctx, batch, &out)
		batch = batch[:0]
		return err
	}
	err := filepath.WalkDir(a.files.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || ctx.Err() != nil {
			return ctx.Err()
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		out.Examined++
		if info.ModTime().After(cutoff) {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".tmp-") && info.ModTime().After(a.now().Add(-tmpGrace)) {
			return nil
		}
		batch = append(batch, p)
		if len(batch) >= gcBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return out, classify(fmt.Errorf("collect garbage in %s: %w", a.files.dir, err))
	}
	return out, nil
}

// collect removes, under the write lock, the files of paths that are
// temporary files or blobs no record names.
func (a *Archive) collect(ctx context.Context, paths []string, out *GC) error {
	tx, err := a.w.BeginTx(ctx, nil)
	if err != nil {
		return busyHint(err)
	}
	defer tx.Rollback()
	var moved []string
	for _, p := range paths {
		name := filepath.Base(p)
		if !strings.HasPrefix(name, ".tmp-") {
			sum, ok := strings.CutSuffix(name, ".pdf")
			if _, err := archive.ParseSHA256(sum); !ok || err != nil || (a.files.path(sum) != p && a.files.legacyPath(sum) != p) {
				continue // not ours: left alone
			}
			var one int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE sha256 = ?`, sum).Scan(&one)
			if err != nil {
				return err
			}
			if one > 0 {
				if ok, err := moveIn(ctx, tx, p, sum); err != nil {
					return err
				} else if ok {
					moved = append(moved, p)
				}
				continue
			}
		}
		info, err := os.Stat(p)
		if err != nil {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		out.Removed++
		out.Bytes += info.Size()
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Their PDFs are durable in the database: the files can go.
	for _, p := range moved {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		out.Moved++
	}
	return nil
}

// moveIn inserts, in tx, the PDF of file p, which a record names, into the
// blobs table, and reports whether the file may go once tx commits: not
// when it does not hash to sum (the audit names it) nor when the table
// holds other bytes under that name.
func moveIn(ctx context.Context, tx *sql.Tx, p, sum string) (bool, error) {
	b, err := os.ReadFile(p)
	if err != nil || archive.CheckBlob(p, sum, b) != nil {
		return false, nil // gone meanwhile, or damaged: left where it is
	}
	return storeBlob(ctx, tx, sum, b)
}

// RunGC collects garbage every interval until ctx ends, logging through
// logf what it removed and any failure.
func (a *Archive) RunGC(ctx context.Context, interval, grace time.Duration, logf func(msg string, args ...any)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		gc, err := a.CollectGarbage(ctx, grace)
		switch {
		case err != nil && ctx.Err() == nil:
			logf("orphan blob collection failed", "error", err.Error())
		case gc.Removed > 0 || gc.Moved > 0:
			logf("orphan blobs collected", "removed", gc.Removed, "bytes", gc.Bytes, "moved_into_database", gc.Moved, "examined", gc.Examined)
		}
	}
}

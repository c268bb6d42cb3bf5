package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"faldone/internal/faldone"
)

// minReady is the free space below which the archive is never ready,
// whatever MinFree says: a PDF and its database pages need about this.
const minReady = 1 << 20

// freeBytes returns the bytes available to this process on the file
// system of dir.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// recordSpace is the disk space a record, its tree nodes and their WAL
// frames may take.
const recordSpace = 64 << 10

// pdfSpace is the disk space archiving a PDF of n bytes may take on the
// database's file system: its pages in the WAL, then in the database,
// and its record's; only the record's when the PDFs are in an object
// store.
func (a *Archive) pdfSpace(n int) int64 {
	if a.Objects != nil {
		return recordSpace
	}
	return 2*int64(n) + recordSpace
}

// checkSpace returns ESTORAGE when archiving a PDF of n bytes would leave
// less than MinFree free on the database's file system.
func (a *Archive) checkSpace(n int) error {
	free, err := freeBytes(filepath.Dir(a.path))
	if err != nil {
		return err
	}
	return a.spaceLeft(free, a.pdfSpace(n))
}

// reserve refuses with ESTORAGE, before its transaction, each append of a
// group that would leave less than MinFree free once the PDFs of the
// appends before it are written too: each checked alone when it queued,
// together they may not fit.
func (a *Archive) reserve(group []*pending) error {
	free, err := freeBytes(filepath.Dir(a.path))
	if err != nil {
		return classify(fmt.Errorf("append: %w", err))
	}
	var need int64
	for _, p := range group {
		n := a.pdfSpace(len(p.pdf))
		if err := a.spaceLeft(free, need+n); err != nil {
			p.err = err
			continue
		}
		need += n
	}
	return nil
}

// spaceLeft returns ESTORAGE when writing need bytes where free are
// available would leave less than MinFree.
func (a *Archive) spaceLeft(free, need int64) error {
	if free-need < max(a.MinFree, 0) || free < need {
		return &faldone.Error{Code: faldone.ESTORAGE, MessageID: "error.storage_full",
			Message: fmt.Sprintf("the archive's disk has %d bytes free: archiving would leave less than the reserve of %d bytes; nothing was archived", free, a.MinFree)}
	}
	return nil
}

// Ready reports whether the archive can take writes now: the database
// answers, its directory takes a file, and its file system has more than
// MinFree (and at least 1 MiB) free. A full disk is ESTORAGE.
func (a *Archive) Ready(ctx context.Context) error {
	var size int64
	if err := a.r.QueryRowContext(ctx, `SELECT size FROM audit_head WHERE id = 1`).Scan(&size); err != nil {
		return classify(fmt.Errorf("sqlite archive %s: %w", a.path, err))
	}
	dir := filepath.Dir(a.path)
	f, err := os.CreateTemp(dir, ".ready-*")
	if err != nil {
		return classify(fmt.Errorf("the archive's directory %s is not writable: %w", dir, err))
	}
	_, werr := f.Write([]byte("ready\n"))
	serr := f.Sync()
	f.Close()
	os.Remove(f.Name())
	if err := errors.Join(werr, serr); err != nil {
		return classify(fmt.Errorf("the archive's directory %s is not writable: %w", dir, err))
	}
	free, err := freeBytes(dir)
	if err != nil {
		return err
	}
	if free < max(a.MinFree, minReady) {
		return &faldone.Error{Code: faldone.ESTORAGE, MessageID: "error.storage_full",
			Message: fmt.Sprintf("the archive's disk has %d bytes free, under the reserve of %d bytes", free, max(a.MinFree, minReady))}
	}
	return nil
}

// classify gives a storage error the code of what happened: ESTORAGE
// for a full disk or quota (ENOSPC, EDQUOT, SQLITE_FULL), EUNAVAILABLE
// for a database another writer holds. Other errors are returned as
// they are.
func classify(err error) error {
	if err == nil || faldone.ErrorCode(err) != faldone.EINTERNAL {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), "database or disk is full") || strings.Contains(err.Error(), "SQLITE_FULL") {
		return &faldone.Error{Code: faldone.ESTORAGE, MessageID: "error.storage_full",
			Message: "the archive's disk is full; nothing was archived", Err: err}
	}
	return busyHint(err)
}

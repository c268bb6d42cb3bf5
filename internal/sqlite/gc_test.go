package sqlite_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"faldone/internal/archivetest"
	"faldone/internal/faldone"
)

// allPDFs checks that every record's PDF reads back.
func allPDFs(t *testing.T, a interface {
	Walk(context.Context, func(*faldone.Record, []byte) error) error
	PDF(context.Context, string) ([]byte, error)
}) int {
	t.Helper()
	n := 0
	err := a.Walk(context.Background(), func(rec *faldone.Record, _ []byte) error {
		n++
		if _, err := a.PDF(context.Background(), rec.SHA256); err != nil {
			return fmt.Errorf("%s v%d: %w", rec.ID, rec.Version, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCollectGarbage leaves orphan blob files where archives written
// before kept them (a refused or crashed append of those versions), in
// both layouts, a temporary file and a file that is not a blob, and checks
// that a collection removes exactly the orphans and the temporary file,
// once older than the grace period, and moves the file a record names into
// the database. A refused append now leaves nothing to collect.
func TestCollectGarbage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := MustOpen(t, dir)
	named := archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), archivetest.PDF(t, 100))
	namedFile, err := a.MoveBlobToFile(ctx, named.SHA256, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Refused: version 3 of a document at version 1, version 2 of an
	// unknown one.
	for i, r := range []*faldone.Record{archivetest.Record("doc", 3, "037034"), archivetest.Record("other", 2, "037034")} {
		if err := a.Append(ctx, r, archivetest.PDF(t, 200+i)); err == nil {
			t.Fatal("appended")
		}
	}
	tmp := filepath.Join(dir, "blobs", "ab", ".tmp-abcdef01-123")
	os.MkdirAll(filepath.Dir(tmp), 0o750)
	if err := os.WriteFile(tmp, []byte("half a PDF"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "blobs", "README")
	os.WriteFile(foreign, []byte("not a blob"), 0o600)
	var orphans []string
	for i := range 2 {
		orphan := archivetest.PDF(t, 300+i)
		sum := fmt.Sprintf("%x", sha256.Sum256(orphan))
		p := filepath.Join(dir, "blobs", sum[:2], sum+".pdf")
		if i == 1 {
			p = filepath.Join(dir, "blobs", sum[:2], sum[2:4], sum+".pdf")
		}
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, orphan, 0o600); err != nil {
			t.Fatal(err)
		}
		orphans = append(orphans, p)
	}

	gc, err := a.CollectGarbage(ctx, time.Hour)
	if err != nil || gc.Removed != 0 || gc.Examined != 5 {
		t.Fatalf("within the grace period: %+v %v", gc, err)
	}
	old := time.Now().Add(-2 * time.Hour)
	filepath.Walk(filepath.Join(dir, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	gc, err = a.CollectGarbage(ctx, time.Hour)
	if err != nil || gc.Removed != len(orphans)+1 || gc.Moved != 1 {
		t.Fatalf("collect: %+v %v, want %d removed and 1 moved", gc, err, len(orphans)+1)
	}
	for _, p := range append(orphans, tmp, namedFile) {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left", p)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("%s was removed", foreign)
	}
	if n, err := a.BlobRows(ctx); n != 1 || err != nil {
		t.Fatalf("%d PDFs in the database after the move (%v)", n, err)
	}
	if n := allPDFs(t, a); n != 1 {
		t.Fatalf("%d records", n)
	}
	// A file a record names that does not hash to its name stays, for the
	// audit to name.
	other := archivetest.MustAppend(t, a, archivetest.Record("other", 1, "037034"), archivetest.PDF(t, 100))
	damaged, err := a.MoveBlobToFile(ctx, other.SHA256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(damaged, []byte("%PDF-1.7 damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(damaged, old, old)
	if gc, err := a.CollectGarbage(ctx, time.Hour); err != nil || gc.Moved != 0 || gc.Removed != 0 {
		t.Fatalf("collect with a damaged file: %+v %v", gc, err)
	}
	if _, err := os.Stat(damaged); err != nil {
		t.Fatalf("the damaged file was removed: %v", err)
	}
}

package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faldone/internal/archivetest"
	"faldone/internal/auth"
	"faldone/internal/auth/authtest"
	"faldone/internal/faldone"
	"faldone/internal/sqlite"
)

// MustOpen opens an archive in dir and closes it when tb ends.
func MustOpen(tb testing.TB, dir string) *sqlite.Archive {
	tb.Helper()
	a, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := a.Close(); err != nil {
			tb.Error(err)
		}
	})
	return a
}

func TestConformance(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) faldone.Archive { return MustOpen(t, t.TempDir()) })
}

// Two handles on the same files, as two processes would have, append
// concurrently into one gap-free tree.
func TestTwoHandles(t *testing.T) {
	dir := t.TempDir()
	a, b := MustOpen(t, dir), MustOpen(t, dir)
	archivetest.AppendConcurrently(t, []faldone.Archive{a, b}, 4, 10)
	archivetest.CheckLog(t, a, 80)
	archivetest.CheckLog(t, b, 80)
}

// Reopening applies no migration twice and keeps everything.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	a := MustOpen(t, dir)
	r := archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), archivetest.PDF(t, 100))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := MustOpen(t, dir)
	got, err := b.Latest(context.Background(), "doc")
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != r.SHA256 || got.Leaf != 0 {
		t.Fatalf("after reopen: %+v", got)
	}
	archivetest.MustAppend(t, b, archivetest.Record("doc", 2, "037034"), archivetest.PDF(t, 100))
	archivetest.CheckLog(t, b, 2)
}

// A crash after the blob was written and before the row committed leaves
// an orphan blob: it is not served, and archiving the same PDF reuses it.
func TestOrphanBlob(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := MustOpen(t, dir)
	pdf := archivetest.PDF(t, 100)
	// A version 2 of an unknown id fails after the blob is written.
	r := archivetest.Record("doc", 2, "037034")
	if err := a.Append(ctx, r, pdf); faldone.ErrorCode(err) != faldone.ENOTFOUND {
		t.Fatalf("append: %v", err)
	}
	rec := archivetest.Record("doc", 1, "037034")
	sum := fmt.Sprintf("%x", sha256Sum(pdf))
	if _, err := os.Stat(a.BlobPath(sum)); err != nil {
		t.Fatalf("orphan blob: %v", err)
	}
	if _, err := a.PDF(ctx, sum); faldone.ErrorCode(err) != faldone.ENOTFOUND {
		t.Fatalf("PDF of an orphan blob: %v, want ENOTFOUND", err)
	}
	archivetest.MustAppend(t, a, rec, pdf)
	if _, err := a.PDF(ctx, sum); err != nil {
		t.Fatal(err)
	}
	// No temporary files are left behind.
	err := filepath.Walk(filepath.Join(dir, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(fi.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A record whose blob file disappeared is an error naming the file.
func TestMissingBlob(t *testing.T) {
	ctx := context.Background()
	a := MustOpen(t, t.TempDir())
	pdf := archivetest.PDF(t, 100)
	r := archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), pdf)
	if err := os.Remove(a.BlobPath(r.SHA256)); err != nil {
		t.Fatal(err)
	}
	_, err := a.PDF(ctx, r.SHA256)
	if err == nil || faldone.ErrorCode(err) == faldone.ENOTFOUND || !strings.Contains(err.Error(), a.BlobPath(r.SHA256)) {
		t.Fatalf("PDF with its blob gone: %v", err)
	}
	// Appending the same PDF again brings the blob back.
	archivetest.MustAppend(t, a, archivetest.Record("doc", 2, "037034"), pdf)
	if _, err := a.PDF(ctx, r.SHA256); err != nil {
		t.Fatal(err)
	}
}

// The database refuses a leaf that is not the next one.
func TestLeafGapRefused(t *testing.T) {
	a := MustOpen(t, t.TempDir())
	err := a.ExecRaw(context.Background(), `INSERT INTO records (leaf_index, id, version, comune, sha256, body) VALUES (5, 'x', 1, 'c', 's', x'00')`)
	if err == nil || !strings.Contains(err.Error(), "leaf_index") {
		t.Fatalf("insert with a gap: %v", err)
	}
}

// A database from a newer faldone is refused with a hint.
func TestNewerSchema(t *testing.T) {
	dir := t.TempDir()
	a := MustOpen(t, dir)
	if err := a.ExecRaw(context.Background(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 'now')`); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err == nil || !strings.Contains(err.Error(), "upgrade faldone") {
		t.Fatalf("open newer schema: %v", err)
	}
}

func BenchmarkAppend(b *testing.B) {
	a := MustOpen(b, b.TempDir())
	ctx := context.Background()
	pdfs := make([][]byte, b.N)
	for i := range pdfs {
		pdfs[i] = archivetest.PDF(b, 25<<10)
	}
	b.SetBytes(25 << 10)
	b.ResetTimer()
	for i := range b.N {
		if err := a.Append(ctx, archivetest.Record(fmt.Sprintf("bench-%d", i), 1, "037034"), pdfs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestKeyStore(t *testing.T) {
	authtest.Run(t, func(t *testing.T) auth.Store {
		dir := t.TempDir()
		a, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	})
}

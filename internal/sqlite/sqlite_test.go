package sqlite_test

import (
	"bytes"
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

// A PDF commits with its record: a refused append leaves neither a row
// nor a file, a PDF is stored once however many records name it, and the
// database refuses to change or remove one.
func TestPDFCommitsWithItsRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := MustOpen(t, dir)
	pdf := archivetest.PDF(t, 100)
	sum := fmt.Sprintf("%x", sha256Sum(pdf))
	// A version 2 of an unknown id is refused.
	if err := a.Append(ctx, archivetest.Record("doc", 2, "037034"), pdf); faldone.ErrorCode(err) != faldone.ENOTFOUND {
		t.Fatalf("append: %v", err)
	}
	if n, err := a.BlobRows(ctx); n != 0 || err != nil {
		t.Fatalf("%d PDFs after a refused append (%v)", n, err)
	}
	if _, err := a.PDF(ctx, sum); faldone.ErrorCode(err) != faldone.ENOTFOUND {
		t.Fatalf("PDF of a refused append: %v, want ENOTFOUND", err)
	}
	archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), pdf)
	archivetest.MustAppend(t, a, archivetest.Record("other", 1, "037034"), pdf)
	if n, err := a.BlobRows(ctx); n != 1 || err != nil {
		t.Fatalf("%d PDFs for two records of one PDF (%v)", n, err)
	}
	if got, err := a.PDF(ctx, sum); err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("PDF: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs")); !os.IsNotExist(err) {
		t.Fatalf("a blob directory was made: %v", err)
	}
	for _, q := range []string{`UPDATE blobs SET data = x'00'`, `DELETE FROM blobs`} {
		if err := a.ExecRaw(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// The PDFs of an archive written before, kept as files in either layout,
// are read there; one gone from everywhere is an error that names where
// it was looked for, not a missing document; appending the same PDF again
// brings it back.
func TestPDFFromFiles(t *testing.T) {
	ctx := context.Background()
	a := MustOpen(t, t.TempDir())
	pdf := archivetest.PDF(t, 100)
	r := archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), pdf)
	for layout := range 2 {
		p, err := a.MoveBlobToFile(ctx, r.SHA256, layout)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := a.PDF(ctx, r.SHA256); err != nil || !bytes.Equal(got, pdf) {
			t.Fatalf("PDF from %s: %v", p, err)
		}
		if err := os.WriteFile(p, []byte("%PDF-1.7 changed"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := a.PDF(ctx, r.SHA256); err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("PDF of a changed file: %v, want an error naming %s", err, p)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		archivetest.MustAppend(t, a, archivetest.Record("doc", 2+layout, "037034"), pdf)
	}
	if err := a.DeleteBlob(ctx, r.SHA256); err != nil {
		t.Fatal(err)
	}
	_, err := a.PDF(ctx, r.SHA256)
	if err == nil || faldone.ErrorCode(err) == faldone.ENOTFOUND || !strings.Contains(err.Error(), "table blobs") {
		t.Fatalf("PDF with its blob gone: %v", err)
	}
	archivetest.MustAppend(t, a, archivetest.Record("doc", 4, "037034"), pdf)
	if _, err := a.PDF(ctx, r.SHA256); err != nil {
		t.Fatal(err)
	}
}

// An archive written before the PDFs moved into the database (its schema
// without table blobs, its PDFs files in both layouts) opens with the
// migration applied, serves its PDFs from the files, takes new ones in the
// table, and its log stays whole.
func TestUpgradeFromFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := MustOpen(t, dir)
	var recs []*faldone.Record
	var pdfs [][]byte
	for i := range 4 {
		pdf := archivetest.PDF(t, 100)
		recs = append(recs, archivetest.MustAppend(t, a, archivetest.Record(fmt.Sprintf("doc-%d", i), 1, "037034"), pdf))
		pdfs = append(pdfs, pdf)
		if _, err := a.MoveBlobToFile(ctx, recs[i].SHA256, i%2); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{`DROP TABLE blobs`, `DELETE FROM schema_migrations WHERE version = 11`} {
		if err := a.ExecRaw(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := MustOpen(t, dir)
	for i, r := range recs {
		if got, err := b.PDF(ctx, r.SHA256); err != nil || !bytes.Equal(got, pdfs[i]) {
			t.Fatalf("PDF %d after the upgrade: %v", i, err)
		}
	}
	archivetest.MustAppend(t, b, archivetest.Record("doc-0", 2, "037034"), archivetest.PDF(t, 100))
	if n, err := b.BlobRows(ctx); n != 1 || err != nil {
		t.Fatalf("%d PDFs in the table, want the new one (%v)", n, err)
	}
	archivetest.CheckLog(t, b, 5)
	// The collection moves the old files into the database.
	if gc, err := b.CollectGarbage(ctx, 0); err != nil || gc.Moved != len(recs) || gc.Removed != 0 {
		t.Fatalf("collect: %+v %v, want %d moved", gc, err, len(recs))
	}
	if n, err := b.BlobRows(ctx); n != 1+len(recs) || err != nil {
		t.Fatalf("%d PDFs in the table after the move (%v)", n, err)
	}
	for i, r := range recs {
		if got, err := b.PDF(ctx, r.SHA256); err != nil || !bytes.Equal(got, pdfs[i]) {
			t.Fatalf("PDF %d after the move: %v", i, err)
		}
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

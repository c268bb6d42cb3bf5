package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"faldone/internal/archivetest"
	"faldone/internal/ledger"
	"faldone/internal/testenv"
)

// benchDocs is the size of the audited archive: 100,000 unless
// FALDONE_BENCH_DOCS says otherwise.
func benchDocs(b *testing.B) int {
	if v := os.Getenv("FALDONE_BENCH_DOCS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("FALDONE_BENCH_DOCS=%q", v)
		}
		return n
	}
	return 100_000
}

// BenchmarkAuditVerify100k times the full audit (`faldone audit verify`)
// of an archive of 100,000 sealed letters in PostgreSQL: every PDF
// re-hashed, every leaf recomputed, the tree rebuilt, every checkpoint
// checked. Building the archive takes minutes; it runs with
// synchronous_commit off, which only the fixture needs.
func BenchmarkAuditVerify100k(b *testing.B) {
	ctx := context.Background()
	url := testenv.Postgres(b)
	setup := MustOpen(b, url)
	if err := setup.ExecRaw(ctx, "DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off', current_database()); END$$"); err != nil {
		b.Fatal(err)
	}
	a := MustOpen(b, url)
	skey, _, err := ledger.LoadKey(filepath.Join(b.TempDir(), "log.key"), true)
	if err != nil {
		b.Fatal(err)
	}
	l, err := ledger.New(a, skey, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := benchDocs(b)
	start := time.Now()
	archivetest.FillLetters(b, a, func(ctx context.Context) error { _, err := l.Checkpoint(ctx); return err }, n, 8)
	b.Logf("built an archive of %d versions in %s", n, time.Since(start).Round(time.Second))
	for b.Loop() {
		rep, err := ledger.Audit(ctx, a, l.PublicKey())
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() || rep.Records != n || rep.PDFs != n {
			b.Fatalf("audit: %d records, %d PDFs, findings %v", rep.Records, rep.PDFs, rep.Findings)
		}
	}
	b.ReportMetric(float64(n), "docs")
}

package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"faldone/internal/archivetest"
	"faldone/internal/auth"
	"faldone/internal/auth/authtest"
	"faldone/internal/faldone"
	"faldone/internal/postgres"
	"faldone/internal/testenv"
)

// MustOpen opens an archive on url and closes it when tb ends.
func MustOpen(tb testing.TB, url string) *postgres.Archive {
	tb.Helper()
	a, err := postgres.Open(context.Background(), url)
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
	archivetest.Run(t, func(t *testing.T) faldone.Archive { return MustOpen(t, testenv.Postgres(t)) })
}

// Two instances, each with its own pool, append concurrently into one
// gap-free tree.
func TestTwoInstances(t *testing.T) {
	url := testenv.Postgres(t)
	a, b := MustOpen(t, url), MustOpen(t, url)
	archivetest.AppendConcurrently(t, []faldone.Archive{a, b}, archivetest.Writers, archivetest.AppendsPerWriter)
	archivetest.CheckLog(t, a, 2*archivetest.Writers*archivetest.AppendsPerWriter)
	archivetest.CheckLog(t, b, 2*archivetest.Writers*archivetest.AppendsPerWriter)
}

// Instances starting together migrate once.
func TestConcurrentOpen(t *testing.T) {
	url := testenv.Postgres(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			a, err := postgres.Open(context.Background(), url)
			if err == nil {
				a.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	a := MustOpen(t, url)
	archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), archivetest.PDF(t, 100))
	archivetest.CheckLog(t, a, 1)
}

// The database refuses TRUNCATE, a leaf that is not the next one, and
// edits of the PDFs.
func TestDatabaseGuards(t *testing.T) {
	ctx := context.Background()
	a := MustOpen(t, testenv.Postgres(t))
	archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), archivetest.PDF(t, 100))
	for _, q := range []string{
		`TRUNCATE records`, `TRUNCATE audit_nodes`, `TRUNCATE blobs`, `TRUNCATE checkpoints`, `TRUNCATE audit_head`,
		`UPDATE blobs SET data = 'x'`, `DELETE FROM blobs`,
		`INSERT INTO records (leaf_index, id, version, comune, sha256, body) VALUES (5, 'x', 1, 'c', 's', '\x00')`,
	} {
		if err := a.ExecRaw(ctx, q); err == nil {
			t.Errorf("%s: succeeded", q)
		}
	}
	archivetest.CheckLog(t, a, 1)
}

// A database from a newer faldone is refused with a hint, and an
// unreachable server is EUNAVAILABLE.
func TestOpenErrors(t *testing.T) {
	url := testenv.Postgres(t)
	a := MustOpen(t, url)
	if err := a.ExecRaw(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future')`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(context.Background(), url)
	if err == nil || !strings.Contains(err.Error(), "upgrade faldone") {
		t.Fatalf("open newer schema: %v", err)
	}
	_, err = postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if faldone.ErrorCode(err) != faldone.EUNAVAILABLE {
		t.Fatalf("open unreachable: %v", err)
	}
}

func BenchmarkAppend(b *testing.B) {
	a := MustOpen(b, testenv.Postgres(b))
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
	authtest.Run(t, func(t *testing.T) auth.Store { return MustOpen(t, testenv.Postgres(t)) })
}

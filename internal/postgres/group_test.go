package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"faldone/internal/archivetest"
	"faldone/internal/faldone"
	"faldone/internal/testenv"
)

// holdLogHead locks the log head from another connection, as another
// instance appending does, and returns the function that waits until a's
// appends pending reach n and then lets the lock go.
func holdLogHead(t *testing.T, url string) (release func(a interface{ Pending() int64 }, n int64)) {
	t.Helper()
	ctx := context.Background()
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close(ctx) })
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	return func(a interface{ Pending() int64 }, n int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for a.Pending() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d appends pending, want %d", a.Pending(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAppendsCommitInGroups: appends that arrive while another instance
// holds the log head wait and then commit together, in at most two
// transactions; a refused one (a second version 1 of an id) leaves the
// others in; every one answered with success is in a tree without gaps.
func TestAppendsCommitInGroups(t *testing.T) {
	url := testenv.Postgres(t)
	a := MustOpen(t, url)
	ctx := context.Background()
	release := holdLogHead(t, url)
	const n = 48
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n + 1 {
		wg.Go(func() {
			id := fmt.Sprintf("group-%d", i%n) // the last one repeats group-0
			errs[i] = a.Append(ctx, archivetest.Record(id, 1, "037034"), archivetest.PDF(t, 2<<10))
		})
	}
	release(a, n+1) // the first group taken waits for the lock
	wg.Wait()
	txs, appended := a.GroupStats()
	if appended != n || txs > 2 {
		t.Fatalf("%d appends committed in %d transactions, want %d in at most 2", appended, txs, n)
	}
	refused := 0
	for i, err := range errs {
		switch {
		case err == nil:
		case faldone.ErrorCode(err) == faldone.ECONFLICT && (i == 0 || i == n):
			refused++
		default:
			t.Errorf("append %d: %v", i, err)
		}
	}
	if refused != 1 {
		t.Fatalf("%d refused, want 1", refused)
	}
	archivetest.CheckLog(t, a, n)
}

// A PDF whose stored copy is damaged refuses its own append, before
// anything is written, and leaves the others of its group in.
func TestDamagedPDFInGroup(t *testing.T) {
	url := testenv.Postgres(t)
	a := MustOpen(t, url)
	ctx := context.Background()
	pdf := archivetest.PDF(t, 2<<10)
	first := archivetest.MustAppend(t, a, archivetest.Record("first", 1, "037034"), pdf)
	bad := append([]byte(nil), pdf...)
	bad[len(bad)-1] ^= 1
	if err := a.TamperBlob(ctx, first.SHA256, bad); err != nil {
		t.Fatal(err)
	}
	release := holdLogHead(t, url)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := archivetest.PDF(t, 2<<10)
			if i == n/2 {
				body = pdf // the damaged one again
			}
			errs[i] = a.Append(ctx, archivetest.Record(fmt.Sprintf("doc-%d", i), 1, "037034"), body)
		})
	}
	release(a, n)
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == n/2:
			if err == nil || !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("append of the damaged PDF: %v", err)
			}
		case err != nil:
			t.Errorf("append %d: %v", i, err)
		}
	}
	archivetest.CheckLog(t, a, n)
}

package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"faldone/internal/archivetest"
	"faldone/internal/faldone"
	"faldone/internal/sqlite"
)

// TestAppendsCommitInGroups: appends that arrive while the writer is busy
// (here held by a transaction of another user of the connection, as the
// job queue's) wait and then commit together, in one or two
// transactions, not one each; one refused append (a second version 1 of
// the same id) leaves the others of its group in; every append answered
// with success is in the database and its PDF in the blob directory once
// the archive is opened again.
func TestAppendsCommitInGroups(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() *sqlite.Archive {
		a, err := sqlite.Open(ctx, filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := open()
	conn, err := a.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	pdfs := make([][]byte, n)
	for i := range pdfs {
		pdfs[i] = archivetest.PDF(t, 4<<10)
	}
	errs := make([]error, n+1)
	leaves := make([]int64, n+1)
	var wg sync.WaitGroup
	for i := range n + 1 {
		wg.Go(func() {
			id, pdf := fmt.Sprintf("group-%d", i), pdfs[i%n]
			if i == n {
				id, pdf = "group-0", pdfs[1] // the same id again: one of the two is refused
			}
			rec := archivetest.Record(id, 1, "037034")
			errs[i] = a.Append(ctx, rec, pdf)
			leaves[i] = rec.Leaf
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for a.Pending() < n+1 { // the first group taken waits for the connection with the writer
		if time.Now().After(deadline) {
			t.Fatalf("%d appends pending, want %d", a.Pending(), n+1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	conn.Close()
	wg.Wait()
	txs, appended := a.GroupStats()
	if appended != n || txs > 2 {
		t.Fatalf("%d appends committed in %d transactions, want %d in at most 2", appended, txs, n)
	}
	refused := 0
	var got []int64
	for i, err := range errs {
		switch {
		case err == nil:
			got = append(got, leaves[i])
		case faldone.ErrorCode(err) == faldone.ECONFLICT && (i == 0 || i == n):
			refused++
		default:
			t.Errorf("append %d: %v", i, err)
		}
	}
	if refused != 1 || len(got) != n {
		t.Fatalf("%d refused, %d appended", refused, len(got))
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i, l := range got {
		if l != int64(i) {
			t.Fatalf("leaves %v, want 0 to %d", got, n-1)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(ctx, archivetest.Record("late", 1, "037034"), pdfs[0]); faldone.ErrorCode(err) != faldone.EUNAVAILABLE {
		t.Fatalf("append after close: %v", err)
	}

	b := open()
	defer b.Close()
	if size, err := b.Size(ctx); err != nil || size != n {
		t.Fatalf("log size %d, %v; want %d", size, err, n)
	}
	for i := range n {
		rec, err := b.Latest(ctx, fmt.Sprintf("group-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := b.PDF(ctx, rec.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if i > 1 && !bytes.Equal(pdf, pdfs[i]) {
			t.Fatalf("group-%d: another PDF", i)
		}
	}
}

// BenchmarkAppendConcurrent appends from 32 goroutines at once, as a
// busy service does, fsync included, and reports the appends per
// transaction.
func BenchmarkAppendConcurrent(b *testing.B) {
	a := MustOpen(b, b.TempDir())
	ctx := context.Background()
	pdfs := make([][]byte, b.N)
	for i := range pdfs {
		pdfs[i] = archivetest.PDF(b, 25<<10)
	}
	b.SetBytes(25 << 10)
	b.SetParallelism(16)
	var mu sync.Mutex
	next := 0
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			if err := a.Append(ctx, archivetest.Record(fmt.Sprintf("bench-%d", i), 1, "037034"), pdfs[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	txs, n := a.GroupStats()
	b.ReportMetric(float64(n)/float64(max(txs, 1)), "appends/tx")
}

package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"faldone/internal/archivetest"
	"faldone/internal/faldone"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
)

// TestAppendsCommitInGroups: appends that arrive while the writer is busy
// (here held by a transaction of another user of the connection, as the
// job queue's) wait and then commit together, in one or two
// transactions, not one each; one refused append (a second version 1 of
// the same id) leaves the others of its group in; every append answered
// with success is in the database with its PDF once the archive is opened
// again.
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

// holdWriter takes the archive's writing connection, starts the appends
// of each batch in turn, each batch once the ones before are queued, and
// returns the connection when all are: the first append taken waits for
// it alone, and the batches after form one group. It returns each
// append's error.
func holdWriter(t *testing.T, a *sqlite.Archive, batches ...[]func() error) [][]error {
	t.Helper()
	conn, err := a.Writer().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	errs := make([][]error, len(batches))
	var wg sync.WaitGroup
	queued := int64(0)
	txs0, _ := a.GroupStats()
	for b, batch := range batches {
		errs[b] = make([]error, len(batch))
		for i, f := range batch {
			wg.Go(func() { errs[b][i] = f() })
		}
		queued += int64(len(batch))
		deadline := time.Now().Add(30 * time.Second)
		// Queued, and the first batch taken by the committer (which
		// counts a transaction before it waits for the connection).
		for txs, _ := a.GroupStats(); a.Pending() < queued || txs <= txs0; txs, _ = a.GroupStats() {
			if time.Now().After(deadline) {
				t.Fatalf("%d appends pending, want %d", a.Pending(), queued)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	conn.Close()
	wg.Wait()
	return errs
}

// One PDF that two records of one group name is stored once, and both
// read it.
func TestSamePDFInOneGroup(t *testing.T) {
	ctx := context.Background()
	a := MustOpen(t, t.TempDir())
	pdf := archivetest.PDF(t, 4<<10)
	appendOf := func(id string, pdf []byte) func() error {
		return func() error { return a.Append(ctx, archivetest.Record(id, 1, "037034"), pdf) }
	}
	errs := holdWriter(t, a, []func() error{appendOf("first", archivetest.PDF(t, 4<<10))},
		[]func() error{appendOf("one", pdf), appendOf("two", pdf)})
	for _, e := range errs {
		for _, err := range e {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if txs, n := a.GroupStats(); txs != 2 || n != 3 {
		t.Fatalf("%d appends in %d transactions, want 3 in 2", n, txs)
	}
	if n, err := a.BlobRows(ctx); n != 2 || err != nil {
		t.Fatalf("%d PDFs stored, want 2 (%v)", n, err)
	}
	for _, id := range []string{"one", "two"} {
		rec, err := a.Latest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := a.PDF(ctx, rec.SHA256); err != nil || !bytes.Equal(got, pdf) {
			t.Fatalf("%s: %v", id, err)
		}
	}
}

// A disk that fills in the middle of a group (here the database's page
// limit, which SQLite meets with the same SQLITE_FULL and the same
// rollback of the whole transaction) refuses the appends that did not fit
// with ESTORAGE, never an internal error, and commits those that did; the
// archive takes appends again once there is room.
func TestDiskFullInGroup(t *testing.T) {
	ctx := context.Background()
	a := MustOpen(t, t.TempDir())
	archivetest.MustAppend(t, a, archivetest.Record("before", 1, "037034"), archivetest.PDF(t, 100))
	var pages int
	if err := a.Writer().QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	limit := func(n int) {
		if err := a.ExecRaw(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)); err != nil {
			t.Fatal(err)
		}
	}
	limit(pages + 30) // room for two PDFs of 36 KB and their records
	appendOf := func(i int) func() error {
		return func() error {
			return a.Append(ctx, archivetest.Record(fmt.Sprintf("doc-%d", i), 1, "037034"), archivetest.PDF(t, 36<<10))
		}
	}
	var group []func() error
	for i := 1; i < 8; i++ {
		group = append(group, appendOf(i))
	}
	txs0, _ := a.GroupStats()
	errs := holdWriter(t, a, []func() error{appendOf(0)}, group)
	ok, full, inGroup := 0, 0, 0
	for b, e := range errs {
		for _, err := range e {
			switch faldone.ErrorCode(err) {
			case "":
				ok++
				inGroup += b
			case faldone.ESTORAGE:
				full++
			default:
				t.Errorf("append on a full disk: %v", err)
			}
		}
	}
	if inGroup == 0 || full == 0 {
		t.Fatalf("%d appended (%d of the group), %d refused as full: want one of the group appended and some refused", ok, inGroup, full)
	}
	// The lone first append, the group's lost transaction, and the one
	// that wrote again the appends that fitted.
	if txs, _ := a.GroupStats(); txs-txs0 != 3 {
		t.Fatalf("%d transactions, want 3", txs-txs0)
	}
	if size, err := a.Size(ctx); err != nil || size != uint64(1+ok) {
		t.Fatalf("log size %d, want %d (%v)", size, 1+ok, err)
	}
	if n := allPDFs(t, a); n != 1+ok {
		t.Fatalf("%d records", n)
	}
	limit(1 << 30)
	archivetest.MustAppend(t, a, archivetest.Record("after", 1, "037034"), archivetest.PDF(t, 36<<10))
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

// The appends of one group are refused, each with ESTORAGE, before their
// transaction when together they would not fit in the free space, though
// each alone would: the disk never fills under SQLite.
func TestGroupReservesSpace(t *testing.T) {
	ctx := context.Background()
	dir := testenv.Tmpfs(t, "24m")
	a := MustOpen(t, dir)
	archivetest.MustAppend(t, a, archivetest.Record("before", 1, "037034"), archivetest.PDF(t, 100))
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	filler := int64(st.Bavail)*st.Bsize - 7<<20 // leave 7 MiB: three PDFs of 1 MiB alone, not six
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, filler), 0o600); err != nil {
		t.Fatal(err)
	}
	var group []func() error
	for i := range 6 {
		group = append(group, func() error {
			return a.Append(ctx, archivetest.Record(fmt.Sprintf("doc-%d", i), 1, "037034"), archivetest.PDF(t, 1<<20))
		})
	}
	errs := holdWriter(t, a, group[:1], group[1:])
	ok, refused := 0, 0
	for _, e := range errs {
		for _, err := range e {
			switch {
			case err == nil:
				ok++
			case faldone.ErrorCode(err) == faldone.ESTORAGE && strings.Contains(err.Error(), "would leave less than the reserve"):
				refused++
			default:
				t.Errorf("append: %v", err)
			}
		}
	}
	if ok == 0 || refused == 0 {
		t.Fatalf("%d appended, %d refused before their transaction", ok, refused)
	}
	if size, err := a.Size(ctx); err != nil || size != uint64(1+ok) {
		t.Fatalf("log size %d, want %d (%v)", size, 1+ok, err)
	}
	t.Logf("%d appended, %d refused", ok, refused)
}

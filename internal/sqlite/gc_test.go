package sqlite_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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

// TestCollectGarbage leaves orphan blobs (refused appends) and a
// temporary file (a crashed write), and checks that a collection removes
// exactly those, once older than the grace period.
func TestCollectGarbage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := MustOpen(t, dir)
	archivetest.MustAppend(t, a, archivetest.Record("doc", 1, "037034"), archivetest.PDF(t, 100))
	// Refused: version 3 of a document at version 1, version 2 of an
	// unknown one.
	orphans := 0
	for i, r := range []*faldone.Record{archivetest.Record("doc", 3, "037034"), archivetest.Record("other", 2, "037034")} {
		if err := a.Append(ctx, r, archivetest.PDF(t, 200+i)); err == nil {
			t.Fatal("appended")
		}
		orphans++
	}
	tmp := filepath.Join(dir, "blobs", "ab", ".tmp-abcdef01-123")
	os.MkdirAll(filepath.Dir(tmp), 0o750)
	if err := os.WriteFile(tmp, []byte("half a PDF"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "blobs", "README")
	os.WriteFile(foreign, []byte("not a blob"), 0o600)
	// An orphan where archives written before kept blobs.
	legacy := archivetest.PDF(t, 300)
	sum := fmt.Sprintf("%x", sha256.Sum256(legacy))
	legacyPath := filepath.Join(dir, "blobs", sum[:2], sum[2:4], sum+".pdf")
	os.MkdirAll(filepath.Dir(legacyPath), 0o750)
	if err := os.WriteFile(legacyPath, legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	orphans++

	gc, err := a.CollectGarbage(ctx, time.Hour)
	if err != nil || gc.Removed != 0 {
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
	if err != nil || gc.Removed != orphans+1 {
		t.Fatalf("collect: %+v %v, want %d removed", gc, err, orphans+1)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("temporary file left")
	}
	if _, err := os.Stat(legacyPath); !os.IsNotExist(err) {
		t.Error("orphan of the earlier layout left")
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Error("a file that is not a blob was removed")
	}
	if n := allPDFs(t, a); n != 1 {
		t.Fatalf("%d records", n)
	}
}

// TestCollectGarbageRace runs collections with no grace period while
// writers race to add the next version of the same documents (the
// losers leave orphans): no record ever lacks its PDF, and at the end
// every orphan is gone.
func TestCollectGarbageRace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := MustOpen(t, dir)
	const docs, writers = 6, 4
	for d := range docs {
		archivetest.MustAppend(t, a, archivetest.Record(fmt.Sprintf("doc%d", d), 1, "037034"), archivetest.PDF(t, 1000+d))
	}
	stop := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Add(1)
	go func() {
		defer gcs.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := a.CollectGarbage(ctx, 0); err != nil && faldone.ErrorCode(err) != faldone.EUNAVAILABLE {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := 2; v <= 4; v++ {
				for d := range docs {
					r := archivetest.Record(fmt.Sprintf("doc%d", d), v, "037034")
					err := a.Append(ctx, r, archivetest.PDF(t, 10000*v+100*d+w))
					if code := faldone.ErrorCode(err); err != nil && code != faldone.ECONFLICT && code != faldone.ENOTFOUND && code != faldone.EUNAVAILABLE {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	gcs.Wait()
	n := allPDFs(t, a)
	gc, err := a.CollectGarbage(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	filepath.Walk(filepath.Join(dir, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files++
		}
		return nil
	})
	if files != n {
		t.Fatalf("%d blob files for %d records after collecting (%+v)", files, n, gc)
	}
	allPDFs(t, a)
	t.Logf("%d records; final collection %+v", n, gc)
}

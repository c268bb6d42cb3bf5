package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"faldone/internal/archivetest"
	"faldone/internal/audit"
	"faldone/internal/faldone"
	"faldone/internal/ledger"
	"faldone/internal/sqlite"
	"faldone/internal/verify"
)

func TestLoadKeyCreatesOnceAndReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "log.key")
	if _, _, err := ledger.LoadKey(path, false); err == nil {
		t.Fatal("LoadKey without create found a key that does not exist")
	}
	var wg sync.WaitGroup
	keys := make([]string, 8)
	createdN := make([]bool, 8)
	for i := range keys {
		wg.Go(func() {
			k, created, err := ledger.LoadKey(path, true)
			if err != nil {
				t.Error(err)
			}
			keys[i], createdN[i] = k, created
		})
	}
	wg.Wait()
	n := 0
	for i, k := range keys {
		if k != keys[0] {
			t.Fatalf("concurrent creators got different keys")
		}
		if createdN[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d callers created the key, want 1", n)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	vkey, err := ledger.PublicKey(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ledger.LoadVerifierKey(path); err != nil || got != vkey {
		t.Errorf("LoadVerifierKey = %q, %v; want %q", got, err, vkey)
	}
	pub := filepath.Join(t.TempDir(), "log.pub")
	os.WriteFile(pub, []byte(vkey+"\n"), 0o644)
	if got, err := ledger.LoadVerifierKey(pub); err != nil || got != vkey {
		t.Errorf("LoadVerifierKey(public) = %q, %v", got, err)
	}
	os.WriteFile(pub, []byte("PRIVATE+KEY+x+00000000+AAAA\n"), 0o600)
	if _, _, err := ledger.LoadKey(pub, false); err == nil {
		t.Error("a malformed key file was accepted")
	}
}

func TestCheckpointsAndProofs(t *testing.T) {
	ctx := archivetest.Context(t)
	dir := t.TempDir()
	a, err := sqlite.Open(ctx, filepath.Join(dir, "a.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	skey, _, err := ledger.LoadKey(filepath.Join(dir, "log.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(a, skey, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ver, err := audit.NewVerifier(l.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	var last *ledger.Signed
	for i := range 5 {
		rec := archivetest.MustAppend(t, a, archivetest.Record(fmtID(i), 1, "090007"), archivetest.PDF(t, 300+i))
		p, err := l.Prove(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		if in, code, detail := verify.CheckInclusion(rec, p, l.PublicKey()); code != "" || !in.Verified {
			t.Fatalf("leaf %d: %s %s", rec.Leaf, code, detail)
		}
		s, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Checkpoint.Size != uint64(i+1) {
			t.Fatalf("checkpoint size %d, want %d", s.Checkpoint.Size, i+1)
		}
		if _, err := audit.Open(s.Note, ver); err != nil {
			t.Fatal(err)
		}
		if last != nil {
			proof, r1, r2, err := l.Consistency(ctx, last.Checkpoint.Size, s.Checkpoint.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyConsistency(last.Checkpoint.Size, s.Checkpoint.Size, proof, last.Checkpoint.Root, s.Checkpoint.Root); err != nil {
				t.Fatal(err)
			}
			if string(r1) != string(last.Checkpoint.Root) || string(r2) != string(s.Checkpoint.Root) {
				t.Fatal("consistency roots differ from the checkpoints'")
			}
		}
		last = s
	}
	// No growth: no new checkpoint.
	before, _ := a.Checkpoints(ctx)
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := a.Checkpoints(ctx)
	if len(after) != len(before) {
		t.Errorf("a checkpoint was signed although the tree did not grow: %d -> %d", len(before), len(after))
	}
	if _, _, _, err := l.Consistency(ctx, 3, 9); err == nil {
		t.Error("consistency beyond the log succeeded")
	}
	// The background loop signs when the tree grows.
	archivetest.MustAppend(t, a, archivetest.Record(fmtID(99), 1, "090007"), archivetest.PDF(t, 999))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Run(rctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		size, _, err := a.LatestCheckpoint(ctx)
		if err == nil && size == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background loop signed no checkpoint of size 6")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

func fmtID(i int) string { return "doc" + string(rune('a'+i%26)) + "aaaaaaaaaaaaaaaaaaaaaa" }

// TestAuditFindsTimeBackwards stores a checkpoint dated before the one
// ahead of it, as a clock gone backwards made before the guard existed:
// the audit reports it.
func TestAuditFindsTimeBackwards(t *testing.T) {
	ctx := archivetest.Context(t)
	dir := t.TempDir()
	a, err := sqlite.Open(ctx, filepath.Join(dir, "a.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	skey, _, err := ledger.LoadKey(filepath.Join(dir, "log.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(a, skey, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	archivetest.MustAppend(t, a, archivetest.Record(fmtID(0), 1, "090007"), archivetest.PDF(t, 300))
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	archivetest.MustAppend(t, a, archivetest.Record(fmtID(1), 1, "090007"), archivetest.PDF(t, 301))
	signer, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.NewTree(a).Checkpoint(ctx, signer.Name(), 2, time.Now().Add(-time.Hour).UTC())
	if err != nil {
		t.Fatal(err)
	}
	note, err := audit.Sign(cp, signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SaveCheckpoint(ctx, 2, note); err != nil {
		t.Fatal(err)
	}
	rep, err := ledger.Audit(ctx, a, l.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || f.Kind == ledger.KindTimeBackwards
	}
	if !found {
		t.Fatalf("no time-backwards finding: %+v", rep.Findings)
	}
	// The guard refuses to sign another checkpoint before the newest.
	back, err := ledger.New(a, skey, ledger.Options{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	archivetest.MustAppend(t, a, archivetest.Record(fmtID(2), 1, "090007"), archivetest.PDF(t, 302))
	if _, err := back.Checkpoint(ctx); faldone.ErrorCode(err) != faldone.EUNAVAILABLE {
		t.Fatalf("checkpoint two hours back: %v", err)
	}
}

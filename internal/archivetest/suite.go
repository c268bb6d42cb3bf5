package archivetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"faldone/internal/audit"
	"faldone/internal/faldone"
)

func testAppendVersions(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	pdf1, pdf2 := PDF(t, 1000), PDF(t, 2000)
	r1 := MustAppend(t, e, Record("doc-1", 1, "037034"), pdf1)
	if r1.Leaf != 0 || r1.SHA256 != hexSum(pdf1) || r1.Size != 1000 {
		t.Fatalf("v1: leaf %d sha %s size %d", r1.Leaf, r1.SHA256, r1.Size)
	}
	if r1.Created.Location() != time.UTC {
		t.Fatalf("v1: created %v not in UTC", r1.Created)
	}
	r2 := MustAppend(t, e, Record("doc-1", 2, "037034"), pdf2)
	if r2.Leaf != 1 || r2.PrevSHA != r1.SHA256 {
		t.Fatalf("v2: leaf %d prev %s, want 1 %s", r2.Leaf, r2.PrevSHA, r1.SHA256)
	}
	got, err := e.Latest(ctx, "doc-1")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, got, r2)
	got, err = e.Version(ctx, "doc-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, got, r1)
	if string(got.Input) != `{"comune":"037034"}` || got.Seal.TimestampTime == nil {
		t.Fatalf("v1 read back: input %q timestamp %v", got.Input, got.Seal.TimestampTime)
	}
	// A record without Created gets one.
	r := Record("doc-2", 1, "037034")
	r.Created = time.Time{}
	MustAppend(t, e, r, PDF(t, 10))
	if r.Created.IsZero() {
		t.Fatal("created not filled")
	}
}

func testVersionRules(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	MustAppend(t, e, Record("doc", 1, "037034"), PDF(t, 100))
	for _, tc := range []struct {
		name string
		rec  *faldone.Record
		code string
	}{
		{"v1 again", Record("doc", 1, "037034"), faldone.ECONFLICT},
		{"skip a version", Record("doc", 3, "037034"), faldone.ECONFLICT},
		{"later version of an unknown id", Record("nope", 2, "037034"), faldone.ENOTFOUND},
		{"wrong prev", func() *faldone.Record { r := Record("doc", 2, "037034"); r.PrevSHA = strings.Repeat("0", 64); return r }(), faldone.ECONFLICT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.rec
			leafBefore := rec.Leaf
			wantCode(t, e.Append(ctx, rec, PDF(t, 100)), tc.code)
			if rec.Leaf != leafBefore || rec.SHA256 != "" {
				t.Fatalf("failed append changed the record: leaf %d sha %q", rec.Leaf, rec.SHA256)
			}
		})
	}
	MustAppend(t, e, Record("doc", 2, "037034"), PDF(t, 100))
	wantCode(t, e.Append(ctx, Record("doc", 2, "037034"), PDF(t, 100)), faldone.ECONFLICT)
	if n, err := e.Size(ctx); err != nil || n != 2 {
		t.Fatalf("size = %d, %v; want 2: failed appends must leave no leaf", n, err)
	}
}

func testInvalid(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	pdf := PDF(t, 100)
	for _, tc := range []struct {
		name string
		edit func(r *faldone.Record)
		pdf  []byte
	}{
		{"no id", func(r *faldone.Record) { r.ID = "" }, pdf},
		{"version 0", func(r *faldone.Record) { r.Version = 0 }, pdf},
		{"empty pdf", func(r *faldone.Record) {}, nil},
		{"wrong sha256", func(r *faldone.Record) { r.SHA256 = strings.Repeat("a", 64) }, pdf},
		{"wrong size", func(r *faldone.Record) { r.Size = 7 }, pdf},
		{"invalid utf-8", func(r *faldone.Record) { r.Oggetto = "bad \xff" }, pdf},
		{"year 10000", func(r *faldone.Record) { r.Created = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, pdf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Record("doc", 1, "037034")
			tc.edit(r)
			wantCode(t, e.Append(ctx, r, tc.pdf), faldone.EINVALID)
		})
	}
	if n, err := e.Size(ctx); err != nil || n != 0 {
		t.Fatalf("size = %d, %v; want 0", n, err)
	}
}

func testNotFound(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	_, err := e.Latest(ctx, "nope")
	wantCode(t, err, faldone.ENOTFOUND)
	_, err = e.Version(ctx, "nope", 1)
	wantCode(t, err, faldone.ENOTFOUND)
	_, err = e.PDF(ctx, hexSum([]byte("nope")))
	wantCode(t, err, faldone.ENOTFOUND)
	_, err = e.PDF(ctx, "../../etc/passwd")
	wantCode(t, err, faldone.EINVALID)
	_, _, err = e.LatestCheckpoint(ctx)
	wantCode(t, err, faldone.ENOTFOUND)
	MustAppend(t, e, Record("doc", 1, "037034"), PDF(t, 100))
	_, err = e.Version(ctx, "doc", 2)
	wantCode(t, err, faldone.ENOTFOUND)
	d, err := e.Dossier(ctx, "999999")
	if err != nil || d == nil || len(d) != 0 {
		t.Fatalf("dossier of an unknown comune = %v, %v; want an empty list", d, err)
	}
}

func testPDFRoundTrip(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	for _, n := range []int{1, 25 << 10, 1 << 20} {
		pdf := PDF(t, n)
		r := MustAppend(t, e, Record(fmt.Sprintf("doc-%d", n), 1, "037034"), pdf)
		got, err := e.PDF(ctx, r.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pdf) {
			t.Fatalf("%d bytes: PDF differs (%d bytes back)", n, len(got))
		}
		got, err = e.PDF(ctx, strings.ToUpper(r.SHA256))
		if err != nil || !bytes.Equal(got, pdf) {
			t.Fatalf("upper-case sha256: %v", err)
		}
	}
	// The same PDF archived twice is stored once and served.
	pdf := PDF(t, 500)
	MustAppend(t, e, Record("same-a", 1, "037034"), pdf)
	r := MustAppend(t, e, Record("same-b", 1, "037034"), pdf)
	if got, err := e.PDF(ctx, r.SHA256); err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("shared PDF: %v", err)
	}
}

func testDossier(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	var want []*faldone.Record
	for i, c := range []string{"037034", "090007", "037034", "037034", "090007"} {
		r := MustAppend(t, e, Record(fmt.Sprintf("doc-%d", i), 1, c), PDF(t, 50))
		if c == "037034" {
			want = append(want, r)
		}
	}
	want = append(want, MustAppend(t, e, Record("doc-0", 2, "037034"), PDF(t, 50)))
	got, err := e.Dossier(ctx, "037034")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("dossier has %d records, want %d", len(got), len(want))
	}
	for i := range want {
		sameRecord(t, got[i], want[i])
	}
}

func testBySHA(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	pdf := PDF(t, 300)
	a := MustAppend(t, e, Record("a", 1, "037034"), pdf)
	MustAppend(t, e, Record("other", 1, "037034"), PDF(t, 300))
	b := MustAppend(t, e, Record("b", 1, "090007"), pdf)
	got, err := e.BySHA(ctx, a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("BySHA found %d records, want 2", len(got))
	}
	sameRecord(t, got[0], a)
	sameRecord(t, got[1], b)
	got, err = e.BySHA(ctx, hexSum([]byte("none")))
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("BySHA(unknown) = %v, %v; want an empty list", got, err)
	}
	_, err = e.BySHA(ctx, "xyz")
	wantCode(t, err, faldone.EINVALID)
}

// Concurrency of the concurrent-append test.
const (
	Writers          = 8
	AppendsPerWriter = 25
)

func testConcurrent(t *testing.T, e Engine, _ Hooks) {
	AppendConcurrently(t, []faldone.Archive{e}, Writers, AppendsPerWriter)
	CheckLog(t, e, Writers*AppendsPerWriter)
}

// AppendConcurrently runs writers goroutines per archive, each appending
// versions 1..n of its own document, and fails the test on any error.
func AppendConcurrently(t *testing.T, archives []faldone.Archive, writers, n int) {
	t.Helper()
	ctx := Context(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers*len(archives))
	for ai, a := range archives {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("conc-%d-%d", ai, w)
				for v := 1; v <= n; v++ {
					if err := a.Append(ctx, Record(id, v, fmt.Sprintf("%06d", w)), PDF(t, 200)); err != nil {
						errs <- fmt.Errorf("%s v%d: %w", id, v, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// CheckLog checks that the log holds exactly size leaves, one per record
// with gap-free indexes, that every stored leaf is the hash of its record,
// that versions of a document are in log order, and that the root and
// proofs the audit package computes from the stored nodes match a tree
// recomputed here from the records alone.
func CheckLog(t *testing.T, e Engine, size uint64) {
	t.Helper()
	ctx := Context(t)
	n, err := e.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != size {
		t.Fatalf("log size = %d, want %d", n, size)
	}
	var leaves [][]byte
	lastVersion := map[string]int{}
	err = e.Walk(ctx, func(rec *faldone.Record, stored []byte) error {
		if rec.Leaf != int64(len(leaves)) {
			return fmt.Errorf("walk: leaf %d after %d leaves: gap or disorder", rec.Leaf, len(leaves))
		}
		if lastVersion[rec.ID]+1 != rec.Version {
			return fmt.Errorf("walk: %s v%d at leaf %d follows v%d", rec.ID, rec.Version, rec.Leaf, lastVersion[rec.ID])
		}
		lastVersion[rec.ID] = rec.Version
		h := independentLeaf(rec)
		if !bytes.Equal(h, stored) {
			return fmt.Errorf("walk: leaf %d: stored hash %x, record hashes to %x", rec.Leaf, stored, h)
		}
		leaves = append(leaves, h)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(leaves)) != size {
		t.Fatalf("walk saw %d records, want %d", len(leaves), size)
	}
	tree := audit.NewTree(e)
	for _, m := range []uint64{size, size / 2, size/2 + 1, 1} {
		if m == 0 || m > size {
			continue
		}
		root, err := tree.Root(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if want := independentRoot(leaves[:m]); !bytes.Equal(root, want) {
			t.Fatalf("root(%d) = %x, recomputed from the records %x", m, root, want)
		}
	}
	if size == 0 {
		return
	}
	root := independentRoot(leaves)
	for _, i := range []uint64{0, size / 3, size - 1} {
		p, err := tree.InclusionProof(ctx, i, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.VerifyInclusion(leaves[i], i, size, p, root); err != nil {
			t.Fatal(err)
		}
	}
	m := size/2 + 1
	p, err := tree.ConsistencyProof(ctx, m, size)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyConsistency(m, size, p, independentRoot(leaves[:m]), root); err != nil {
		t.Fatal(err)
	}
}

// independentLeaf is the RFC 6962 leaf hash of a record, computed here
// without the audit package.
func independentLeaf(rec *faldone.Record) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(faldone.CanonicalRecord(rec))
	return h.Sum(nil)
}

// independentRoot is the RFC 6962 Merkle tree hash, straight from the RFC.
func independentRoot(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(independentRoot(leaves[:k]))
	h.Write(independentRoot(leaves[k:]))
	return h.Sum(nil)
}

func testAppendOnly(t *testing.T, e Engine, h Hooks) {
	ctx := Context(t)
	for i := range 3 {
		MustAppend(t, e, Record(fmt.Sprintf("doc-%d", i), 1, "037034"), PDF(t, 100))
	}
	key, verifier := newKey(t)
	saveCheckpoint(t, e, key)
	// Each statement would change something that is there.
	for _, q := range []string{
		`UPDATE records SET comune = 'x'`,
		`UPDATE records SET version = version + 1 WHERE leaf_index = 0`,
		`DELETE FROM records`,
		`DELETE FROM records WHERE leaf_index = 2`,
		`UPDATE audit_nodes SET level = level WHERE idx = 0`,
		`DELETE FROM audit_nodes`,
		`UPDATE audit_head SET size = 0`,
		`DELETE FROM audit_head`,
		`UPDATE checkpoints SET size = 0`,
		`DELETE FROM checkpoints`,
	} {
		if err := h.ExecRaw(ctx, q); err == nil {
			t.Errorf("%s: succeeded, want an append-only error", q)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	CheckLog(t, e, 3)
	rep := Audit(t, e, verifier)
	if !rep.OK() || rep.Checkpoints != 1 {
		t.Fatalf("audit after refused edits: %v", rep.Findings)
	}
}

func testMigrate(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	MustAppend(t, e, Record("doc", 1, "037034"), PDF(t, 100))
	for range 2 {
		if err := e.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
	}
	MustAppend(t, e, Record("doc", 2, "037034"), PDF(t, 100))
	CheckLog(t, e, 2)
}

func testTree(t *testing.T, e Engine, _ Hooks) {
	CheckLog(t, e, 0)
	for i := range 37 {
		MustAppend(t, e, Record(fmt.Sprintf("doc-%d", i%5), i/5+1, "037034"), PDF(t, 64))
		if i%6 == 0 || i == 36 {
			CheckLog(t, e, uint64(i+1))
		}
	}
}

// testHashes checks the HashReader contract against audit.MemStore fed the
// same leaves: one entry per id in order, duplicates, nil for nodes not
// stored, dense and scattered requests.
func testHashes(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	n := func(level uint, index uint64) audit.NodeID { return audit.NodeID{Level: level, Index: index} }
	mem := audit.NewMemStore()
	for i := range 21 {
		r := MustAppend(t, e, Record(fmt.Sprintf("doc-%d", i), 1, "037034"), PDF(t, 32))
		if _, err := mem.Append(independentLeaf(r)); err != nil {
			t.Fatal(err)
		}
	}
	ids := []audit.NodeID{n(0, 20), n(0, 0), n(0, 21), n(1, 3), n(0, 0), n(4, 0), n(4, 1), n(2, 4), n(0, 1<<40), n(0, 1<<64-1), n(63, 0), n(2, 1)}
	for i := range 21 {
		ids = append(ids, audit.NodeID{Level: 0, Index: uint64(20 - i)})
	}
	for _, batch := range [][]audit.NodeID{ids, ids[:3], {}, {n(1, 0), n(1, 9), n(1, 10), n(0, 1000)}} {
		got, err := e.Hashes(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := mem.Hashes(ctx, batch)
		if len(got) != len(batch) {
			t.Fatalf("Hashes returned %d entries for %d ids", len(got), len(batch))
		}
		for i := range batch {
			if !bytes.Equal(got[i], want[i]) || (got[i] == nil) != (want[i] == nil) {
				t.Fatalf("node %s: got %x, want %x", batch[i], got[i], want[i])
			}
		}
	}
}

func testCheckpoints(t *testing.T, e Engine, _ Hooks) {
	ctx := Context(t)
	key, verifier := newKey(t)
	for i := range 3 {
		MustAppend(t, e, Record(fmt.Sprintf("doc-%d", i), 1, "037034"), PDF(t, 100))
	}
	cp1 := saveCheckpoint(t, e, key)
	for i := range 2 {
		MustAppend(t, e, Record(fmt.Sprintf("doc-%d", i), 2, "037034"), PDF(t, 100))
	}
	cp2 := saveCheckpoint(t, e, key)
	// An older checkpoint saved late does not become the latest.
	if err := e.SaveCheckpoint(ctx, cp1.Size, signCheckpoint(t, e, key, cp1.Size)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.SaveCheckpoint(ctx, 6, []byte("x")), faldone.ECONFLICT)
	size, n, err := e.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := audit.Open(n, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if size != 5 || got.Size != 5 || !bytes.Equal(got.Root, cp2.Root) {
		t.Fatalf("latest checkpoint: size %d, note size %d", size, got.Size)
	}
	all, err := e.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("%d checkpoints, want 3", len(all))
	}
	if first, err := audit.Open(all[0], verifier); err != nil || first.Size != 3 {
		t.Fatalf("first checkpoint: %v, %v", first, err)
	}
	p, err := audit.NewTree(e).ConsistencyProof(ctx, cp1.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyConsistency(cp1.Size, cp2.Size, p, cp1.Root, cp2.Root); err != nil {
		t.Fatal(err)
	}
	if rep := Audit(t, e, verifier); !rep.OK() || rep.Checkpoints != 3 {
		t.Fatalf("audit: %d checkpoints ok, findings %v", rep.Checkpoints, rep.Findings)
	}
}

func testTamper(t *testing.T, e Engine, h Hooks) {
	ctx := Context(t)
	key, verifier := newKey(t)
	var recs []*faldone.Record
	pdfs := map[string][]byte{}
	for i := range 5 {
		pdf := PDF(t, 100)
		r := MustAppend(t, e, Record(fmt.Sprintf("doc-%d", i), 1, "037034"), pdf)
		recs = append(recs, r)
		pdfs[r.SHA256] = pdf
	}
	saveCheckpoint(t, e, key)

	// Edit the record at leaf 2 behind the archive's back.
	edited := *recs[2]
	edited.Oggetto = "Oggetto falsificato"
	if err := h.TamperRecord(ctx, 2, faldone.CanonicalRecord(&edited)); err != nil {
		t.Fatal(err)
	}
	rep := Audit(t, e, verifier)
	var found bool
	for _, f := range rep.Findings {
		if f.Kind == audit.KindLeafChanged && f.Index == 2 {
			found = true
		}
	}
	if !found {
		t.Fatalf("audit did not find the edited record: %v", rep.Findings)
	}
	if got, err := e.Version(ctx, "doc-2", 1); err != nil || got.Oggetto != edited.Oggetto {
		t.Fatalf("tampered record read back: %v, %v", got, err)
	}

	// Corrupt the PDF of leaf 3: reads refuse it, naming the blob, and
	// Blob shows the stored bytes to the auditor.
	sum := recs[3].SHA256
	bad := bytes.Clone(pdfs[sum])
	bad[len(bad)-1] ^= 1
	if err := h.TamperBlob(ctx, sum, bad); err != nil {
		t.Fatal(err)
	}
	_, err := e.PDF(ctx, sum)
	if err == nil || faldone.ErrorCode(err) == faldone.ENOTFOUND || !strings.Contains(err.Error(), sum) {
		t.Fatalf("PDF of a corrupt blob: %v; want an error naming the blob", err)
	}
	b, err := e.Blob(ctx, sum)
	if err != nil || hexSum(b) == sum {
		t.Fatalf("Blob of a corrupt blob: %v (hash %s)", err, hexSum(b))
	}
	if got, err := e.PDF(ctx, recs[4].SHA256); err != nil || !bytes.Equal(got, pdfs[recs[4].SHA256]) {
		t.Fatalf("untouched PDF: %v", err)
	}
	// Archiving the same PDF again is refused while the stored copy is
	// damaged, rather than acknowledged on bytes that would not read back.
	before, err := e.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Append(ctx, Record("doc-3", 2, "037034"), pdfs[sum])
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("append of a PDF whose stored copy is damaged: %v", err)
	}
	if after, err := e.Size(ctx); err != nil || after != before {
		t.Fatalf("log size %d after a refused append, want %d (%v)", after, before, err)
	}
}

// Audit runs the audit package's full verifier over an engine: leaves
// recomputed from the records Walk yields, the stored nodes and the stored
// checkpoints.
func Audit(t testing.TB, e Engine, key note.Verifier) *audit.Report {
	t.Helper()
	ctx := Context(t)
	size, err := e.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := e.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var walkErr error
	stop := errors.New("stop")
	leaves := iter.Seq2[uint64, []byte](func(yield func(uint64, []byte) bool) {
		err := e.Walk(ctx, func(rec *faldone.Record, _ []byte) error {
			if !yield(uint64(rec.Leaf), independentLeaf(rec)) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			walkErr = err
		}
	})
	v := &audit.Verifier{Key: key, Origin: origin, Nodes: e, BatchSize: 7}
	rep, err := v.Verify(ctx, size, leaves, cps)
	if err != nil {
		t.Fatal(err)
	}
	if walkErr != nil {
		t.Fatal(walkErr)
	}
	return rep
}

// origin names the test log.
const origin = "faldone.test/log"

// newKey returns a fresh log key pair.
func newKey(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := audit.NewKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// signCheckpoint signs the checkpoint of the first size leaves.
func signCheckpoint(t testing.TB, e Engine, key note.Signer, size uint64) []byte {
	t.Helper()
	root, err := audit.NewTree(e).Root(Context(t), size)
	if err != nil {
		t.Fatal(err)
	}
	n, err := audit.Sign(&audit.Checkpoint{Origin: origin, Size: size, Root: root, Time: time.Now()}, key)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// saveCheckpoint signs and saves a checkpoint of the whole log.
func saveCheckpoint(t testing.TB, e Engine, key note.Signer) *audit.Checkpoint {
	t.Helper()
	ctx := Context(t)
	size, err := e.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := signCheckpoint(t, e, key, size)
	if err := e.SaveCheckpoint(ctx, size, n); err != nil {
		t.Fatal(err)
	}
	cp, err := audit.ParseCheckpoint([]byte(strings.SplitN(string(n), "\n\n", 2)[0] + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// hexSum returns the lowercase hex SHA-256 of b.
func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:])
}

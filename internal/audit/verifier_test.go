package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// fixture is an archive as an auditor finds it: records with their claimed
// leaf index, the stored tree and the stored checkpoints.
type fixture struct {
	size    uint64
	records []record
	nodes   *overlay
	cps     [][]byte
	// truth is the untampered log, for evidence checks.
	truth *refTree
}

type record struct {
	index uint64
	leaf  []byte
}

// overlay is a HashReader over a MemStore with replaced or deleted nodes.
type overlay struct {
	base *MemStore
	set  map[NodeID][]byte // nil value: deleted
}

func (o *overlay) Hashes(ctx context.Context, ids []NodeID) ([][]byte, error) {
	hs, err := o.base.Hashes(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if h, ok := o.set[id]; ok {
			hs[i] = h
		}
	}
	return hs, nil
}

func (o *overlay) get(tb testing.TB, id NodeID) []byte {
	hs, err := o.Hashes(context.Background(), []NodeID{id})
	if err != nil {
		tb.Fatal(err)
	}
	return hs[0]
}

const fixtureSize = 37

var fixtureCheckpointSizes = []int{5, 20, fixtureSize}

func newFixture(tb testing.TB, signer note.Signer) *fixture {
	tb.Helper()
	f := &fixture{size: fixtureSize, truth: newRefTree(fixtureSize)}
	f.nodes = &overlay{base: mustMemStore(tb, fixtureSize), set: map[NodeID][]byte{}}
	for i := range fixtureSize {
		f.records = append(f.records, record{uint64(i), testLeaf(i)})
	}
	for _, size := range fixtureCheckpointSizes {
		f.cps = append(f.cps, mustSign(tb, signer, testCheckpoint(size)))
	}
	return f
}

func mustSign(tb testing.TB, signer note.Signer, cp *Checkpoint) []byte {
	tb.Helper()
	b, err := Sign(cp, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func (f *fixture) leaves() iter.Seq2[uint64, []byte] {
	return func(yield func(uint64, []byte) bool) {
		for _, r := range f.records {
			if !yield(r.index, r.leaf) {
				return
			}
		}
	}
}

func (f *fixture) deleteRecord(i uint64) {
	f.records = slices.DeleteFunc(f.records, func(r record) bool { return r.index == i })
}

func (f *fixture) recordAt(i uint64) *record {
	for k := range f.records {
		if f.records[k].index == i {
			return &f.records[k]
		}
	}
	panic(fmt.Sprintf("no record %d", i))
}

// key identifies a finding in test expectations.
type key struct {
	Kind       Kind
	Level      uint
	Index      uint64
	MatchIndex uint64
}

func (k key) String() string {
	return fmt.Sprintf("%s %d/%d (match %d)", k.Kind, k.Level, k.Index, k.MatchIndex)
}

func leafKey(kind Kind, i uint64) key { return key{Kind: kind, Index: i} }
func cpKey(kind Kind, p uint64) key   { return key{Kind: kind, Index: p} }

func TestVerifierFindings(t *testing.T) {
	signer, verifier := testKeys(t, testOrigin)
	otherSigner, _ := testKeys(t, testOrigin)
	edited := LeafHash([]byte("record-12, amount changed"))

	for _, tt := range []struct {
		name    string
		tamper  func(t *testing.T, f *fixture)
		want    []key
		wantIn  string // a substring of the first finding's Detail
		wantCPs int    // checkpoints that pass
	}{
		{
			name:    "untouched",
			tamper:  func(*testing.T, *fixture) {},
			wantCPs: 3,
		},
		{
			name:   "record edited after logging",
			tamper: func(_ *testing.T, f *fixture) { f.recordAt(12).leaf = edited },
			want: []key{leafKey(KindLeafChanged, 12),
				cpKey(KindCheckpointRootMismatch, 1), cpKey(KindCheckpointRootMismatch, 2)},
			wantIn:  "record changed after it was logged",
			wantCPs: 1,
		},
		{
			name:    "stored leaf edited",
			tamper:  func(_ *testing.T, f *fixture) { f.nodes.set[NodeID{0, 12}] = edited },
			want:    []key{leafKey(KindLeafChanged, 12)},
			wantIn:  "stored leaf was changed",
			wantCPs: 3,
		},
		{
			name: "record and whole stored tree rewritten consistently",
			tamper: func(t *testing.T, f *fixture) {
				f.recordAt(12).leaf = edited
				m := NewMemStore()
				for _, r := range f.records {
					if _, err := m.Append(r.leaf); err != nil {
						t.Fatal(err)
					}
				}
				f.nodes.base = m
			},
			want:    []key{cpKey(KindCheckpointRootMismatch, 1), cpKey(KindCheckpointRootMismatch, 2)},
			wantCPs: 1,
		},
		{
			name:    "record deleted",
			tamper:  func(_ *testing.T, f *fixture) { f.deleteRecord(7) },
			want:    []key{leafKey(KindLeafMissing, 7)},
			wantIn:  "record was deleted",
			wantCPs: 3,
		},
		{
			name: "record and stored leaf deleted",
			tamper: func(_ *testing.T, f *fixture) {
				f.deleteRecord(7)
				f.nodes.set[NodeID{0, 7}] = nil
			},
			want: []key{leafKey(KindLeafMissing, 7), {Kind: KindNodeMissing, Level: 0, Index: 7},
				cpKey(KindCheckpointUnchecked, 1), cpKey(KindCheckpointUnchecked, 2)},
			wantCPs: 1,
		},
		{
			name: "records swapped",
			tamper: func(_ *testing.T, f *fixture) {
				a, b := f.recordAt(3), f.recordAt(30)
				a.leaf, b.leaf = b.leaf, a.leaf
			},
			// Every checkpoint covers leaf 3.
			want: []key{{Kind: KindLeafReordered, Index: 3, MatchIndex: 30}, {Kind: KindLeafReordered, Index: 30, MatchIndex: 3},
				cpKey(KindCheckpointRootMismatch, 0), cpKey(KindCheckpointRootMismatch, 1), cpKey(KindCheckpointRootMismatch, 2)},
			wantIn:  "has the hash of stored leaf 30",
			wantCPs: 0,
		},
		{
			name: "stored leaves swapped",
			tamper: func(t *testing.T, f *fixture) {
				f.nodes.set[NodeID{0, 3}], f.nodes.set[NodeID{0, 30}] = f.nodes.get(t, NodeID{0, 30}), f.nodes.get(t, NodeID{0, 3})
			},
			want:    []key{{Kind: KindLeafReordered, Index: 3, MatchIndex: 30}, {Kind: KindLeafReordered, Index: 30, MatchIndex: 3}},
			wantCPs: 3,
		},
		{
			name:    "stored internal node edited",
			tamper:  func(_ *testing.T, f *fixture) { f.nodes.set[NodeID{2, 3}] = edited },
			want:    []key{{Kind: KindNodeMismatch, Level: 2, Index: 3}},
			wantCPs: 3,
		},
		{
			name:    "stored internal node deleted",
			tamper:  func(_ *testing.T, f *fixture) { f.nodes.set[NodeID{3, 1}] = nil },
			want:    []key{{Kind: KindNodeMissing, Level: 3, Index: 1}},
			wantCPs: 3,
		},
		{
			name:    "stored node truncated",
			tamper:  func(t *testing.T, f *fixture) { f.nodes.set[NodeID{1, 9}] = f.nodes.get(t, NodeID{1, 9})[:20] },
			want:    []key{{Kind: KindNodeMismatch, Level: 1, Index: 9}},
			wantCPs: 3,
		},
		{
			name: "two records claim one leaf",
			tamper: func(_ *testing.T, f *fixture) {
				f.records = append(f.records, record{5, LeafHash([]byte("intruder"))})
			},
			want:    []key{leafKey(KindLeafDuplicate, 5)},
			wantCPs: 3,
		},
		{
			name: "record not in the log",
			tamper: func(_ *testing.T, f *fixture) {
				f.records = append(f.records, record{40, LeafHash([]byte("unlogged"))})
			},
			want:    []key{leafKey(KindLeafUnlogged, 40)},
			wantCPs: 3,
		},
		{
			name: "log truncated below a checkpoint",
			tamper: func(_ *testing.T, f *fixture) {
				f.size = 30
				f.records = f.records[:30]
			},
			want:    []key{cpKey(KindCheckpointBeyondLog, 2)},
			wantCPs: 2,
		},
		{
			name: "checkpoint signature forged",
			tamper: func(t *testing.T, f *fixture) {
				text, sig, _ := strings.Cut(string(f.cps[1]), "\n\n")
				f.cps[1] = []byte(text + "\n\n" + forgeSig(t, sig))
			},
			want:    []key{cpKey(KindCheckpointBadSignature, 1)},
			wantCPs: 2,
		},
		{
			name: "checkpoint root altered under a valid signature",
			tamper: func(_ *testing.T, f *fixture) {
				real := base64.StdEncoding.EncodeToString(f.truth.mth(0, 20))
				f.cps[1] = bytes.Replace(f.cps[1], []byte(real), []byte(base64.StdEncoding.EncodeToString(edited)), 1)
			},
			want:    []key{cpKey(KindCheckpointBadSignature, 1)},
			wantCPs: 2,
		},
		{
			name: "checkpoint validly signed by another key",
			tamper: func(t *testing.T, f *fixture) {
				f.cps[0] = mustSign(t, otherSigner, testCheckpoint(5))
			},
			want:    []key{cpKey(KindCheckpointUnknownKey, 0)},
			wantCPs: 2,
		},
		{
			name: "checkpoint signed by the log key with a wrong root",
			tamper: func(t *testing.T, f *fixture) {
				cp := testCheckpoint(20)
				cp.Root = edited
				f.cps[1] = mustSign(t, signer, cp)
			},
			want:    []key{cpKey(KindCheckpointRootMismatch, 1)},
			wantIn:  "size 20: root differs",
			wantCPs: 2,
		},
		{
			name: "checkpoint of another log",
			tamper: func(t *testing.T, f *fixture) {
				cp := testCheckpoint(20)
				cp.Origin = "elsewhere.example/log"
				f.cps[1] = mustSign(t, signer, cp)
			},
			want:    []key{cpKey(KindCheckpointOrigin, 1)},
			wantCPs: 2,
		},
		{
			name:    "checkpoint garbage",
			tamper:  func(_ *testing.T, f *fixture) { f.cps[2] = []byte("not a note") },
			want:    []key{cpKey(KindCheckpointMalformed, 2)},
			wantCPs: 2,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, signer)
			tt.tamper(t, f)
			v := &Verifier{Key: verifier, Origin: testOrigin, Nodes: f.nodes, BatchSize: 7}
			rep, err := v.Verify(context.Background(), f.size, f.leaves(), f.cps)
			if err != nil {
				t.Fatal(err)
			}
			var got []key
			for _, fd := range rep.Findings {
				got = append(got, key{fd.Kind, fd.Level, fd.Index, fd.MatchIndex})
				t.Log(fd)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %v, want %v", got, tt.want)
			}
			if rep.OK() != (len(tt.want) == 0) || rep.Checkpoints != tt.wantCPs {
				t.Errorf("OK = %v, Checkpoints = %d, want %d passing", rep.OK(), rep.Checkpoints, tt.wantCPs)
			}
			if tt.wantIn != "" && !strings.Contains(rep.Findings[0].Detail, tt.wantIn) {
				t.Errorf("detail %q does not say %q", rep.Findings[0].Detail, tt.wantIn)
			}
			for _, fd := range rep.Findings {
				checkEvidence(t, f, fd)
			}
		})
	}
}

// checkEvidence checks that a finding carries the hashes it names.
func checkEvidence(t *testing.T, f *fixture, fd Finding) {
	t.Helper()
	recs := map[uint64][]byte{}
	for _, r := range slices.Backward(f.records) {
		recs[r.index] = r.leaf
	}
	switch fd.Kind {
	case KindLeafChanged, KindLeafReordered:
		if stored := f.nodes.get(t, NodeID{0, fd.Index}); !bytes.Equal(fd.Expected, stored) || !bytes.Equal(fd.Got, recs[fd.Index]) {
			t.Errorf("%v: want expected = stored leaf %x, got = record %x", fd, stored, recs[fd.Index])
		}
		if fd.Kind == KindLeafReordered && !bytes.Equal(fd.Got, f.nodes.get(t, NodeID{0, fd.MatchIndex})) {
			t.Errorf("%v: record does not match stored leaf %d", fd, fd.MatchIndex)
		}
	case KindNodeMismatch:
		lo, hi := fd.Index<<fd.Level, (fd.Index+1)<<fd.Level
		if want := f.truth.mth(int(lo), int(hi)); !bytes.Equal(fd.Expected, want) || !bytes.Equal(fd.Got, f.nodes.get(t, NodeID{fd.Level, fd.Index})) {
			t.Errorf("%v: want expected %x and the stored hash", fd, want)
		}
	case KindCheckpointRootMismatch:
		if fd.Checkpoint == nil || !bytes.Equal(fd.Got, fd.Checkpoint.Root) || fd.Note == nil {
			t.Errorf("%v: want the checkpoint, its note and its root as evidence", fd)
		}
		var lv [][]byte
		for i := range fd.Checkpoint.Size {
			lv = append(lv, recs[i])
		}
		if want, _ := buildDense(lv).root(fd.Checkpoint.Size); !bytes.Equal(fd.Expected, want) {
			t.Errorf("%v: want expected = root rebuilt from records %x", fd, want)
		}
	case KindCheckpointBadSignature, KindCheckpointUnknownKey, KindCheckpointMalformed:
		if fd.Note == nil || fd.Detail == "" {
			t.Errorf("%v: want the note and a reason", fd)
		}
	}
}

func TestVerifierRoot(t *testing.T) {
	signer, verifier := testKeys(t, testOrigin)
	f := newFixture(t, signer)
	rep, err := (&Verifier{Key: verifier, Nodes: f.nodes}).Verify(context.Background(), f.size, f.leaves(), f.cps)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rep.Root, f.truth.mth(0, fixtureSize)) || rep.Size != fixtureSize {
		t.Errorf("Report root %x size %d, want %x %d", rep.Root, rep.Size, f.truth.mth(0, fixtureSize), fixtureSize)
	}
	// Records in any order give the same result.
	slices.Reverse(f.records)
	if rep, err := (&Verifier{Key: verifier, Nodes: f.nodes}).Verify(context.Background(), f.size, f.leaves(), f.cps); err != nil || !rep.OK() {
		t.Errorf("reversed records: %v, %v", err, rep.Findings)
	}
	if _, err := (&Verifier{Nodes: f.nodes}).Verify(context.Background(), 1, f.leaves(), nil); err == nil {
		t.Error("Verify without a key succeeded")
	}
	bad := maps.All(map[uint64][]byte{0: {1, 2, 3}})
	if _, err := (&Verifier{Key: verifier, Nodes: f.nodes}).Verify(context.Background(), 1, bad, nil); err == nil {
		t.Error("Verify accepted a 3-byte leaf hash")
	}
}

func TestRebuild(t *testing.T) {
	ref := newRefTree(300)
	for size := 0; size <= 300; size++ {
		root, n, err := Rebuild(slices.Values(ref.leaves[:size]))
		if err != nil {
			t.Fatal(err)
		}
		if n != uint64(size) || !bytes.Equal(root, ref.mth(0, size)) {
			t.Fatalf("Rebuild(%d) = %x, %d; want %x", size, root, n, ref.mth(0, size))
		}
	}
	if _, _, err := Rebuild(slices.Values([][]byte{testLeaf(0), {1}})); err == nil {
		t.Error("Rebuild accepted a 1-byte leaf hash")
	}
}

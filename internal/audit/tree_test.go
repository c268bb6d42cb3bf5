package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// mustMemStore returns a MemStore holding the first n test leaves, appended
// one at a time as an engine does.
func mustMemStore(tb testing.TB, n int) *MemStore {
	tb.Helper()
	m := NewMemStore()
	for i := range n {
		if _, err := m.Append(testLeaf(i)); err != nil {
			tb.Fatal(err)
		}
	}
	return m
}

func equalHashes(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestHashVectors(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  []byte
		want string
	}{
		{"empty root", EmptyRoot(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"empty leaf", LeafHash(nil), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
		{"leaf", LeafHash([]byte("record-0")), hex.EncodeToString(refLeafHash([]byte("record-0")))},
		{"node", NodeHash(testLeaf(0), testLeaf(1)), hex.EncodeToString(refNodeHash(testLeaf(0), testLeaf(1)))},
	} {
		if got := hex.EncodeToString(tt.got); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestRootsAndInclusionProofs checks every root and every inclusion proof
// for sizes 1..300 against the naive implementation, all read from one
// store that has grown past them.
func TestRootsAndInclusionProofs(t *testing.T) {
	const max = 300
	ctx := context.Background()
	ref := newRefTree(max)
	m := mustMemStore(t, max)
	tree := NewTree(m)
	merkleTree := testonly.New(hasher)
	merkleTree.Append(ref.leaves...)

	if got, err := tree.Root(ctx, 0); err != nil || !bytes.Equal(got, EmptyRoot()) {
		t.Fatalf("Root(0) = %x, %v; want empty root", got, err)
	}
	for size := 1; size <= max; size++ {
		root, err := tree.Root(ctx, uint64(size))
		if err != nil {
			t.Fatalf("Root(%d): %v", size, err)
		}
		if want := ref.mth(0, size); !bytes.Equal(root, want) {
			t.Fatalf("Root(%d) = %x, want %x", size, root, want)
		}
		if want := merkleTree.HashAt(uint64(size)); !bytes.Equal(root, want) {
			t.Fatalf("Root(%d) = %x, merkle testonly says %x", size, root, want)
		}
		for index := range size {
			p, err := tree.InclusionProof(ctx, uint64(index), uint64(size))
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", index, size, err)
			}
			if want := ref.path(index, 0, size); !equalHashes(p, want) {
				t.Fatalf("InclusionProof(%d, %d) = %x, want %x", index, size, p, want)
			}
			if err := VerifyInclusion(ref.leaves[index], uint64(index), uint64(size), p, root); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", index, size, err)
			}
		}
	}
	if _, err := tree.InclusionProof(ctx, 5, 5); err == nil {
		t.Error("InclusionProof(5, 5) succeeded")
	}
}

func TestConsistencyProofs(t *testing.T) {
	const max = 100
	ctx := context.Background()
	ref := newRefTree(max)
	tree := NewTree(mustMemStore(t, max))
	for n := 0; n <= max; n++ {
		for m := 0; m <= n; m++ {
			p, err := tree.ConsistencyProof(ctx, uint64(m), uint64(n))
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", m, n, err)
			}
			var want [][]byte
			if m > 0 && m < n {
				want = ref.proof(m, n)
			}
			if !equalHashes(p, want) {
				t.Fatalf("ConsistencyProof(%d, %d) = %x, want %x", m, n, p, want)
			}
			if err := VerifyConsistency(uint64(m), uint64(n), p, ref.mth(0, m), ref.mth(0, n)); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d): %v", m, n, err)
			}
		}
	}
	if _, err := tree.ConsistencyProof(ctx, 5, 4); err == nil {
		t.Error("ConsistencyProof(5, 4) succeeded")
	}
}

func TestAppendNeeds(t *testing.T) {
	for _, tt := range []struct {
		size  uint64
		count int
		want  []NodeID
	}{
		{0, 1, nil},
		{0, 0, nil},
		{1, 0, nil},
		{1, 1, []NodeID{{0, 0}}},
		{2, 1, nil},
		{3, 1, []NodeID{{1, 0}, {0, 2}}},
		{6, 1, nil},
		{7, 1, []NodeID{{2, 0}, {1, 2}, {0, 6}}},
		{6, 2, []NodeID{{2, 0}, {1, 2}}},
		{5, 3, []NodeID{{2, 0}, {0, 4}}},
		{5, 2, []NodeID{{0, 4}}},
		{12, 4, []NodeID{{3, 0}, {2, 2}}},
		{12, 3, nil},
	} {
		got := AppendNeeds(tt.size, tt.count)
		if len(got) != len(tt.want) {
			t.Errorf("AppendNeeds(%d, %d) = %v, want %v", tt.size, tt.count, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("AppendNeeds(%d, %d) = %v, want %v", tt.size, tt.count, got, tt.want)
				break
			}
		}
	}
}

// allNodes returns every stored perfect-subtree node of a tree of size n.
func allNodes(tb testing.TB, r HashReader, n uint64) map[NodeID][]byte {
	tb.Helper()
	var ids []NodeID
	for k := uint(0); n>>k > 0; k++ {
		for i := range n >> k {
			ids = append(ids, NodeID{k, i})
		}
	}
	hs, err := r.Hashes(context.Background(), ids)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[NodeID][]byte, len(ids))
	for i, id := range ids {
		out[id] = hs[i]
	}
	return out
}

// TestAppendNodes checks the nodes written per append: exactly the leaf
// and the subtrees it completes, each with the naive hash of its range.
func TestAppendNodes(t *testing.T) {
	const max = 300
	ref := newRefTree(max)
	m := NewMemStore()
	written := 0
	for i := range max {
		size := uint64(i)
		nodes, err := Append(context.Background(), m, size, ref.leaves[i])
		if err != nil {
			t.Fatalf("Append at %d: %v", i, err)
		}
		if got, want := len(nodes), 1+bits.TrailingZeros64(^size); got != want {
			t.Fatalf("Append at %d wrote %d nodes, want %d", i, got, want)
		}
		for _, n := range nodes {
			lo, hi := n.ID.Index<<n.ID.Level, (n.ID.Index+1)<<n.ID.Level
			if hi != size+1 {
				t.Fatalf("Append at %d wrote node %s covering [%d, %d)", i, n.ID, lo, hi)
			}
			if want := ref.mth(int(lo), int(hi)); !bytes.Equal(n.Hash, want) {
				t.Fatalf("node %s = %x, want %x", n.ID, n.Hash, want)
			}
		}
		written += len(nodes)
		if _, err := m.Append(ref.leaves[i]); err != nil {
			t.Fatal(err)
		}
	}
	if written >= 2*max {
		t.Errorf("wrote %d nodes for %d leaves, want fewer than 2 per leaf", written, max)
	}
}

// TestAppendBatches checks that appending in batches of any size stores the
// same nodes as appending one leaf at a time.
func TestAppendBatches(t *testing.T) {
	const max = 300
	ref := newRefTree(max)
	want := allNodes(t, mustMemStore(t, max), max)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		m := NewMemStore()
		for done := 0; done < max; {
			k := min(1+rng.IntN(40), max-done)
			first, err := m.Append(ref.leaves[done : done+k]...)
			if err != nil {
				t.Fatal(err)
			}
			if first != uint64(done) {
				t.Fatalf("Append returned first index %d, want %d", first, done)
			}
			done += k
		}
		got := allNodes(t, m, max)
		for id, h := range want {
			if !bytes.Equal(got[id], h) {
				t.Fatalf("trial %d: node %s = %x, want %x", trial, id, got[id], h)
			}
		}
	}
}

func TestAppendNodesErrors(t *testing.T) {
	leaf := testLeaf(0)
	for _, tt := range []struct {
		name   string
		size   uint64
		edge   [][]byte
		leaves [][]byte
	}{
		{"missing edge", 1, nil, [][]byte{leaf}},
		{"extra edge", 0, [][]byte{leaf}, [][]byte{leaf}},
		{"short edge hash", 1, [][]byte{leaf[:31]}, [][]byte{leaf}},
		{"short leaf", 0, nil, [][]byte{leaf[:31]}},
		{"long leaf", 2, nil, [][]byte{append(leaf, 0)}},
	} {
		if _, err := AppendNodes(tt.size, tt.edge, tt.leaves...); err == nil {
			t.Errorf("%s: AppendNodes succeeded", tt.name)
		}
	}
}

// holes is a HashReader that hides some nodes of another.
type holes struct {
	HashReader
	hide map[NodeID]bool
	err  error
}

func (h holes) Hashes(ctx context.Context, ids []NodeID) ([][]byte, error) {
	if h.err != nil {
		return nil, h.err
	}
	hs, err := h.HashReader.Hashes(ctx, ids)
	for i, id := range ids {
		if h.hide[id] {
			hs[i] = nil
		}
	}
	return hs, err
}

func TestTreeMissingNode(t *testing.T) {
	ctx := context.Background()
	m := mustMemStore(t, 10)
	tree := NewTree(holes{HashReader: m, hide: map[NodeID]bool{{2, 0}: true}})
	var missing *MissingNodeError
	if _, err := tree.InclusionProof(ctx, 5, 10); !errors.As(err, &missing) || missing.ID != (NodeID{2, 0}) {
		t.Errorf("InclusionProof error = %v, want missing node 2/0", err)
	}
	if _, err := tree.Root(ctx, 10); err != nil {
		t.Errorf("Root(10) needs 3/0 and 1/4, got %v", err)
	}
	if _, err := tree.Root(ctx, 11); !errors.As(err, &missing) || missing.ID != (NodeID{0, 10}) {
		t.Errorf("Root beyond the log: error = %v, want missing node 0/10", err)
	}
	if _, err := Append(ctx, holes{HashReader: m, hide: map[NodeID]bool{{1, 4}: true}}, 10, testLeaf(10)); err != nil {
		t.Errorf("Append at 10 needs nothing, got %v", err)
	}
	if _, err := Append(ctx, holes{HashReader: m, hide: map[NodeID]bool{{1, 4}: true}}, 10, testLeaf(10), testLeaf(11)); !errors.As(err, &missing) {
		t.Errorf("Append of two at 10 needs 1/4, got %v", err)
	}
	boom := errors.New("disk on fire")
	if _, err := NewTree(holes{HashReader: m, err: boom}).ConsistencyProof(ctx, 3, 9); !errors.Is(err, boom) {
		t.Errorf("ConsistencyProof error = %v, want %v wrapped", err, boom)
	}
}

// TestHasherMatchesRFC6962 checks the package hasher against the merkle
// module's, including hashes of unusual lengths.
func TestHasherMatchesRFC6962(t *testing.T) {
	for _, data := range [][]byte{nil, {}, {0}, []byte("record"), bytes.Repeat([]byte{7}, 1000)} {
		if got, want := LeafHash(data), rfc6962.DefaultHasher.HashLeaf(data); !bytes.Equal(got, want) {
			t.Errorf("LeafHash(%q) = %x, want %x", data, got, want)
		}
		if got, want := NodeHash(data, testLeaf(1)), rfc6962.DefaultHasher.HashChildren(data, testLeaf(1)); !bytes.Equal(got, want) {
			t.Errorf("NodeHash(%q, leaf) = %x, want %x", data, got, want)
		}
	}
	if !bytes.Equal(EmptyRoot(), rfc6962.DefaultHasher.EmptyRoot()) || hasher.Size() != rfc6962.DefaultHasher.Size() {
		t.Error("empty root or size differ from rfc6962")
	}
}

// TestAppendLargeBatch crosses MemStore's internal chunk boundary.
func TestAppendLargeBatch(t *testing.T) {
	const n = 10_000
	leaves := benchLeaves(n)
	one := NewMemStore()
	for _, l := range leaves {
		if _, err := one.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	batch := NewMemStore()
	if _, err := batch.Append(leaves[:3]...); err != nil {
		t.Fatal(err)
	}
	if _, err := batch.Append(leaves[3:]...); err != nil {
		t.Fatal(err)
	}
	want, got := allNodes(t, one, n), allNodes(t, batch, n)
	for id, h := range want {
		if !bytes.Equal(got[id], h) {
			t.Fatalf("node %s = %x, want %x", id, got[id], h)
		}
	}
	if _, err := batch.Append(leaves[0], leaves[1][:5]); err == nil || batch.Size() != n {
		t.Errorf("Append with a bad hash: err %v, size %d; want an error and no change", err, batch.Size())
	}
}

// TestConcurrentAppendAndProve appends while other goroutines prove and
// verify against checkpoints of the sizes they see (run with -race).
func TestConcurrentAppendAndProve(t *testing.T) {
	const n = 2000
	ctx := context.Background()
	leaves := benchLeaves(n)
	m := NewMemStore()
	if _, err := m.Append(leaves[0]); err != nil {
		t.Fatal(err)
	}
	tree := NewTree(m)
	done := make(chan struct{})
	errs := make(chan error, 4)
	for g := range 3 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				size := m.Size()
				cp, err := tree.Checkpoint(ctx, testOrigin, size, time.Now())
				if err != nil {
					errs <- err
					return
				}
				index := rng.Uint64N(size)
				p, err := tree.InclusionProof(ctx, index, size)
				if err == nil {
					err = VerifyInclusion(leaves[index], index, size, p, cp.Root)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, l := range leaves[1:] {
		if _, err := m.Append(l); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

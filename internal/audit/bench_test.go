package audit

import (
	"context"
	"encoding/binary"
	"iter"
	"sync"
	"testing"
)

// benchLeaves returns n distinct leaf hashes.
func benchLeaves(n int) [][]byte {
	out := make([][]byte, n)
	var b [8]byte
	for i := range out {
		binary.BigEndian.PutUint64(b[:], uint64(i))
		out[i] = LeafHash(b[:])
	}
	return out
}

var (
	bench1MOnce   sync.Once
	bench1MStore  *MemStore
	bench1MLeaves [][]byte
)

// bench1M builds, once per process, a MemStore of 1,000,000 leaves in a
// single batch append.
func bench1M(b *testing.B) (*MemStore, [][]byte) {
	b.Helper()
	bench1MOnce.Do(func() {
		bench1MLeaves = benchLeaves(1_000_000)
		bench1MStore = NewMemStore()
		if _, err := bench1MStore.Append(bench1MLeaves...); err != nil {
			panic(err)
		}
	})
	return bench1MStore, bench1MLeaves
}

// BenchmarkInclusionProof1M generates and verifies one inclusion proof per
// op in a log of 1,000,000 leaves.
func BenchmarkInclusionProof1M(b *testing.B) {
	ctx := context.Background()
	m, leaves := bench1M(b)
	tree := NewTree(m)
	size := m.Size()
	root, err := tree.Root(ctx, size)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		index := (i * 7919) % size
		i++
		p, err := tree.InclusionProof(ctx, index, size)
		if err != nil {
			b.Fatal(err)
		}
		if err := VerifyInclusion(leaves[index], index, size, p, root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild1M appends 1,000,000 leaves to an empty MemStore.
func BenchmarkBuild1M(b *testing.B) {
	leaves := benchLeaves(1_000_000)
	for b.Loop() {
		if _, err := NewMemStore().Append(leaves...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppend appends one leaf per op as an engine does: read the edge
// nodes, compute the new nodes, store them.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	leaves := benchLeaves(1 << 16)
	m := NewMemStore()
	b.ReportAllocs()
	var i int
	for b.Loop() {
		nodes, err := Append(ctx, m, m.Size(), leaves[i%len(leaves)])
		if err != nil {
			b.Fatal(err)
		}
		if len(nodes) == 0 {
			b.Fatal("no nodes")
		}
		if _, err := m.Append(leaves[i%len(leaves)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRebuild100k recomputes the root of a 100,000-leaf tree from its
// leaf hashes.
func BenchmarkRebuild100k(b *testing.B) {
	leaves := benchLeaves(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Rebuild(seq(leaves)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify100k runs the full audit of a 100,000-leaf log with 100
// checkpoints, from recomputed leaf hashes.
func BenchmarkVerify100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	leaves := benchLeaves(n)
	m := NewMemStore()
	if _, err := m.Append(leaves...); err != nil {
		b.Fatal(err)
	}
	signer, verifier := testKeys(b, testOrigin)
	tree := NewTree(m)
	var cps [][]byte
	for size := uint64(1000); size <= n; size += 1000 {
		root, err := tree.Root(ctx, size)
		if err != nil {
			b.Fatal(err)
		}
		cp := testCheckpoint(0)
		cp.Size, cp.Root = size, root
		cps = append(cps, mustSign(b, signer, cp))
	}
	v := &Verifier{Key: verifier, Origin: testOrigin, Nodes: m}
	for b.Loop() {
		rep, err := v.Verify(ctx, n, indexed(leaves), cps)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() || rep.Checkpoints != len(cps) {
			b.Fatalf("findings: %v", rep.Findings)
		}
	}
}

func seq(hs [][]byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, h := range hs {
			if !yield(h) {
				return
			}
		}
	}
}

func indexed(hs [][]byte) iter.Seq2[uint64, []byte] {
	return func(yield func(uint64, []byte) bool) {
		for i, h := range hs {
			if !yield(uint64(i), h) {
				return
			}
		}
	}
}

package audit

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func flip(b []byte) []byte {
	c := bytes.Clone(b)
	c[0] ^= 1
	return c
}

func TestVerifyInclusionEvidence(t *testing.T) {
	const size, index = 37, 12
	ctx := context.Background()
	ref := newRefTree(size)
	tree := NewTree(mustMemStore(t, size))
	p, err := tree.InclusionProof(ctx, index, size)
	if err != nil {
		t.Fatal(err)
	}
	root := ref.mth(0, size)
	badProof := append([][]byte(nil), p...)
	badProof[2] = flip(badProof[2])

	for _, tt := range []struct {
		name        string
		leaf        []byte
		index, size uint64
		proof       [][]byte
		root        []byte
		// wantComputed is the root the bad inputs lead to, or nil when
		// the proof has the wrong shape.
		wantComputed []byte
	}{
		{"other leaf", testLeaf(13), index, size, p, root, []byte{}},
		{"other index", ref.leaves[index], index + 1, size, p, root, []byte{}},
		{"altered proof", ref.leaves[index], index, size, badProof, root, []byte{}},
		{"other root", ref.leaves[index], index, size, p, ref.mth(0, size-1), root},
		{"short proof", ref.leaves[index], index, size, p[:len(p)-1], root, nil},
		{"long proof", ref.leaves[index], index, size, append(p, root), root, nil},
		{"index beyond size", ref.leaves[index], size, size, p, root, nil},
		{"short leaf hash", ref.leaves[index][:16], index, size, p, root, nil},
		{"short root", ref.leaves[index], index, size, p, root[:31], nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyInclusion(tt.leaf, tt.index, tt.size, tt.proof, tt.root)
			var ie *InclusionError
			if !errors.As(err, &ie) {
				t.Fatalf("VerifyInclusion error = %v, want *InclusionError", err)
			}
			if ie.Index != tt.index || ie.Size != tt.size || !bytes.Equal(ie.Root, tt.root) ||
				!bytes.Equal(ie.LeafHash, tt.leaf) || !equalHashes(ie.Proof, tt.proof) || ie.Reason == "" {
				t.Errorf("evidence does not carry the inputs: %+v", ie)
			}
			switch {
			case tt.wantComputed == nil && ie.Computed != nil:
				t.Errorf("Computed = %x for a malformed proof", ie.Computed)
			case tt.wantComputed != nil && len(ie.Computed) != HashSize:
				t.Errorf("Computed = %x, want a root", ie.Computed)
			case len(tt.wantComputed) > 0 && !bytes.Equal(ie.Computed, tt.wantComputed):
				t.Errorf("Computed = %x, want %x", ie.Computed, tt.wantComputed)
			case bytes.Equal(ie.Computed, tt.root):
				t.Errorf("Computed equals the root it failed against")
			}
		})
	}
	// "other leaf" leads to a root: it is the root with leaf 13 in place of leaf 12.
	lv := append([][]byte(nil), ref.leaves...)
	lv[index] = testLeaf(13)
	alt := &refTree{leaves: lv, memo: map[[2]int][]byte{}}
	var ie *InclusionError
	if err := VerifyInclusion(testLeaf(13), index, size, p, root); !errors.As(err, &ie) || !bytes.Equal(ie.Computed, alt.mth(0, size)) {
		t.Errorf("Computed for a substituted leaf = %x, want %x", ie.Computed, alt.mth(0, size))
	}
}

func TestVerifyConsistencyEvidence(t *testing.T) {
	const m, n = 13, 37
	ctx := context.Background()
	ref := newRefTree(n)
	tree := NewTree(mustMemStore(t, n))
	p, err := tree.ConsistencyProof(ctx, m, n)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := ref.mth(0, m), ref.mth(0, n)
	badProof := append([][]byte(nil), p...)
	badProof[len(badProof)-1] = flip(badProof[len(badProof)-1])
	for _, tt := range []struct {
		name       string
		m, n       uint64
		proof      [][]byte
		r1, r2     []byte
		wantReason string
	}{
		{"forked first root", m, n, p, flip(r1), r2, "proof does not lead to the first root"},
		{"forked second root", m, n, p, r1, flip(r2), "proof does not lead to the second root"},
		{"altered proof", m, n, badProof, r1, r2, "proof does not lead to the second root"},
		{"same size, other root", n, n, nil, r2, flip(r2), "roots of the same size differ"},
		{"short proof", m, n, p[:1], r1, r2, ""},
		{"shrinking", n, m, p, r2, r1, ""},
		{"short root", m, n, p, r1, r2[:5], "second root is not 32 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyConsistency(tt.m, tt.n, tt.proof, tt.r1, tt.r2)
			var ce *ConsistencyError
			if !errors.As(err, &ce) {
				t.Fatalf("VerifyConsistency error = %v, want *ConsistencyError", err)
			}
			if ce.Size1 != tt.m || ce.Size2 != tt.n || !bytes.Equal(ce.Root1, tt.r1) || !bytes.Equal(ce.Root2, tt.r2) || ce.Reason == "" {
				t.Errorf("evidence does not carry the inputs: %+v", ce)
			}
			if tt.wantReason != "" && ce.Reason != tt.wantReason {
				t.Errorf("Reason = %q, want %q", ce.Reason, tt.wantReason)
			}
			if ce.Computed != nil && bytes.Equal(ce.Computed, ce.Expected) {
				t.Errorf("Computed equals Expected: %x", ce.Computed)
			}
		})
	}
}

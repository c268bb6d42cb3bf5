package audit

import (
	"crypto/sha256"
	"fmt"
	"math/bits"
)

// This file is an independent, naive RFC 6962 implementation (section 2.1)
// that the tests compare the package against. It uses crypto/sha256
// directly, not the merkle module.

func refLeafHash(data []byte) []byte {
	s := sha256.Sum256(append([]byte{0}, data...))
	return s[:]
}

func refNodeHash(l, r []byte) []byte {
	s := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return s[:]
}

// testLeaf returns the leaf hash of the i-th test record.
func testLeaf(i int) []byte { return refLeafHash(fmt.Appendf(nil, "record-%d", i)) }

// refTree memoises MTH over ranges of one fixed leaf sequence.
type refTree struct {
	leaves [][]byte
	memo   map[[2]int][]byte
}

func newRefTree(n int) *refTree {
	t := &refTree{memo: map[[2]int][]byte{}}
	for i := range n {
		t.leaves = append(t.leaves, testLeaf(i))
	}
	return t
}

// split returns the largest power of two smaller than n (n > 1).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// mth is MTH(D[lo:hi]).
func (t *refTree) mth(lo, hi int) []byte {
	n := hi - lo
	switch n {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return t.leaves[lo]
	}
	if h, ok := t.memo[[2]int{lo, hi}]; ok {
		return h
	}
	k := split(n)
	h := refNodeHash(t.mth(lo, lo+k), t.mth(lo+k, hi))
	t.memo[[2]int{lo, hi}] = h
	return h
}

// path is PATH(m, D[lo:hi]).
func (t *refTree) path(m, lo, hi int) [][]byte {
	n := hi - lo
	if n <= 1 {
		return nil
	}
	k := split(n)
	if m < k {
		return append(t.path(m, lo, lo+k), t.mth(lo+k, hi))
	}
	return append(t.path(m-k, lo+k, hi), t.mth(lo, lo+k))
}

// proof is PROOF(m, D[0:n]).
func (t *refTree) proof(m, n int) [][]byte { return t.subproof(m, 0, n, true) }

func (t *refTree) subproof(m, lo, hi int, b bool) [][]byte {
	n := hi - lo
	if m == n {
		if b {
			return nil
		}
		return [][]byte{t.mth(lo, hi)}
	}
	k := split(n)
	if m <= k {
		return append(t.subproof(m, lo, lo+k, b), t.mth(lo+k, hi))
	}
	return append(t.subproof(m-k, lo+k, hi, false), t.mth(lo, lo+k))
}

package audit

import (
	"fmt"
	"iter"

	"github.com/transparency-dev/merkle/compact"
)

// Rebuild computes the root of the tree made of leafHashes, in order, and
// its size, keeping only the O(log n) right edge in memory. It trusts no
// stored node: it is the auditor's reference computation.
func Rebuild(leafHashes iter.Seq[[]byte]) (root []byte, size uint64, err error) {
	var edge [][]byte // perfect subtrees on the right edge, highest first
	for h := range leafHashes {
		if len(h) != HashSize {
			return nil, 0, fmt.Errorf("rebuild: leaf %d: %w", size, ErrBadHash)
		}
		for i := size; i&1 == 1; i >>= 1 {
			h = NodeHash(edge[len(edge)-1], h)
			edge = edge[:len(edge)-1]
		}
		edge = append(edge, h)
		size++
	}
	if size == 0 {
		return EmptyRoot(), 0, nil
	}
	return foldRight(edge), size, nil
}

// dense holds every perfect-subtree node of a tree in memory: levels[k][i]
// is node (k, i), nil when a leaf under it is unknown.
type dense [][][]byte

// buildDense computes all nodes above leaves; nil leaves make their
// ancestors nil.
func buildDense(leaves [][]byte) dense {
	d := dense{leaves}
	for cur := leaves; len(cur) > 1; {
		next := make([][]byte, len(cur)/2)
		for i := range next {
			l, r := cur[2*i], cur[2*i+1]
			if l != nil && r != nil {
				next[i] = NodeHash(l, r)
			}
		}
		d = append(d, next)
		cur = next
	}
	return d
}

// node returns node id, or nil when it is unknown or not complete.
func (d dense) node(id NodeID) []byte {
	if id.Level >= uint(len(d)) || id.Index >= uint64(len(d[id.Level])) {
		return nil
	}
	return d[id.Level][id.Index]
}

// root returns the root of the tree of the first size leaves, or nil and
// the first unknown node.
func (d dense) root(size uint64) ([]byte, *NodeID) {
	if size == 0 {
		return EmptyRoot(), nil
	}
	ids := toIDs(compact.RangeNodes(0, size, nil))
	hs := make([][]byte, len(ids))
	for i, id := range ids {
		if hs[i] = d.node(id); hs[i] == nil {
			return nil, &ids[i]
		}
	}
	return foldRight(hs), nil
}

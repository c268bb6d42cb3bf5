package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// Tree computes roots and proofs over the nodes a [HashReader] stores. It
// holds no state of its own, so it is safe for concurrent use when its
// reader is. The sizes passed to its methods MUST NOT exceed the committed
// log size: nodes beyond it are not stored and the methods then return a
// [*MissingNodeError].
type Tree struct {
	r HashReader
}

// NewTree returns a Tree reading nodes from r.
func NewTree(r HashReader) *Tree { return &Tree{r: r} }

// Root returns the RFC 6962 root hash of the tree made of the first size
// leaves, reading one node per one bit of size.
func (t *Tree) Root(ctx context.Context, size uint64) ([]byte, error) {
	if size == 0 {
		return EmptyRoot(), nil
	}
	ids := toIDs(compact.RangeNodes(0, size, nil))
	hs, err := readNodes(ctx, t.r, ids)
	if err != nil {
		return nil, fmt.Errorf("root %d: %w", size, err)
	}
	return foldRight(hs), nil
}

// Checkpoint returns the unsigned checkpoint of the tree of the given size
// for the log named origin, stamped with now; sign it with [Sign].
func (t *Tree) Checkpoint(ctx context.Context, origin string, size uint64, now time.Time) (*Checkpoint, error) {
	root, err := t.Root(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return &Checkpoint{Origin: origin, Size: size, Root: root, Time: now}, nil
}

// foldRight hashes the right-edge perfect subtrees of a tree, given left to
// right, into its root.
func foldRight(hs [][]byte) []byte {
	h := hs[len(hs)-1]
	for i := len(hs) - 2; i >= 0; i-- {
		h = NodeHash(hs[i], h)
	}
	return h
}

// InclusionProof returns the RFC 6962 inclusion proof of the leaf at index
// in the tree of the given size. It requires index < size.
func (t *Tree) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	p, err := t.fetch(ctx, nodes)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof %d in %d: %w", index, size, err)
	}
	return p, nil
}

// ConsistencyProof returns the RFC 6962 consistency proof between the trees
// of sizes m and n. It requires m <= n; the proof is empty when m is 0 or
// m == n.
func (t *Tree) ConsistencyProof(ctx context.Context, m, n uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(m, n)
	if err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	p, err := t.fetch(ctx, nodes)
	if err != nil {
		return nil, fmt.Errorf("consistency proof %d to %d: %w", m, n, err)
	}
	return p, nil
}

// fetch reads the nodes of a proof and rehashes its ephemeral node.
func (t *Tree) fetch(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	if len(nodes.IDs) == 0 {
		return [][]byte{}, nil
	}
	hs, err := readNodes(ctx, t.r, toIDs(nodes.IDs))
	if err != nil {
		return nil, err
	}
	// Rehash rewrites the outer slice in place: give it our own copy.
	hs = append([][]byte(nil), hs...)
	return nodes.Rehash(hs, NodeHash)
}

package audit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"

	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size in bytes of every hash in the log (SHA-256).
const HashSize = sha256.Size

// hasher is the RFC 6962 SHA-256 hasher used for every node; it is
// rfc6962.DefaultHasher without its per-call allocations of a hash state.
var hasher merkle.LogHasher = sha256Hasher{}

type sha256Hasher struct{}

func (sha256Hasher) EmptyRoot() []byte {
	s := sha256.Sum256(nil)
	return s[:]
}

func (sha256Hasher) HashLeaf(leaf []byte) []byte {
	d := sha256.New()
	d.Write([]byte{rfc6962.RFC6962LeafHashPrefix})
	d.Write(leaf)
	return d.Sum(make([]byte, 0, HashSize))
}

func (sha256Hasher) HashChildren(l, r []byte) []byte {
	var buf [1 + 2*HashSize]byte
	b := append(append(append(buf[:0], rfc6962.RFC6962NodeHashPrefix), l...), r...)
	s := sha256.Sum256(b)
	return s[:]
}

func (sha256Hasher) Size() int { return HashSize }

// NodeID identifies a node of the tree. Level 0 holds the leaf hashes; the
// node at level k and index i is the root of the perfect subtree covering
// leaves [i*2^k, (i+1)*2^k).
type NodeID struct {
	Level uint
	Index uint64
}

// String returns the ID as "level/index".
func (id NodeID) String() string { return fmt.Sprintf("%d/%d", id.Level, id.Index) }

// Node is a node of the tree with its hash.
type Node struct {
	ID   NodeID
	Hash []byte
}

// HashReader reads stored tree nodes. Storage engines implement it.
//
// Hashes MUST return exactly one entry per requested ID, in the order of
// ids. A node that is not stored MUST be returned as a nil entry, not as an
// error: the error is for failures of the storage itself. Callers MUST NOT
// modify the returned slices. Implementations used by a [Tree] shared
// between goroutines MUST be safe for concurrent use.
type HashReader interface {
	Hashes(ctx context.Context, ids []NodeID) ([][]byte, error)
}

// MissingNodeError reports that a node needed for a root or proof is not
// stored.
type MissingNodeError struct {
	ID NodeID
}

// Error implements error.
func (e *MissingNodeError) Error() string { return fmt.Sprintf("node %s is not stored", e.ID) }

// ErrBadHash is returned, wrapped, when a hash has the wrong length.
var ErrBadHash = errors.New("hash is not 32 bytes")

// LeafHash returns the RFC 6962 leaf hash of data: SHA-256(0x00 || data).
// data is the canonical encoding of an archived record.
func LeafHash(data []byte) []byte { return hasher.HashLeaf(data) }

// NodeHash returns the RFC 6962 hash of an internal node with the given
// children: SHA-256(0x01 || left || right).
func NodeHash(left, right []byte) []byte { return hasher.HashChildren(left, right) }

// EmptyRoot returns the root of the empty tree: SHA-256 of no bytes.
func EmptyRoot() []byte { return hasher.EmptyRoot() }

// AppendNeeds returns the IDs of the stored nodes that [AppendNodes] needs
// as its edge argument to append count leaves to a tree of the given size:
// the perfect subtrees on the right edge of the tree that the new leaves
// complete into bigger ones, from the highest level to the lowest. It reads
// nothing. When count is 1 it returns one ID per trailing one bit of size:
// none for every even size, one node on average.
func AppendNeeds(size uint64, count int) []NodeID {
	if count <= 0 {
		return nil
	}
	end := size + uint64(count)
	// A right-edge node of [0, size) at level k survives the append iff
	// end>>k == size>>k; the others merge and must be read.
	top := bits.Len64(size^end) - 1
	var ids []NodeID
	for k := top; k >= 0; k-- {
		if size&(1<<uint(k)) != 0 {
			ids = append(ids, NodeID{Level: uint(k), Index: size>>uint(k) - 1})
		}
	}
	return ids
}

// AppendNodes returns the nodes to store when appending leafHashes to a tree
// of the given size: each leaf (level 0, index size, size+1, ...) followed by
// every internal node it completes, lowest level first. edge MUST hold the
// hashes of the IDs returned by AppendNeeds(size, len(leafHashes)), in that
// order. AppendNodes is pure: the caller stores all returned nodes, in the
// same transaction that moves the size to size+len(leafHashes).
func AppendNodes(size uint64, edge [][]byte, leafHashes ...[]byte) ([]Node, error) {
	need := AppendNeeds(size, len(leafHashes))
	if len(edge) != len(need) {
		return nil, fmt.Errorf("append nodes: got %d edge hashes, want %d", len(edge), len(need))
	}
	// stack holds the right edge still to be merged, highest level first.
	type entry struct {
		level uint
		hash  []byte
	}
	stack := make([]entry, 0, len(need)+bits.Len64(size+uint64(len(leafHashes))))
	for i, h := range edge {
		if len(h) != HashSize {
			return nil, fmt.Errorf("append nodes: edge node %s: %w", need[i], ErrBadHash)
		}
		stack = append(stack, entry{need[i].Level, h})
	}
	out := make([]Node, 0, 2*len(leafHashes)+1)
	for j, leaf := range leafHashes {
		if len(leaf) != HashSize {
			return nil, fmt.Errorf("append nodes: leaf %d: %w", j, ErrBadHash)
		}
		index := size + uint64(j)
		h := leaf
		out = append(out, Node{ID: NodeID{0, index}, Hash: h})
		var level uint
		for (index>>level)&1 == 1 {
			top := stack[len(stack)-1]
			if top.level != level {
				return nil, fmt.Errorf("append nodes: internal error: edge level %d, want %d", top.level, level)
			}
			stack = stack[:len(stack)-1]
			h = NodeHash(top.hash, h)
			level++
			out = append(out, Node{ID: NodeID{level, index >> level}, Hash: h})
		}
		stack = append(stack, entry{level, h})
	}
	return out, nil
}

// Append reads the edge nodes from r and returns the nodes to store when
// appending leafHashes to a tree of the given size (see [AppendNodes]).
// The caller MUST hold the lock that serialises appends from reading size
// until the returned nodes and the new size are committed.
func Append(ctx context.Context, r HashReader, size uint64, leafHashes ...[]byte) ([]Node, error) {
	need := AppendNeeds(size, len(leafHashes))
	var edge [][]byte
	if len(need) > 0 {
		var err error
		if edge, err = readNodes(ctx, r, need); err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
	}
	nodes, err := AppendNodes(size, edge, leafHashes...)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	return nodes, nil
}

// readNodes reads ids from r and checks that each is stored and well formed.
func readNodes(ctx context.Context, r HashReader, ids []NodeID) ([][]byte, error) {
	hs, err := r.Hashes(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	if len(hs) != len(ids) {
		return nil, fmt.Errorf("read nodes: got %d hashes for %d ids", len(hs), len(ids))
	}
	for i, h := range hs {
		switch {
		case h == nil:
			return nil, fmt.Errorf("read nodes: %w", &MissingNodeError{ID: ids[i]})
		case len(h) != HashSize:
			return nil, fmt.Errorf("read nodes: node %s: %w", ids[i], ErrBadHash)
		}
	}
	return hs, nil
}

// toIDs converts merkle's node IDs to ours; the types have the same layout.
func toIDs(c []compact.NodeID) []NodeID {
	ids := make([]NodeID, len(c))
	for i, id := range c {
		ids[i] = NodeID(id)
	}
	return ids
}

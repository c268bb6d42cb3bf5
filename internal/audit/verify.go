package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
)

// InclusionError is the evidence of a failed inclusion check: the inputs
// and, when the proof had the right shape, the root it leads to.
type InclusionError struct {
	LeafHash []byte
	Index    uint64
	Size     uint64
	Proof    [][]byte
	// Root is the root the proof was checked against (from a checkpoint).
	Root []byte
	// Computed is the root the proof and leaf hash lead to; nil when the
	// proof was malformed (wrong length, index out of range).
	Computed []byte
	// Reason says what failed.
	Reason string
}

// Error implements error.
func (e *InclusionError) Error() string {
	if e.Computed != nil {
		return fmt.Sprintf("inclusion of leaf %d in tree %d: %s: computed root %s, checkpoint root %s",
			e.Index, e.Size, e.Reason, hex.EncodeToString(e.Computed), hex.EncodeToString(e.Root))
	}
	return fmt.Sprintf("inclusion of leaf %d in tree %d: %s", e.Index, e.Size, e.Reason)
}

// VerifyInclusion checks that leafHash is the leaf at index in the tree of
// the given size whose root is root, using an RFC 6962 inclusion proof. It
// needs no store. On failure it returns an [*InclusionError].
func VerifyInclusion(leafHash []byte, index, size uint64, proofHashes [][]byte, root []byte) error {
	e := &InclusionError{LeafHash: leafHash, Index: index, Size: size, Proof: proofHashes, Root: root}
	if len(root) != HashSize {
		e.Reason = "root is not 32 bytes"
		return e
	}
	computed, err := proof.RootFromInclusionProof(hasher, index, size, leafHash, proofHashes)
	if err != nil {
		e.Reason = err.Error()
		return e
	}
	if !bytes.Equal(computed, root) {
		e.Computed = computed
		e.Reason = "root mismatch"
		return e
	}
	return nil
}

// ConsistencyError is the evidence of a failed consistency check.
type ConsistencyError struct {
	Size1, Size2 uint64
	Root1, Root2 []byte
	Proof        [][]byte
	// Expected and Computed are the root the proof was checked against
	// (Root1 or Root2) and the root it leads to; nil when the proof was
	// malformed.
	Expected, Computed []byte
	// Reason says what failed.
	Reason string
}

// Error implements error.
func (e *ConsistencyError) Error() string {
	if e.Computed != nil {
		return fmt.Sprintf("consistency of tree %d with tree %d: %s: computed %s, expected %s",
			e.Size1, e.Size2, e.Reason, hex.EncodeToString(e.Computed), hex.EncodeToString(e.Expected))
	}
	return fmt.Sprintf("consistency of tree %d with tree %d: %s", e.Size1, e.Size2, e.Reason)
}

// VerifyConsistency checks that the tree of size1 with root1 is a prefix of
// the tree of size2 with root2, using an RFC 6962 consistency proof. It
// needs no store. On failure it returns a [*ConsistencyError].
func VerifyConsistency(size1, size2 uint64, proofHashes [][]byte, root1, root2 []byte) error {
	e := &ConsistencyError{Size1: size1, Size2: size2, Root1: root1, Root2: root2, Proof: proofHashes}
	switch {
	case len(root1) != HashSize && size1 > 0:
		e.Reason = "first root is not 32 bytes"
		return e
	case len(root2) != HashSize:
		e.Reason = "second root is not 32 bytes"
		return e
	}
	err := proof.VerifyConsistency(hasher, size1, size2, proofHashes, root1, root2)
	if err == nil {
		return nil
	}
	var mm proof.RootMismatchError
	if errors.As(err, &mm) {
		e.Expected, e.Computed = mm.ExpectedRoot, mm.CalculatedRoot
		switch {
		case size1 == size2:
			e.Reason = "roots of the same size differ"
		case bytes.Equal(mm.ExpectedRoot, root1):
			e.Reason = "proof does not lead to the first root"
		default:
			e.Reason = "proof does not lead to the second root"
		}
		return e
	}
	e.Reason = err.Error()
	return e
}

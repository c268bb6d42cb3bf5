package audit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"

	"golang.org/x/mod/sumdb/note"
)

// Kind classifies a [Finding].
type Kind string

// Kinds of findings. For each, the doc says what Index, Expected and Got
// hold.
const (
	// KindLeafChanged: the record at leaf Index hashes to Got, but the
	// stored leaf is Expected and no other stored leaf has hash Got (a
	// record or a stored leaf was edited).
	KindLeafChanged Kind = "leaf-changed"
	// KindLeafReordered: the record at leaf Index hashes to Got, which is
	// the stored leaf at MatchIndex; the stored leaf at Index is Expected
	// (records or leaves were swapped or renumbered).
	KindLeafReordered Kind = "leaf-reordered"
	// KindLeafMissing: no record claims leaf Index below the log size (a
	// record was deleted); Expected is the stored leaf, if any.
	KindLeafMissing Kind = "leaf-missing"
	// KindLeafDuplicate: more than one record claims leaf Index; Got is the
	// hash of a further record.
	KindLeafDuplicate Kind = "leaf-duplicate"
	// KindLeafUnlogged: a record claims leaf Index at or beyond the log
	// size; Got is its hash.
	KindLeafUnlogged Kind = "leaf-unlogged"
	// KindNodeMissing: the stored node (Level, Index) is absent; Expected is
	// its rebuilt hash, if known.
	KindNodeMissing Kind = "node-missing"
	// KindNodeMismatch: the stored internal node (Level, Index) is Got; it
	// matches neither the tree rebuilt from the records (Expected) nor the
	// tree rebuilt from the stored leaves (an internal node was edited).
	KindNodeMismatch Kind = "node-mismatch"
	// KindCheckpointMalformed: checkpoint number Index cannot be parsed.
	KindCheckpointMalformed Kind = "checkpoint-malformed"
	// KindCheckpointBadSignature: checkpoint number Index carries a
	// signature by the log's key that does not verify (forged or altered).
	KindCheckpointBadSignature Kind = "checkpoint-bad-signature"
	// KindCheckpointUnknownKey: checkpoint number Index is not signed by the
	// log's key (for instance validly signed by another key).
	KindCheckpointUnknownKey Kind = "checkpoint-unknown-key"
	// KindCheckpointOrigin: checkpoint number Index names another log.
	KindCheckpointOrigin Kind = "checkpoint-origin"
	// KindCheckpointBeyondLog: checkpoint number Index commits to more
	// leaves than the log holds (leaves were truncated).
	KindCheckpointBeyondLog Kind = "checkpoint-beyond-log"
	// KindCheckpointRootMismatch: checkpoint number Index is validly signed
	// but its root (Got) differs from the root rebuilt from the records at
	// its size (Expected).
	KindCheckpointRootMismatch Kind = "checkpoint-root-mismatch"
	// KindCheckpointUnchecked: checkpoint number Index could not be checked
	// because a leaf it covers is known neither from a record nor from the
	// stored nodes (see the leaf findings).
	KindCheckpointUnchecked Kind = "checkpoint-unchecked"
)

// Finding is one discrepancy found by a [Verifier], with its evidence.
type Finding struct {
	Kind Kind
	// Index is a leaf index for leaf findings, a node index (with Level)
	// for node findings and the position in the checkpoint list for
	// checkpoint findings.
	Index uint64
	// Level is the node level for node findings.
	Level uint
	// MatchIndex is, for KindLeafReordered, the stored leaf whose hash the
	// record has.
	MatchIndex uint64
	// Detail explains the finding in words.
	Detail string
	// Expected and Got are the hashes compared; see each Kind.
	Expected, Got []byte
	// Checkpoint is the parsed checkpoint for checkpoint findings, when it
	// could be parsed; Note is the signed note as stored.
	Checkpoint *Checkpoint
	Note       []byte
}

// String returns a one-line description of the finding.
func (f Finding) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s", f.Kind)
	switch {
	case f.Kind == KindNodeMissing || f.Kind == KindNodeMismatch:
		fmt.Fprintf(&b, " node %d/%d", f.Level, f.Index)
	case f.Checkpoint != nil || f.Note != nil:
		fmt.Fprintf(&b, " checkpoint #%d", f.Index)
	default:
		fmt.Fprintf(&b, " leaf %d", f.Index)
	}
	if f.Detail != "" {
		fmt.Fprintf(&b, ": %s", f.Detail)
	}
	if f.Expected != nil || f.Got != nil {
		fmt.Fprintf(&b, " (expected %s, got %s)", hex.EncodeToString(f.Expected), hex.EncodeToString(f.Got))
	}
	return b.String()
}

// Report is the result of [Verifier.Verify].
type Report struct {
	// Size is the log size that was checked.
	Size uint64
	// Root is the root rebuilt from the records at Size; nil when a leaf is
	// unknown.
	Root []byte
	// Checkpoints is the number of checkpoints that passed every check.
	Checkpoints int
	// Findings lists every discrepancy: leaves by index, then nodes by
	// level and index, then checkpoints by position.
	Findings []Finding
}

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// Verifier checks a whole log without trusting its operator: it rebuilds
// the tree from leaf hashes recomputed from the records and compares it
// with the stored nodes and the stored signed checkpoints.
type Verifier struct {
	// Key verifies checkpoint signatures: the log's public key. Required.
	Key note.Verifier
	// Origin is the origin every checkpoint MUST carry. Optional: if empty,
	// origins are not checked.
	Origin string
	// Nodes reads the stored tree. Required.
	Nodes HashReader
	// BatchSize is the number of nodes read per Hashes call. Optional: if
	// zero, 4096.
	BatchSize int
}

// Verify checks the log of the given size. leaves yields, for every record,
// the leaf index it claims and its leaf hash recomputed from the record's
// canonical form, in any order. checkpoints are the stored signed notes.
//
// Discrepancies are returned as findings in the report, never as an error;
// the error is for failures to read the store or misuse (a leaf hash that
// is not 32 bytes, a missing Key or Nodes).
func (v *Verifier) Verify(ctx context.Context, size uint64, leaves iter.Seq2[uint64, []byte], checkpoints [][]byte) (*Report, error) {
	if v.Key == nil || v.Nodes == nil {
		return nil, errors.New("audit verify: Key and Nodes are required")
	}
	rep := &Report{Size: size}
	var leafFindings []Finding

	// Records, by claimed index.
	rec := make([][]byte, size)
	for i, h := range leaves {
		if len(h) != HashSize {
			return nil, fmt.Errorf("audit verify: record leaf %d: %w", i, ErrBadHash)
		}
		switch {
		case i >= size:
			leafFindings = append(leafFindings, Finding{Kind: KindLeafUnlogged, Index: i, Got: h,
				Detail: fmt.Sprintf("record claims leaf %d but the log has %d leaves", i, size)})
		case rec[i] != nil:
			leafFindings = append(leafFindings, Finding{Kind: KindLeafDuplicate, Index: i, Expected: rec[i], Got: h,
				Detail: "another record already claims this leaf"})
		default:
			rec[i] = h
		}
	}

	stored, err := v.readTree(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("audit verify: %w", err)
	}

	// Reference leaves: the record, or the stored leaf when no record is left.
	ref := make([][]byte, size)
	same := true
	for i := range ref {
		ref[i] = rec[i]
		if ref[i] == nil {
			ref[i] = stored[0][i]
		}
		if !bytes.Equal(ref[i], stored[0][i]) {
			same = false
		}
	}
	recTree := buildDense(ref)
	storedTree := recTree
	if !same {
		storedTree = buildDense(stored[0])
	}

	// Leaves.
	var byHash map[string]uint64
	for i := uint64(0); i < size; i++ {
		r, s := rec[i], stored[0][i]
		if r == nil {
			leafFindings = append(leafFindings, Finding{Kind: KindLeafMissing, Index: i, Expected: s,
				Detail: "no record for this leaf: a record was deleted"})
		}
		if s == nil {
			leafFindings = append(leafFindings, Finding{Kind: KindNodeMissing, Level: 0, Index: i, Expected: r,
				Detail: "stored leaf hash is absent"})
		}
		if r == nil || s == nil || bytes.Equal(r, s) {
			continue
		}
		if byHash == nil {
			byHash = make(map[string]uint64, size)
			for j, h := range stored[0] {
				if h != nil {
					byHash[string(h)] = uint64(j)
				}
			}
		}
		if j, ok := byHash[string(r)]; ok {
			leafFindings = append(leafFindings, Finding{Kind: KindLeafReordered, Index: i, MatchIndex: j, Expected: s, Got: r,
				Detail: fmt.Sprintf("record at leaf %d has the hash of stored leaf %d", i, j)})
			continue
		}
		leafFindings = append(leafFindings, Finding{Kind: KindLeafChanged, Index: i, Expected: s, Got: r,
			Detail: "record hash differs from the stored leaf" + whichSide(i, stored, recTree, storedTree)})
	}
	slices.SortStableFunc(leafFindings, func(a, b Finding) int { return cmp.Compare(a.Index, b.Index) })
	rep.Findings = append(rep.Findings, leafFindings...)

	// Internal nodes.
	for k := 1; k < len(stored); k++ {
		for i, s := range stored[k] {
			id := NodeID{Level: uint(k), Index: uint64(i)}
			want := recTree.node(id)
			alt := storedTree.node(id)
			if want == nil {
				want = alt
			}
			switch {
			case s == nil:
				rep.Findings = append(rep.Findings, Finding{Kind: KindNodeMissing, Level: id.Level, Index: id.Index,
					Expected: want, Detail: "stored internal node is absent"})
			case want == nil, bytes.Equal(s, want), bytes.Equal(s, alt):
			default:
				rep.Findings = append(rep.Findings, Finding{Kind: KindNodeMismatch, Level: id.Level, Index: id.Index,
					Expected: want, Got: s,
					Detail: "stored internal node matches neither the records nor the stored leaves"})
			}
		}
	}

	rep.Root, _ = recTree.root(size)
	for p, signed := range checkpoints {
		if f := v.checkCheckpoint(uint64(p), signed, size, recTree, storedTree); f != nil {
			rep.Findings = append(rep.Findings, *f)
		} else {
			rep.Checkpoints++
		}
	}
	return rep, nil
}

// whichSide tells, from the stored parent of leaf i, whether the record or
// the stored leaf was changed.
func whichSide(i uint64, stored dense, recTree, storedTree dense) string {
	parent := NodeID{Level: 1, Index: i / 2}
	s := stored.node(parent)
	switch {
	case s == nil:
		return ""
	case bytes.Equal(s, storedTree.node(parent)):
		return "; the stored tree agrees with the stored leaf, so the record changed after it was logged"
	case bytes.Equal(s, recTree.node(parent)):
		return "; the stored tree agrees with the record, so the stored leaf was changed"
	}
	return ""
}

// checkCheckpoint returns the finding for checkpoint p, or nil if it is good.
func (v *Verifier) checkCheckpoint(p uint64, signed []byte, size uint64, recTree, storedTree dense) *Finding {
	f := &Finding{Index: p, Note: signed}
	cp, err := Open(signed, v.Key)
	switch {
	case errors.Is(err, ErrBadSignature):
		f.Kind, f.Detail = KindCheckpointBadSignature, err.Error()
		return f
	case errors.Is(err, ErrUnknownKey):
		f.Kind, f.Detail = KindCheckpointUnknownKey, err.Error()
		return f
	case err != nil:
		f.Kind, f.Detail = KindCheckpointMalformed, err.Error()
		return f
	}
	f.Checkpoint = cp
	if v.Origin != "" && cp.Origin != v.Origin {
		f.Kind, f.Detail = KindCheckpointOrigin, fmt.Sprintf("origin %q, want %q", cp.Origin, v.Origin)
		return f
	}
	if cp.Size > size {
		f.Kind, f.Detail = KindCheckpointBeyondLog, fmt.Sprintf("checkpoint size %d, log size %d", cp.Size, size)
		return f
	}
	want, unknown := recTree.root(cp.Size)
	if unknown != nil {
		f.Kind, f.Detail = KindCheckpointUnchecked, fmt.Sprintf("size %d: node %s is unknown", cp.Size, unknown)
		return f
	}
	if bytes.Equal(want, cp.Root) {
		return nil
	}
	f.Kind, f.Expected, f.Got = KindCheckpointRootMismatch, want, cp.Root
	f.Detail = fmt.Sprintf("size %d: root differs from the tree rebuilt from the records", cp.Size)
	if alt, _ := storedTree.root(cp.Size); bytes.Equal(alt, cp.Root) {
		f.Detail += "; it matches the stored leaves, so records changed after logging"
	}
	return f
}

// readTree reads every stored perfect-subtree node of a tree of the given
// size, level by level, nil where absent.
func (v *Verifier) readTree(ctx context.Context, size uint64) (dense, error) {
	batch := v.BatchSize
	if batch <= 0 {
		batch = 4096
	}
	d := dense{make([][]byte, size)}
	for k := uint(0); size>>k > 0; k++ {
		n := size >> k
		if k > 0 {
			d = append(d, make([][]byte, n))
		}
		ids := make([]NodeID, 0, min(uint64(batch), n))
		for start := uint64(0); start < n; start += uint64(batch) {
			ids = ids[:0]
			for i := start; i < min(start+uint64(batch), n); i++ {
				ids = append(ids, NodeID{Level: k, Index: i})
			}
			hs, err := v.Nodes.Hashes(ctx, ids)
			if err != nil {
				return nil, fmt.Errorf("read stored nodes: %w", err)
			}
			if len(hs) != len(ids) {
				return nil, fmt.Errorf("read stored nodes: got %d hashes for %d ids", len(hs), len(ids))
			}
			copy(d[k][start:], hs)
		}
	}
	return d, nil
}

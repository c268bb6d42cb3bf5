package verify

import (
	"encoding/hex"
	"fmt"

	"faldone/internal/audit"
	"faldone/internal/faldone"
)

// CheckInclusion checks p for rec: the checkpoint's signature with the log
// key logKey (a note verifier key), that the proof is for the
// checkpoint's size, then that the leaf hash recomputed from rec's
// canonical form is at p.LeafIndex in the tree of that root. It returns
// the evidence and, on failure, a reason code (checkpoint_invalid or
// inclusion_failed) with a detail; the code is "" when all holds.
func CheckInclusion(rec *faldone.Record, p *Proof, logKey string) (*Inclusion, string, string) {
	leaf := audit.LeafHash(faldone.CanonicalRecord(rec))
	in := &Inclusion{LeafIndex: p.LeafIndex, LeafHash: hex.EncodeToString(leaf), TreeSize: p.TreeSize,
		Proof: make([]string, len(p.Hashes)), Checkpoint: string(p.Checkpoint)}
	for i, h := range p.Hashes {
		in.Proof[i] = hex.EncodeToString(h)
	}
	fail := func(code, detail string) (*Inclusion, string, string) {
		in.Error = detail
		return in, code, detail
	}
	ver, err := audit.NewVerifier(logKey)
	if err != nil {
		return fail(CodeCheckpointInvalid, err.Error())
	}
	cp, err := audit.Open(p.Checkpoint, ver)
	if err != nil {
		return fail(CodeCheckpointInvalid, err.Error())
	}
	in.Root, in.Origin, in.Time = hex.EncodeToString(cp.Root), cp.Origin, cp.Time.UTC()
	if cp.Size != p.TreeSize {
		return fail(CodeInclusionFailed, fmt.Sprintf("proof for a tree of %d leaves, checkpoint of %d", p.TreeSize, cp.Size))
	}
	if rec.Leaf >= 0 && uint64(rec.Leaf) != p.LeafIndex {
		return fail(CodeInclusionFailed, fmt.Sprintf("proof for leaf %d, record at leaf %d", p.LeafIndex, rec.Leaf))
	}
	if err := audit.VerifyInclusion(leaf, p.LeafIndex, cp.Size, p.Hashes, cp.Root); err != nil {
		return fail(CodeInclusionFailed, err.Error())
	}
	in.Verified = true
	return in, "", ""
}

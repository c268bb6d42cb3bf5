// Package audit is faldone's append-only Merkle log: one leaf per archived
// document version, RFC 6962 hashing, signed checkpoints, inclusion and
// consistency proofs, and a full audit that rebuilds the tree from the
// records and names what does not match.
//
// The package owns no persistence. Storage engines keep the tree nodes in
// the same transaction as the document record and expose them through
// [HashReader]. The tree is stored as the perfect subtrees it contains:
// node (level k, index i) is the root of the subtree over leaves
// [i*2^k, (i+1)*2^k), written once, when its last leaf is appended, and
// never changed afterwards. Appending a leaf writes the leaf and, on
// average, one internal node; any root or proof reads O(log n) nodes.
//
// # Appending, for storage engines
//
// An engine appends inside the transaction that stores the record:
//
//	BEGIN
//	SELECT size FROM audit_head FOR UPDATE      -- serialises appenders
//	nodes, err := audit.Append(ctx, txReader, size, leafHash)
//	INSERT every node into audit_nodes (level, idx, hash)
//	INSERT the record with leaf_index = size
//	UPDATE audit_head SET size = size + 1
//	COMMIT
//
// The leaf index is the log size read under the lock, so indexes are
// gap-free and there is one tree however many service instances append:
// the row lock (or SQLite's single writer) orders them, and a rolled-back
// transaction leaves neither the leaf nor the size behind. Sequences MUST
// NOT be used for leaf indexes: they leave gaps on rollback.
//
// Engines that prefer to compute without a reader can call [AppendNeeds]
// for the IDs to read and [AppendNodes] to compute the nodes to write.
//
// # Reading
//
// [Tree] computes roots and proofs from any [HashReader] for any size up to
// the committed size; stored nodes never change, so a root or proof for a
// size stays the same forever. [Sign] and [Open] turn a root into a signed
// checkpoint in the signed-note format (golang.org/x/mod/sumdb/note).
//
// # Auditing
//
// [VerifyInclusion] and [VerifyConsistency] need no store and return an
// [*InclusionError] or [*ConsistencyError] carrying the evidence.
// [Verifier] rebuilds the whole tree from leaf hashes recomputed from the
// records and reports every difference with the stored nodes and the
// stored checkpoints as a [Finding].
package audit

package ledger

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"faldone/internal/archive"
	"faldone/internal/audit"
	"faldone/internal/faldone"
)

// AuditStore is what a full audit reads from an engine (the sqlite and
// postgres archives implement it).
type AuditStore interface {
	audit.HashReader
	Size(ctx context.Context) (uint64, error)
	Checkpoints(ctx context.Context) ([][]byte, error)
	// Walk calls fn for every record in leaf order with its stored leaf.
	Walk(ctx context.Context, fn func(rec *faldone.Record, leafHash []byte) error) error
	// Blob returns the stored bytes of a PDF without checking them.
	Blob(ctx context.Context, sha256 string) ([]byte, error)
}

// Kinds of findings about the archive beside the log's (audit.Kind*).
const (
	// KindPDFChanged: the stored PDF of a record does not hash to the
	// record's SHA-256 (Expected); Got is its hash.
	KindPDFChanged audit.Kind = "pdf-changed"
	// KindPDFMissing: the PDF a record names is not stored.
	KindPDFMissing audit.Kind = "pdf-missing"
	// KindVersionMissing: a document lacks a version between its first and
	// its newest (a row was deleted).
	KindVersionMissing audit.Kind = "version-missing"
	// KindVersionChain: a version's prev_sha256 is not the PDF of the
	// version before it (Expected); Got is what it names.
	KindVersionChain audit.Kind = "version-chain"
	// KindRecordUnreadable: a stored record cannot be decoded, or its
	// columns disagree with its body: the row was edited. The audit
	// cannot read the records after it.
	KindRecordUnreadable audit.Kind = "record-unreadable"
	// KindTimeBackwards: a record is dated more than archive.ClockSlack
	// before a record logged ahead of it, or a checkpoint before the one
	// stored ahead of it: the clock went backwards when it was made.
	KindTimeBackwards audit.Kind = "time-backwards"
)

// AuditReport is the result of [Audit].
type AuditReport struct {
	*audit.Report
	Records int // records read
	PDFs    int // PDFs re-hashed
}

// Audit checks the whole archive without trusting it: it recomputes every
// leaf from the stored record, re-hashes every PDF, checks each document's
// version chain, rebuilds the tree and checks every stored checkpoint
// against it and against the log's public key vkey. Problems are findings
// in the report, sorted by kind of evidence: PDFs and records first, then
// the log's findings (leaves, nodes, checkpoints). The error is for
// failures to read the store.
func Audit(ctx context.Context, store AuditStore, vkey string) (*AuditReport, error) {
	ver, err := audit.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	size, err := store.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	type leaf struct {
		index uint64
		hash  []byte
	}
	var leaves []leaf
	byLeaf := map[uint64]*faldone.Record{}
	versions := map[string][]*faldone.Record{}
	var order []string
	var findings []audit.Finding
	rep := &AuditReport{}
	// PDFs are re-hashed by a pool of workers, in batches, while the walk
	// reads on.
	jobs := make(chan []*faldone.Record, 16)
	var mu sync.Mutex
	var pdfFindings []audit.Finding
	var pdfErr error
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for batch := range jobs {
				fs, hashed, err := checkPDFs(ctx, store, batch)
				mu.Lock()
				pdfFindings = append(pdfFindings, fs...)
				rep.PDFs += hashed
				if err != nil && pdfErr == nil {
					pdfErr = err
				}
				mu.Unlock()
			}
		})
	}
	var batch []*faldone.Record
	var newest time.Time
	var newestLeaf int64
	walkErr := store.Walk(ctx, func(rec *faldone.Record, _ []byte) error {
		rep.Records++
		if rec.Created.Before(newest.Add(-archive.ClockSlack)) {
			findings = append(findings, audit.Finding{Kind: KindTimeBackwards, Index: uint64(rec.Leaf),
				Detail: fmt.Sprintf("document %s version %d is dated %s, before leaf %d (%s): the clock went backwards",
					rec.ID, rec.Version, rec.Created.UTC().Format(time.RFC3339), newestLeaf, newest.UTC().Format(time.RFC3339))})
		}
		if rec.Created.After(newest) {
			newest, newestLeaf = rec.Created, rec.Leaf
		}
		leaves = append(leaves, leaf{uint64(rec.Leaf), audit.LeafHash(faldone.CanonicalRecord(rec))})
		byLeaf[uint64(rec.Leaf)] = &faldone.Record{ID: rec.ID, Version: rec.Version}
		if _, ok := versions[rec.ID]; !ok {
			order = append(order, rec.ID)
		}
		versions[rec.ID] = append(versions[rec.ID], &faldone.Record{ID: rec.ID, Version: rec.Version, SHA256: rec.SHA256, PrevSHA: rec.PrevSHA, Leaf: rec.Leaf})
		batch = append(batch, rec)
		if len(batch) == pdfBatch {
			jobs <- batch
			batch = nil
		}
		return nil
	})
	if len(batch) > 0 {
		jobs <- batch
	}
	close(jobs)
	wg.Wait()
	if pdfErr != nil {
		return nil, fmt.Errorf("audit: %w", pdfErr)
	}
	slices.SortFunc(pdfFindings, func(a, b audit.Finding) int { return cmp.Compare(a.Index, b.Index) })
	findings = append(findings, pdfFindings...)
	if walkErr != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("audit: %w", walkErr)
		}
		findings = append(findings, audit.Finding{Kind: KindRecordUnreadable, Index: uint64(len(leaves)),
			Detail: fmt.Sprintf("%v; records after leaf %d were not read", walkErr, len(leaves))})
	}
	for _, id := range order {
		vs := versions[id]
		slices.SortFunc(vs, func(a, b *faldone.Record) int { return cmp.Compare(a.Version, b.Version) })
		next := 1
		for i, v := range vs {
			for ; next < v.Version; next++ {
				findings = append(findings, audit.Finding{Kind: KindVersionMissing, Index: uint64(v.Leaf),
					Detail: fmt.Sprintf("document %s: version %d is missing (a record was deleted); version %d is at leaf %d", id, next, v.Version, v.Leaf)})
			}
			next = v.Version + 1
			if i > 0 && vs[i-1].Version == v.Version-1 && v.PrevSHA != vs[i-1].SHA256 {
				findings = append(findings, audit.Finding{Kind: KindVersionChain, Index: uint64(v.Leaf),
					Expected: unhex(vs[i-1].SHA256), Got: unhex(v.PrevSHA),
					Detail: fmt.Sprintf("document %s version %d: prev_sha256 is not the PDF of version %d", id, v.Version, v.Version-1)})
			}
		}
	}
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var last time.Time
	for i, n := range cps {
		cp, err := audit.Open(n, ver)
		if err != nil {
			continue // the log's verification reports it
		}
		if cp.Time.Before(last) {
			findings = append(findings, audit.Finding{Kind: KindTimeBackwards, Index: uint64(i + 1), Note: n,
				Detail: fmt.Sprintf("size %d: dated %s, before the checkpoint stored ahead of it (%s): the clock went backwards",
					cp.Size, cp.Time.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))})
		}
		if cp.Time.After(last) {
			last = cp.Time
		}
	}
	v := &audit.Verifier{Key: ver, Origin: ver.Name(), Nodes: store}
	logRep, err := v.Verify(ctx, size, func(yield func(uint64, []byte) bool) {
		for _, l := range leaves {
			if !yield(l.index, l.hash) {
				return
			}
		}
	}, cps)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	for i := range logRep.Findings {
		f := &logRep.Findings[i]
		if r := byLeaf[f.Index]; r != nil && f.Checkpoint == nil && f.Note == nil && f.Kind != audit.KindNodeMismatch && (f.Kind != audit.KindNodeMissing || f.Level == 0) {
			f.Detail = fmt.Sprintf("document %s version %d: %s", r.ID, r.Version, f.Detail)
		}
	}
	rep.Report = logRep
	rep.Findings = append(findings, logRep.Findings...)
	return rep, nil
}

// pdfBatch is the number of PDFs a worker reads and hashes at a time.
const pdfBatch = 32

// BlobBatcher is implemented by stores that read many PDFs at once (the
// postgres archive, in one round trip).
type BlobBatcher interface {
	// Blobs returns the stored bytes of the PDFs with these SHA-256s, by
	// SHA-256, without checking them; absent ones are left out.
	Blobs(ctx context.Context, sums []string) (map[string][]byte, error)
}

// checkPDFs re-hashes the stored PDFs of recs and returns a finding for
// each one missing or changed, and the number read.
func checkPDFs(ctx context.Context, store AuditStore, recs []*faldone.Record) ([]audit.Finding, int, error) {
	var blobs map[string][]byte
	if bb, ok := store.(BlobBatcher); ok {
		sums := make([]string, len(recs))
		for i, r := range recs {
			sums[i] = r.SHA256
		}
		var err error
		if blobs, err = bb.Blobs(ctx, sums); err != nil {
			return nil, 0, err
		}
	}
	var out []audit.Finding
	n := 0
	for _, rec := range recs {
		what := fmt.Sprintf("document %s version %d", rec.ID, rec.Version)
		var b []byte
		var found bool
		if blobs != nil {
			b, found = blobs[rec.SHA256]
		} else {
			var err error
			b, err = store.Blob(ctx, rec.SHA256)
			switch code := faldone.ErrorCode(err); {
			case code == faldone.ENOTFOUND || code == faldone.EINVALID:
			case err != nil:
				return nil, 0, err
			default:
				found = true
			}
		}
		if !found {
			out = append(out, audit.Finding{Kind: KindPDFMissing, Index: uint64(rec.Leaf), Expected: unhex(rec.SHA256),
				Detail: what + ": the PDF " + rec.SHA256 + " is not stored"})
			continue
		}
		n++
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) == rec.SHA256 {
			continue
		}
		detail := fmt.Sprintf("%s: the stored PDF does not hash to the archived SHA-256", what)
		if int64(len(b)) != rec.Size {
			detail += fmt.Sprintf(" (%d bytes, archived %d)", len(b), rec.Size)
		}
		out = append(out, audit.Finding{Kind: KindPDFChanged, Index: uint64(rec.Leaf), Expected: unhex(rec.SHA256), Got: sum[:], Detail: detail})
	}
	return out, n, nil
}

func unhex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

package http

import (
	"cmp"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/audit"
	"faldone/internal/faldone"
	"faldone/internal/ledger"
)

// auditRoutes registers the routes of the audit log, the AgID metadata and
// the dossier of a comune.
func (s *Server) auditRoutes(v1 fiber.Router) {
	v1.Get("/audit/checkpoint", s.getCheckpoint)
	v1.Get("/audit/consistency", s.getConsistency)
	v1.Get("/documents/:id/proof", s.getProof)
	v1.Get("/documents/:id/metadata", s.getMetadata)
	v1.Get("/comuni/:istat/dossier", s.getDossier)
	v1.Get("/comuni/:istat/dossier/package", s.getDossierPackage)
}

// fetch returns version (0: the newest) of document id, or ENOTFOUND when
// it does not exist or the requester may not see it.
func (s *Server) fetch(c *fiber.Ctx, id string, version int) (*faldone.Record, error) {
	a := s.cfg.Documents.Archive
	var rec *faldone.Record
	var err error
	if version == 0 {
		rec, err = a.Latest(c.UserContext(), id)
	} else {
		rec, err = a.Version(c.UserContext(), id, version)
	}
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, documentNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if s.checkComune(c, rec.Comune) != nil {
		return nil, documentNotFound(id)
	}
	return rec, nil
}

// fetchDossier returns every version of every document of a comune, oldest
// first, or ENOTFOUND when the requester may not see them.
func (s *Server) fetchDossier(c *fiber.Ctx, istat string) ([]*faldone.Record, error) {
	if err := s.checkComune(c, istat); err != nil {
		return nil, err
	}
	return s.cfg.Documents.Archive.Dossier(c.UserContext(), istat)
}

// ledger returns the audit log, or EUNAVAILABLE when the API has none.
func (s *Server) ledger() (*ledger.Ledger, error) {
	if s.cfg.Ledger == nil {
		return nil, faldone.Errorf(faldone.EUNAVAILABLE, "the audit log is not configured")
	}
	return s.cfg.Ledger, nil
}

// queryVersion parses ?version=; 0 when absent.
func queryVersion(c *fiber.Ctx) (int, error) {
	v := c.Query("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, faldone.Errorf(faldone.EINVALID, "version must be a positive number")
	}
	return n, nil
}

// CheckpointResponse is a signed checkpoint in JSON.
type CheckpointResponse struct {
	Origin    string `json:"origin"`
	Size      uint64 `json:"size"`
	Root      string `json:"root"` // hex
	Time      string `json:"time"`
	PublicKey string `json:"public_key"` // note verifier key of the log
	Note      string `json:"note"`       // the signed note
}

func checkpointResponse(l *ledger.Ledger, sc *ledger.Signed) CheckpointResponse {
	return CheckpointResponse{Origin: sc.Checkpoint.Origin, Size: sc.Checkpoint.Size,
		Root: hex.EncodeToString(sc.Checkpoint.Root), Time: sc.Checkpoint.Time.UTC().Format(time.RFC3339Nano),
		PublicKey: l.PublicKey(), Note: string(sc.Note)}
}

// getCheckpoint answers the newest signed checkpoint, signing one first
// when the log grew: the signed note as text/plain, or JSON when asked.
func (s *Server) getCheckpoint(c *fiber.Ctx) error {
	l, err := s.ledger()
	if err != nil {
		return err
	}
	sc, err := l.Checkpoint(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderVary, fiber.HeaderAccept)
	if c.Accepts("text/plain", "application/json") == "application/json" {
		return sendJSON(c, fiber.StatusOK, checkpointResponse(l, sc))
	}
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.Send(sc.Note)
}

// ProofResponse is the inclusion proof of one version of a document.
type ProofResponse struct {
	ID        string `json:"id"`
	Version   int    `json:"version"`
	LeafIndex uint64 `json:"leaf_index"`
	// LeafHash is hex SHA-256(0x00 || Record).
	LeafHash string `json:"leaf_hash"`
	// Record is the canonical JSON of the record, exactly the bytes hashed
	// into the leaf.
	Record     string             `json:"record"`
	TreeSize   uint64             `json:"tree_size"`
	Proof      []string           `json:"proof"` // hex, leaf to root
	Checkpoint CheckpointResponse `json:"checkpoint"`
}

func (s *Server) getProof(c *fiber.Ctx) error {
	l, err := s.ledger()
	if err != nil {
		return err
	}
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	rec, err := s.fetch(c, c.Params("id"), version)
	if err != nil {
		return err
	}
	p, err := l.Prove(c.UserContext(), rec)
	if err != nil {
		return err
	}
	cp, err := audit.Open(p.Checkpoint, l.Verifier())
	if err != nil {
		return err
	}
	body := faldone.CanonicalRecord(rec)
	out := ProofResponse{ID: rec.ID, Version: rec.Version, LeafIndex: p.LeafIndex,
		LeafHash: hex.EncodeToString(audit.LeafHash(body)), Record: string(body), TreeSize: p.TreeSize,
		Proof:      make([]string, len(p.Hashes)),
		Checkpoint: checkpointResponse(l, &ledger.Signed{Note: p.Checkpoint, Checkpoint: cp})}
	for i, h := range p.Hashes {
		out.Proof[i] = hex.EncodeToString(h)
	}
	return sendJSON(c, fiber.StatusOK, out)
}

// ConsistencyResponse proves that the log of From leaves is a prefix of the
// log of To leaves.
type ConsistencyResponse struct {
	From     uint64   `json:"from"`
	To       uint64   `json:"to"`
	FromRoot string   `json:"from_root"` // hex
	ToRoot   string   `json:"to_root"`   // hex
	Proof    []string `json:"proof"`     // hex
}

func (s *Server) getConsistency(c *fiber.Ctx) error {
	l, err := s.ledger()
	if err != nil {
		return err
	}
	parse := func(name string) (uint64, error) {
		v := c.Query(name)
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			return 0, faldone.Errorf(faldone.EINVALID, "%s must be a log size (a whole number of 1 or more), not %q", name, v)
		}
		return n, nil
	}
	from, err := parse("from")
	if err != nil {
		return err
	}
	to, err := parse("to")
	if err != nil {
		return err
	}
	proof, r1, r2, err := l.Consistency(c.UserContext(), from, to)
	if errors.Is(err, ledger.ErrRange) {
		return faldone.Errorf(faldone.EINVALID, "need 1 <= from <= to <= the log size: %s", strings.TrimPrefix(err.Error(), ledger.ErrRange.Error()+": "))
	}
	if err != nil {
		return err
	}
	out := ConsistencyResponse{From: from, To: to, FromRoot: hex.EncodeToString(r1), ToRoot: hex.EncodeToString(r2), Proof: make([]string, len(proof))}
	for i, h := range proof {
		out.Proof[i] = hex.EncodeToString(h)
	}
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) getMetadata(c *fiber.Ctx) error {
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	rec, err := s.fetch(c, c.Params("id"), version)
	if err != nil {
		return err
	}
	name := rec.Comune
	if cm, ok := s.cfg.Templates.Registry().Lookup(rec.Comune); ok {
		name = cm.Name
	}
	return sendJSON(c, fiber.StatusOK, RecordMetadata(rec, name))
}

// DossierVersion is one version of a document in a dossier.
type DossierVersion struct {
	Version   int    `json:"version"`
	SHA256    string `json:"sha256"`
	State     string `json:"state"`
	Reason    string `json:"change_reason,omitempty"`
	Created   string `json:"created"`
	LeafIndex int64  `json:"leaf_index"`
	PDF       string `json:"pdf"`
}

// DossierDocument is one document of a dossier with every version.
type DossierDocument struct {
	ID       string           `json:"id"`
	Kind     faldone.Kind     `json:"kind"`
	Oggetto  string           `json:"oggetto"`
	State    string           `json:"state"` // of the newest version
	Cites    string           `json:"cites,omitempty"`
	Versions []DossierVersion `json:"versions"`
}

// DossierResponse is the dossier of a comune: its documents in workflow
// order (adesione, assessment, piano, approvazione, chiusura), each kind in the
// order archived.
type DossierResponse struct {
	Comune    string            `json:"comune"`
	Documents []DossierDocument `json:"documents"`
	// ClosedBy is the id of the relazione di chiusura that closed the
	// dossier, if any.
	ClosedBy string `json:"closed_by,omitempty"`
	// Package is the address of the dossier's conservation package.
	Package string `json:"package"`
}

var workflowOrder = map[faldone.Kind]int{faldone.KindAdesione: 0, faldone.KindAssessment: 1, faldone.KindPiano: 2, faldone.KindApprovazione: 3, faldone.KindChiusura: 4}

func (s *Server) getDossier(c *fiber.Ctx) error {
	istat := c.Params("istat")
	if _, ok := s.cfg.Templates.Registry().Lookup(istat); !ok {
		return faldone.Errorf(faldone.ENOTFOUND, "no comune has ISTAT code %q", istat)
	}
	recs, err := s.fetchDossier(c, istat)
	if err != nil {
		return err
	}
	out := DossierResponse{Comune: istat, Documents: []DossierDocument{}, Package: "/v1/comuni/" + istat + "/dossier/package"}
	at := map[string]int{}
	first := map[string]int64{}
	for _, r := range recs {
		i, ok := at[r.ID]
		if !ok {
			i = len(out.Documents)
			at[r.ID] = i
			first[r.ID] = r.Leaf
			out.Documents = append(out.Documents, DossierDocument{ID: r.ID, Kind: r.Kind, Cites: r.Cites})
		}
		d := &out.Documents[i]
		d.Oggetto, d.State = r.Oggetto, faldone.State(r)
		if r.Kind == faldone.KindChiusura {
			out.ClosedBy = r.ID
		}
		d.Versions = append(d.Versions, DossierVersion{Version: r.Version, SHA256: r.SHA256, State: faldone.State(r),
			Reason: r.Reason, Created: r.Created.UTC().Format(time.RFC3339), LeafIndex: r.Leaf,
			PDF: "/v1/documents/" + r.ID + "/pdf?version=" + strconv.Itoa(r.Version)})
	}
	slices.SortStableFunc(out.Documents, func(a, b DossierDocument) int {
		oa, ok := workflowOrder[a.Kind]
		if !ok {
			oa = len(workflowOrder)
		}
		ob, ok := workflowOrder[b.Kind]
		if !ok {
			ob = len(workflowOrder)
		}
		return cmp.Or(cmp.Compare(oa, ob), cmp.Compare(first[a.ID], first[b.ID]))
	})
	return sendJSON(c, fiber.StatusOK, out)
}

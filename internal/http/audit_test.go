package http_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"

	"faldone/internal/audit"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/ledger"
	"faldone/internal/pdftest"
	"faldone/internal/sqlite"
)

// auditServer returns a sealing API with an audit log on a fresh store.
func auditServer(t *testing.T) (*fhttp.Server, *ledger.Ledger) {
	t.Helper()
	var l *ledger.Ledger
	s := mustServerWith(t, devSealer(t, ""), func(cfg *fhttp.Config) {
		skey, _, err := ledger.LoadKey(filepath.Join(t.TempDir(), "keys", "log.key"), true)
		if err != nil {
			t.Fatal(err)
		}
		l, err = ledger.New(cfg.Documents.Archive.(*sqlite.Archive), skey, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.BodyLimit = 8 << 20
		cfg.Ledger = l
	})
	return s, l
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// createChain creates the four documents of Banari's workflow and returns
// them by kind.
func createChain(t *testing.T, s *fhttp.Server) map[string]fhttp.DocumentResponse {
	t.Helper()
	out := map[string]fhttp.DocumentResponse{}
	for _, kind := range []string{"assessment", "adesione", "piano", "approvazione"} {
		body := sample(t, "banari", kind)
		switch kind {
		case "piano":
			body = mutate(t, body, func(m map[string]any) { m["assessment"] = out["assessment"].ID })
		case "approvazione":
			body = mutate(t, body, func(m map[string]any) { m["piano"] = out["piano"].ID })
		}
		resp, b := do(t, s, "POST", "/v1/documents/"+kind, "application/json", body)
		if resp.StatusCode != 201 {
			t.Fatalf("%s: %d %s", kind, resp.StatusCode, b)
		}
		out[kind] = decode[fhttp.DocumentResponse](t, b)
	}
	return out
}

// TestProofAndConsistency: a document's proof verifies against the signed
// checkpoint opened with the log's public key, and two checkpoints are
// consistent.
func TestProofAndConsistency(t *testing.T) {
	s, l := auditServer(t)
	ver, err := audit.NewVerifier(l.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	docsByKind := createChain(t, s)

	resp, note := do(t, s, "GET", "/v1/audit/checkpoint", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("checkpoint: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cp1, err := audit.Open(note, ver)
	if err != nil {
		t.Fatal(err)
	}
	if cp1.Size != 4 {
		t.Fatalf("checkpoint size %d, want 4", cp1.Size)
	}
	resp, b := do(t, s, "GET", "/v1/audit/checkpoint", "", nil, "Accept", "application/json")
	cj := decode[fhttp.CheckpointResponse](t, b)
	if resp.StatusCode != 200 || cj.Size != 4 || cj.Root != hex.EncodeToString(cp1.Root) || cj.PublicKey != l.PublicKey() || cj.Note != string(note) {
		t.Fatalf("checkpoint JSON: %d %+v", resp.StatusCode, cj)
	}

	for kind, d := range docsByKind {
		resp, b := do(t, s, "GET", "/v1/documents/"+d.ID+"/proof", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s proof: %d %s", kind, resp.StatusCode, b)
		}
		p := decode[fhttp.ProofResponse](t, b)
		cp, err := audit.Open([]byte(p.Checkpoint.Note), ver)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var rec struct {
			ID     string `json:"id"`
			SHA256 string `json:"sha256"`
		}
		if err := json.Unmarshal([]byte(p.Record), &rec); err != nil || rec.ID != d.ID || rec.SHA256 != d.SHA256 {
			t.Fatalf("%s: record %s", kind, p.Record)
		}
		leaf := audit.LeafHash([]byte(p.Record))
		if hex.EncodeToString(leaf) != p.LeafHash {
			t.Fatalf("%s: leaf hash %s is not the hash of the record", kind, p.LeafHash)
		}
		proof := make([][]byte, len(p.Proof))
		for i, h := range p.Proof {
			proof[i] = unhex(t, h)
		}
		if err := audit.VerifyInclusion(leaf, p.LeafIndex, cp.Size, proof, cp.Root); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		// A record changed by one byte does not verify.
		bad := []byte(p.Record)
		bad[len(bad)/2] ^= 1
		if audit.VerifyInclusion(audit.LeafHash(bad), p.LeafIndex, cp.Size, proof, cp.Root) == nil {
			t.Fatalf("%s: a changed record verified", kind)
		}
	}

	// The comune countersigns the adesione: a fifth leaf, a new checkpoint.
	_, sealed := do(t, s, "GET", docsByKind["adesione"].Links["pdf"], "", nil)
	signed := pdftest.Countersign(t, sealed, pdftest.NewPKI(t, "Comune di Banari"))
	resp, b = do(t, s, "POST", "/v1/documents/"+docsByKind["adesione"].ID+"/signed", "application/pdf", signed)
	if resp.StatusCode != 201 {
		t.Fatalf("signed: %d %s", resp.StatusCode, b)
	}
	_, note2 := do(t, s, "GET", "/v1/audit/checkpoint", "", nil)
	cp2, err := audit.Open(note2, ver)
	if err != nil || cp2.Size != 5 {
		t.Fatalf("second checkpoint: %v, size %d", err, cp2.Size)
	}
	resp, b = do(t, s, "GET", "/v1/audit/consistency?from=4&to=5", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("consistency: %d %s", resp.StatusCode, b)
	}
	c := decode[fhttp.ConsistencyResponse](t, b)
	proof := make([][]byte, len(c.Proof))
	for i, h := range c.Proof {
		proof[i] = unhex(t, h)
	}
	if err := audit.VerifyConsistency(cp1.Size, cp2.Size, proof, cp1.Root, cp2.Root); err != nil {
		t.Fatal(err)
	}
	if c.FromRoot != hex.EncodeToString(cp1.Root) || c.ToRoot != hex.EncodeToString(cp2.Root) {
		t.Fatalf("consistency roots %+v", c)
	}
	// Version 1 of the adesione still proves, now against the newer checkpoint.
	resp, b = do(t, s, "GET", "/v1/documents/"+docsByKind["adesione"].ID+"/proof?version=1", "", nil)
	if p := decode[fhttp.ProofResponse](t, b); resp.StatusCode != 200 || p.Version != 1 || p.TreeSize != 5 {
		t.Fatalf("proof of v1: %d %s", resp.StatusCode, b)
	}

	for _, q := range []string{"", "?from=1", "?from=0&to=3", "?from=3&to=2", "?from=1&to=6", "?from=x&to=2", "?from=-1&to=2", "?from=1&to=99999999999999999999"} {
		resp, b := do(t, s, "GET", "/v1/audit/consistency"+q, "", nil)
		if resp.StatusCode != 422 {
			t.Errorf("consistency%s: %d %s", q, resp.StatusCode, b)
			continue
		}
		if p := problem(t, resp, b); p.Code != faldone.EINVALID || p.Detail == "" {
			t.Errorf("consistency%s: %+v", q, p)
		}
	}
	for path, want := range map[string]int{
		"/v1/documents/aaaaaaaaaaaaaaaaaaaaaaaaaa/proof":                  404,
		"/v1/documents/" + docsByKind["piano"].ID + "/proof?version=0":    422,
		"/v1/documents/" + docsByKind["piano"].ID + "/proof?version=2":    404,
		"/v1/documents/" + docsByKind["piano"].ID + "/metadata?version=x": 422,
		"/v1/comuni/999999/dossier":                                       404,
	} {
		resp, b := do(t, s, "GET", path, "", nil)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, want, b)
		} else {
			problem(t, resp, b)
		}
	}
}

// TestDossierAndMetadata: the dossier lists the documents in workflow
// order with the state of every version, after the comune countersigned
// its adesione; the metadata carry the Allegato 5 elements.
func TestDossierAndMetadata(t *testing.T) {
	s, _ := auditServer(t)
	d := createChain(t, s)
	_, sealed := do(t, s, "GET", d["adesione"].Links["pdf"], "", nil)
	signed := pdftest.Countersign(t, sealed, pdftest.NewPKI(t, "Comune di Banari"))
	resp, b := do(t, s, "POST", "/v1/documents/"+d["adesione"].ID+"/signed", "application/pdf", signed)
	if resp.StatusCode != 201 {
		t.Fatalf("signed: %d %s", resp.StatusCode, b)
	}

	resp, b = do(t, s, "GET", "/v1/comuni/090007/dossier", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("dossier: %d %s", resp.StatusCode, b)
	}
	dos := decode[fhttp.DossierResponse](t, b)
	wantKinds := []string{"adesione", "assessment", "piano", "approvazione"}
	if len(dos.Documents) != 4 {
		t.Fatalf("dossier has %d documents: %s", len(dos.Documents), b)
	}
	for i, doc := range dos.Documents {
		if string(doc.Kind) != wantKinds[i] || doc.ID != d[wantKinds[i]].ID {
			t.Fatalf("document %d is %s %s, want %s", i, doc.Kind, doc.ID, wantKinds[i])
		}
	}
	ad := dos.Documents[0]
	if len(ad.Versions) != 2 || ad.State != "signed_comune" ||
		ad.Versions[0].State != "awaiting_comune" || ad.Versions[1].State != "signed_comune" ||
		ad.Versions[1].Reason != "FirmaComune" || ad.Versions[0].SHA256 != d["adesione"].SHA256 {
		t.Fatalf("adesione in the dossier: %+v", ad)
	}
	sum := sha256.Sum256(signed)
	if ad.Versions[1].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("signed version sha256 %s", ad.Versions[1].SHA256)
	}
	if st := dos.Documents[1].State; st != "sealed" {
		t.Errorf("assessment state %q", st)
	}
	if st := dos.Documents[2].State; st != "awaiting_comune" || dos.Documents[2].Cites != d["assessment"].ID {
		t.Errorf("piano state %q, cites %q", st, dos.Documents[2].Cites)
	}
	resp, b = do(t, s, "GET", "/v1/comuni/037034/dossier", "", nil)
	if dos := decode[fhttp.DossierResponse](t, b); resp.StatusCode != 200 || len(dos.Documents) != 0 {
		t.Errorf("empty dossier: %d %s", resp.StatusCode, b)
	}

	resp, b = do(t, s, "GET", "/v1/documents/"+d["adesione"].ID+"/metadata", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("metadata: %d %s", resp.StatusCode, b)
	}
	m := decode[fhttp.Metadata](t, b)
	if m.IdDoc.ImprontaCrittograficaDelDocumento.Impronta != hex.EncodeToString(sum[:]) || m.IdDoc.ImprontaCrittograficaDelDocumento.Algoritmo != "SHA-256" ||
		m.IdDoc.Identificativo != d["adesione"].ID+"-v2" {
		t.Errorf("IdDoc %+v", m.IdDoc)
	}
	if m.VersioneDelDocumento != "2" || m.IdDocVersionePrecedente == nil || m.IdDocVersionePrecedente.ImprontaCrittograficaDelDocumento.Impronta != d["adesione"].SHA256 {
		t.Errorf("versione %q, precedente %+v", m.VersioneDelDocumento, m.IdDocVersionePrecedente)
	}
	if len(m.TracciatureModificheDocumento) != 1 || m.TracciatureModificheDocumento[0].TipoModifica != "integrazione" ||
		m.TracciatureModificheDocumento[0].SoggettoAutoreDellaModifica != "c_a606" || m.TracciatureModificheDocumento[0].DataModifica == "" {
		t.Errorf("tracciature %+v", m.TracciatureModificheDocumento)
	}
	if !m.Verifica.FirmatoDigitalmente || !m.Verifica.SigillatoElettronicamente || m.Verifica.MarcaturaTemporale {
		t.Errorf("verifica %+v", m.Verifica)
	}
	if m.ChiaveDescrittiva.Oggetto != d["adesione"].Oggetto || m.TipologiaDocumentale == "" || m.IdentificativoDelFormato.Formato != "application/pdf" ||
		m.IdentificativoDelFormato.ProdottoSoftware.NomeProdotto != "faldone" || m.IdentificativoDelFormato.ProdottoSoftware.VersioneProdotto != "test" {
		t.Errorf("metadata %+v", m)
	}
	var autore, destinatario bool
	for _, sg := range m.Soggetti {
		autore = autore || sg.Ruolo == "Autore" && sg.CodiceIPA == "c_a606" && sg.Denominazione == "Comune di Banari"
		destinatario = destinatario || sg.Ruolo == "Destinatario"
	}
	if !autore || !destinatario {
		t.Errorf("soggetti %+v", m.Soggetti)
	}
	if len(m.IdAggregazione) != 1 || m.IdAggregazione[0].IdAggregazione != "FAST-090007" || m.TempoDiConservazione != 9999 || m.Riservato {
		t.Errorf("aggregazione %+v, tempo %d", m.IdAggregazione, m.TempoDiConservazione)
	}
	// Every element name the Allegato requires is in the JSON.
	var raw map[string]json.RawMessage
	json.Unmarshal(b, &raw)
	for _, k := range []string{"IdDoc", "ModalitaDiFormazione", "TipologiaDocumentale", "DatiDiRegistrazione", "Soggetti", "ChiaveDescrittiva",
		"Allegati", "Classificazione", "Riservato", "IdentificativoDelFormato", "Verifica", "IdAggregazione", "NomeDelDocumento",
		"VersioneDelDocumento", "IdDocVersionePrecedente", "TracciatureModificheDocumento", "TempoDiConservazione"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("metadata lacks %s", k)
		}
	}
	// Version 1 of the piano: no previous version, cites the assessment.
	resp, b = do(t, s, "GET", "/v1/documents/"+d["piano"].ID+"/metadata?version=1", "", nil)
	m = decode[fhttp.Metadata](t, b)
	if resp.StatusCode != 200 || m.IdDocVersionePrecedente != nil || len(m.TracciatureModificheDocumento) != 0 ||
		m.IdentificativoDocumentoRiferimento == nil || m.IdentificativoDocumentoRiferimento.Identificativo != d["assessment"].ID || m.Verifica.FirmatoDigitalmente {
		t.Errorf("piano metadata: %d %+v", resp.StatusCode, m)
	}
}

// TestAuditWithoutLog: without an audit log the log's routes answer 503.
func TestAuditWithoutLog(t *testing.T) {
	s := mustServerWith(t, nil, func(cfg *fhttp.Config) { cfg.Ledger = nil })
	for _, path := range []string{"/v1/audit/checkpoint", "/v1/audit/consistency?from=1&to=1"} {
		resp, b := do(t, s, "GET", path, "", nil)
		if resp.StatusCode != 503 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
			continue
		}
		if p := problem(t, resp, b); p.Code != faldone.EUNAVAILABLE {
			t.Errorf("%s: %+v", path, p)
		}
	}
}

package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/verify"
)

func TestSealedSampleIsValid(t *testing.T) {
	e := newEnv(t)
	rec, pdf := e.create(t, "loiano", "adesione")
	r, err := e.verifier.Verify(context.Background(), pdf, "en")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Valid {
		t.Fatalf("not valid: %+v", r.Reasons)
	}
	if r.SHA256 != rec.SHA256 || r.Size != rec.Size {
		t.Errorf("sha256 %s size %d, record %s %d", r.SHA256, r.Size, rec.SHA256, rec.Size)
	}
	if len(r.Signatures) != 1 {
		t.Fatalf("%d signatures", len(r.Signatures))
	}
	s := r.Signatures[0]
	switch {
	case !s.Intact || !s.Trusted || s.Level != pades.LevelBB || s.DocMDP != 2:
		t.Errorf("signature: %+v", s)
	case !s.Covers.WholeFile || s.Covers.Revision != len(r.Revisions) || s.Appended.Bytes != 0:
		t.Errorf("coverage: %+v %+v", s.Covers, s.Appended)
	case len(s.Chain) != 2 || s.Chain[1].SHA256 != r.TrustAnchors[0].SHA256:
		t.Errorf("chain: %+v", s.Chain)
	case !strings.Contains(s.Signer.Subject, "faldone development seal") || s.TrustTimeSource != "now" || !s.TrustTime.Equal(r.Checked):
		t.Errorf("signer %+v, trust time from %s", s.Signer, s.TrustTimeSource)
	}
	if len(r.Archived) != 1 {
		t.Fatalf("archived: %+v", r.Archived)
	}
	a := r.Archived[0]
	if a.ID != rec.ID || a.Version != 1 || a.Kind != "adesione" || a.Comune != "037034" || !a.WholeFile {
		t.Errorf("archived: %+v", a)
	}
	if a.Inclusion == nil || !a.Inclusion.Verified || a.Inclusion.TreeSize < 1 || a.Inclusion.LeafIndex != uint64(rec.Leaf) {
		t.Errorf("inclusion: %+v", a.Inclusion)
	}
	if got := codes(r, verify.SeverityInfo); !slices.Equal(got, []string{verify.CodeArchived, verify.CodeIncluded}) {
		t.Errorf("info reasons %v", got)
	}
	if hasCode(r, verify.CodeArchived).Message == "verify.archived" || !strings.Contains(r.Summary, "Valid") {
		t.Errorf("messages not localised: %q %+v", r.Summary, r.Reasons)
	}
	it, err := e.verifier.Verify(context.Background(), pdf, "it")
	if err != nil || !strings.HasPrefix(it.Summary, "Valido") {
		t.Errorf("Italian summary %q (%v)", it.Summary, err)
	}
}

func TestFlippedByteIsContentModified(t *testing.T) {
	e := newEnv(t)
	_, pdf := e.create(t, "loiano", "adesione")
	sigs, err := pades.Inspect(pdf)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside the first content stream: the file still parses.
	start := bytes.Index(pdf, []byte("stream\n")) + len("stream\n") + 10
	if start < 20 || int64(start) >= sigs[0].ByteRange[1] {
		t.Fatalf("no stream in the signed range")
	}
	bad := bytes.Clone(pdf)
	bad[start] ^= 0x01
	r, err := e.verifier.Verify(context.Background(), bad, "en")
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid {
		t.Fatal("a modified file is valid")
	}
	if errs := codes(r, verify.SeverityError); !slices.Equal(errs, []string{verify.CodeContentModified, verify.CodeNotArchived}) {
		t.Fatalf("errors %v: %+v", errs, r.Reasons)
	}
	reason := hasCode(r, verify.CodeContentModified)
	if reason.Signature == nil || *reason.Signature != 0 || !strings.Contains(reason.Message, "Signature 1") || !strings.Contains(reason.Detail, "digest") {
		t.Errorf("reason %+v", reason)
	}
	if r.Signatures[0].Intact || r.Signatures[0].IntegrityError == "" {
		t.Errorf("signature %+v", r.Signatures[0])
	}
}

func TestCountersignedCopy(t *testing.T) {
	e := newEnv(t)
	rec, sealed := e.create(t, "loiano", "adesione")
	comune := pdftest.NewPKI(t, "Comune di Loiano")
	signed := pdftest.Countersign(t, sealed, comune)

	check := func(t *testing.T, v *verify.Verifier, wantArchived verify.ArchivedVersion) *verify.Report {
		t.Helper()
		r, err := v.Verify(context.Background(), signed, "en")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Signatures) != 2 {
			t.Fatalf("%d signatures", len(r.Signatures))
		}
		seal, com := r.Signatures[0], r.Signatures[1]
		if !seal.Intact || !seal.Trusted || seal.DocMDP != 2 || seal.Covers.WholeFile || seal.Covers.Bytes != int64(len(sealed)) {
			t.Errorf("seal: %+v", seal)
		}
		if seal.Appended.Bytes != int64(len(signed)-len(sealed)) || seal.Appended.Signatures != 1 || seal.Appended.Allowed == nil || !*seal.Appended.Allowed {
			t.Errorf("appended after the seal: %+v", seal.Appended)
		}
		if !com.Intact || !com.Covers.WholeFile || !strings.Contains(com.Signer.Subject, "Comune di Loiano") || com.DocMDP != 0 {
			t.Errorf("comune: %+v", com)
		}
		if hasCode(r, verify.CodeAppendedAllowed) == nil || hasCode(r, verify.CodeDocMDPViolation) != nil {
			t.Errorf("reasons %+v", r.Reasons)
		}
		if len(r.Archived) != 1 || r.Archived[0].ID != rec.ID || r.Archived[0].Version != wantArchived.Version ||
			r.Archived[0].WholeFile != wantArchived.WholeFile || r.Archived[0].Inclusion == nil || !r.Archived[0].Inclusion.Verified {
			t.Errorf("archived %+v, want %+v", r.Archived, wantArchived)
		}
		return r
	}

	t.Run("comune CA not trusted", func(t *testing.T) {
		r := check(t, e.verifier, verify.ArchivedVersion{Version: 1, WholeFile: false})
		if r.Valid || r.Signatures[1].Trusted || !slices.Equal(codes(r, verify.SeverityError), []string{verify.CodeUntrustedSigner}) {
			t.Fatalf("valid %v, comune trusted %v, reasons %+v", r.Valid, r.Signatures[1].Trusted, r.Reasons)
		}
		if a := r.Archived[0]; a.Bytes != int64(len(sealed)) || a.Revision != r.Signatures[0].Covers.Revision || hasCode(r, verify.CodeArchivedPrefix) == nil {
			t.Errorf("archived prefix %+v", a)
		}
	})
	anchors := &verify.Anchors{}
	anchors.Add(e.devCA, "service")
	if _, err := anchors.AddPEM(comune.CAPEM, "bundle:comuni.pem"); err != nil {
		t.Fatal(err)
	}
	trusting := *e.verifier
	trusting.Anchors = anchors
	t.Run("comune CA in the trust bundle", func(t *testing.T) {
		r := check(t, &trusting, verify.ArchivedVersion{Version: 1, WholeFile: false})
		if !r.Valid || !r.Signatures[1].Trusted || len(r.Signatures[1].Chain) != 2 {
			t.Fatalf("valid %v: %+v %+v", r.Valid, r.Signatures[1], r.Reasons)
		}
	})
	t.Run("returned and archived as version 2", func(t *testing.T) {
		if _, _, err := e.svc.ReturnSigned(context.Background(), rec.ID, signed, "en", "test"); err != nil {
			t.Fatal(err)
		}
		r := check(t, &trusting, verify.ArchivedVersion{Version: 2, WholeFile: true})
		if !r.Valid {
			t.Fatalf("%+v", r.Reasons)
		}
	})
}

func TestUnknownSignedPDF(t *testing.T) {
	e := newEnv(t)
	res, err := e.svc.Renderer.Render(context.Background(), faldone.KindAdesione, mustSample(t, "suvereto", "adesione"), "it")
	if err != nil {
		t.Fatal(err)
	}
	other := pdftest.NewPKI(t, "Altro ente")
	pdf, _, err := pades.Sign(context.Background(), res.PDF, pades.Options{Signer: other.Key, Chain: []*x509.Certificate{other.Leaf, other.CA}, Certify: true})
	if err != nil {
		t.Fatal(err)
	}
	anchors := &verify.Anchors{}
	anchors.Add(e.devCA, "service")
	anchors.Add(other.CA, "bundle:other.pem")
	v := *e.verifier
	v.Anchors = anchors
	r, err := v.Verify(context.Background(), pdf, "en")
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid || !r.Signatures[0].Intact || !r.Signatures[0].Trusted || len(r.Archived) != 0 {
		t.Fatalf("report %+v", r)
	}
	if errs := codes(r, verify.SeverityError); !slices.Equal(errs, []string{verify.CodeNotArchived}) {
		t.Fatalf("errors %v", errs)
	}
}

func TestNotAPDF(t *testing.T) {
	e := newEnv(t)
	_, pdf := e.create(t, "loiano", "adesione")
	for name, data := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("this is not a PDF at all"),
		"truncated": pdf[:len(pdf)/3],
		"json":      []byte(`{"pdf": true}`),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := e.verifier.Verify(context.Background(), data, "en")
			if err == nil {
				t.Fatalf("no error, report %+v", r)
			}
			if faldone.ErrorCode(err) != faldone.EINVALID {
				t.Fatalf("error %v, want EINVALID", err)
			}
		})
	}
}

func TestEvidenceBundleOffline(t *testing.T) {
	e := newEnv(t)
	rec, pdf := e.create(t, "loiano", "adesione")
	e.create(t, "banari", "adesione") // a larger tree: a proof of more than nothing
	b, err := e.verifier.Evidence(context.Background(), rec, pdf)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := verify.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	off, err := parsed.Offline(nil, "", e.set)
	if err != nil {
		t.Fatal(err)
	}
	online, err := e.verifier.Verify(context.Background(), pdf, "en")
	if err != nil {
		t.Fatal(err)
	}
	r, err := off.Verify(context.Background(), pdf, "en")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Valid || r.Valid != online.Valid || !slices.Equal(codes(r, verify.SeverityInfo), codes(online, verify.SeverityInfo)) {
		t.Fatalf("offline %v %+v, online %v %+v", r.Valid, r.Reasons, online.Valid, online.Reasons)
	}
	if r.Archived[0].Inclusion.TreeSize != 2 || len(r.Archived[0].Inclusion.Proof) != 1 {
		t.Errorf("inclusion %+v", r.Archived[0].Inclusion)
	}

	t.Run("pinned wrong log key", func(t *testing.T) {
		_, other, _ := auditKey(t)
		off, err := parsed.Offline(nil, other, e.set)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := off.Verify(context.Background(), pdf, "en")
		if r.Valid || hasCode(r, verify.CodeCheckpointInvalid) == nil {
			t.Fatalf("%+v", r.Reasons)
		}
	})
	t.Run("edited record", func(t *testing.T) {
		var edited faldone.Record
		json.Unmarshal(b.Record, &edited)
		edited.Comune = "065027"
		bb := *b
		bb.Record = faldone.CanonicalRecord(&edited)
		off, err := bb.Offline(nil, "", e.set)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := off.Verify(context.Background(), pdf, "en")
		if r.Valid || hasCode(r, verify.CodeInclusionFailed) == nil {
			t.Fatalf("%+v", r.Reasons)
		}
	})
	t.Run("bad bundles", func(t *testing.T) {
		for name, mutate := range map[string]func(*verify.Bundle){
			"format":    func(b *verify.Bundle) { b.Format = "x" },
			"pdf":       func(b *verify.Bundle) { b.PDF = []byte("%PDF-other") },
			"record":    func(b *verify.Bundle) { b.Record = []byte(`{"id":"x"}`) },
			"proof hex": func(b *verify.Bundle) { b.Proof = []string{"zz"} },
		} {
			bb := *b
			mutate(&bb)
			data, _ := json.Marshal(&bb)
			if _, err := verify.ParseBundle(data); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/testenv"
	"faldone/internal/trust"
	"faldone/internal/verify"
)

// TestLongTermValidation: a seal extended to B-LTA with a real OCSP
// responder, CRL server and time-stamp authority is reported at its
// level, valid and trusted; a seal whose certificate the /DSS says was
// revoked before the signature is not valid, with a named reason.
func TestLongTermValidation(t *testing.T) {
	e := newEnv(t)
	_, sealed := e.create(t, "loiano", "adesione")
	revs, err := pades.Revisions(sealed)
	if err != nil || len(revs) < 2 {
		t.Fatalf("revisions %v %v", revs, err)
	}
	letter := sealed[:revs[0]]
	pki := testenv.NewPKI(t)
	tsa := &pades.TSA{URL: pki.StartPKITSA(t).URL, Timeout: 5 * time.Second}
	e.verifier.Anchors.Add(pki.Root, "test-pki")
	v := *e.verifier
	v.Archive, v.Log = nil, nil
	sign := func(leaf *x509.Certificate, key any) []byte {
		out, _, err := pades.Sign(context.Background(), letter, pades.Options{
			Signer: pki.SealKey, Chain: []*x509.Certificate{leaf, pki.Inter, pki.Root}, Certify: true, TSA: tsa,
		})
		if key != nil {
			out, _, err = pades.Sign(context.Background(), letter, pades.Options{
				Signer: pki.RevokedKey, Chain: []*x509.Certificate{leaf, pki.Inter, pki.Root}, Certify: true, TSA: tsa,
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ltv := &pades.LTV{Revocation: &pades.Revocation{Timeout: 5 * time.Second}, TSA: tsa}

	t.Run("B-LTA", func(t *testing.T) {
		out, _, err := ltv.Extend(context.Background(), sign(pki.Seal, nil))
		if err != nil {
			t.Fatal(err)
		}
		r, err := v.Verify(context.Background(), out, "en")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Signatures) != 2 || r.Signatures[0].Level != pades.LevelBLTA || !r.Signatures[0].Trusted || !r.Signatures[0].Intact ||
			r.Signatures[1].SubFilter != pades.SubFilterDocTimestamp || !r.Signatures[1].Trusted || !r.Signatures[1].Intact {
			t.Fatalf("signatures %+v", r.Signatures)
		}
		for _, x := range r.Reasons {
			if x.Severity == "error" && x.Code != "archive_unavailable" {
				t.Errorf("reason %s: %s (%s)", x.Code, x.Message, x.Detail)
			}
		}
	})
	t.Run("revoked", func(t *testing.T) {
		sealed := sign(pki.Revoked, pki.RevokedKey)
		vd, err := ltv.Revocation.Collect(context.Background(), []*x509.Certificate{pki.Revoked, pki.Inter, pki.Root})
		if !errors.Is(err, pades.ErrRevoked) {
			t.Fatalf("collect: %v", err)
		}
		out, err := pades.AddDSS(sealed, vd, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, _, err = pades.AddDocTimestamp(context.Background(), out, tsa); err != nil {
			t.Fatal(err)
		}
		r, err := v.Verify(context.Background(), out, "it")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range r.Reasons {
			if x.Code == trust.CodeCertificateRevoked && x.Severity == "error" && x.Signature != nil && *x.Signature == 0 {
				found = true
				t.Logf("%s", x.Message)
			}
		}
		if r.Valid || !found {
			t.Fatalf("valid %v, reasons %+v", r.Valid, r.Reasons)
		}
	})
}

// TestCountersignedCopyLTA: with a sealer at B-LTA (the development CA's
// CRL, the local TSA), the sealed letter and the comune's signed copy
// are both archived at B-LTA, and the archived signed version verifies.
func TestCountersignedCopyLTA(t *testing.T) {
	testenv.Tool(t, "pdfsig")
	e := newEnv(t)
	dir, _ := strings.CutPrefix(e.seal.Source, "dev:")
	crl, err := keys.DevCRL(dir)
	if err != nil {
		t.Fatal(err)
	}
	url, chain := testenv.StartTSA(t)
	tsa := &pades.TSA{URL: url, Timeout: 10 * time.Second}
	sealer := e.svc.Sealer.(*seal.Sealer)
	sealer.TSA = tsa
	sealer.LTV = &pades.LTV{Revocation: &pades.Revocation{Timeout: 5 * time.Second, Local: [][]byte{crl}}, TSA: tsa, Extra: chain}
	comune := pdftest.NewPKI(t, "Comune di Loiano")
	e.verifier.Anchors.Add(chain[len(chain)-1], "tsa")
	if _, err := e.verifier.Anchors.AddPEM(comune.CAPEM, "bundle:comuni.pem"); err != nil {
		t.Fatal(err)
	}

	e.svc.Trust = e.verifier.Policy()
	rec, sealed := e.create(t, "loiano", "adesione")
	if rec.Seal.Level != pades.LevelBLTA || rec.Seal.ArchiveTimestampTime == nil {
		t.Fatalf("sealed: %+v", rec.Seal)
	}
	signed := pdftest.Countersign(t, sealed, comune)
	v2, _, err := e.svc.ReturnSigned(context.Background(), rec.ID, signed, "en", "test")
	if err != nil {
		t.Fatal(err)
	}
	if v2.Seal.Level != pades.LevelBLTA || v2.Seal.ArchiveTimestampTime == nil || v2.Seal.LTVFallback || !v2.Seal.ComuneSigned {
		t.Fatalf("signed version: %+v", v2.Seal)
	}
	_, archived, err := e.svc.PDF(context.Background(), rec.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(archived, signed) || len(archived) == len(signed) {
		t.Fatal("the archived signed version does not extend the comune's copy")
	}
	r, err := e.verifier.Verify(context.Background(), archived, "en")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Valid || len(r.Signatures) != 4 || r.Signatures[0].Level != pades.LevelBLTA ||
		r.Signatures[1].SubFilter != pades.SubFilterDocTimestamp || r.Signatures[3].SubFilter != pades.SubFilterDocTimestamp ||
		len(r.Archived) != 1 || r.Archived[0].Version != 2 || !r.Archived[0].WholeFile {
		for _, s := range r.Signatures {
			t.Logf("signature %d %s %s intact %v trusted %v", s.Index, s.SubFilter, s.Level, s.Intact, s.Trusted)
		}
		t.Fatalf("valid %v, archived %+v, reasons %+v", r.Valid, r.Archived, r.Reasons)
	}
}

// TestTimestampChain: verified after the first time-stamp authority's
// certificate has expired, a seal is valid when a document time-stamp of
// an authority still valid, made before that expiry, covers it (B-LTA);
// not valid (timestamp_unprotected) at B-LT, nor when the document
// time-stamp's own certificate has expired too.
func TestTimestampChain(t *testing.T) {
	e := newEnv(t)
	_, sealed := e.create(t, "loiano", "adesione")
	revs, _ := pades.Revisions(sealed)
	letter := sealed[:revs[0]]
	pki := testenv.NewPKI(t)
	tsa1 := &pades.TSA{URL: pki.StartPKITSA(t).URL, Timeout: 5 * time.Second}
	tsa2 := &pades.TSA{URL: pki.StartPKITSA2(t).URL, Timeout: 5 * time.Second}
	e.verifier.Anchors.Add(pki.Root, "test-pki")
	bt, _, err := pades.Sign(context.Background(), letter, pades.Options{
		Signer: pki.SealKey, Chain: []*x509.Certificate{pki.Seal, pki.Inter, pki.Root}, Certify: true, TSA: tsa1,
	})
	if err != nil {
		t.Fatal(err)
	}
	rev := &pades.Revocation{Timeout: 5 * time.Second}
	lta2, _, err := (&pades.LTV{Revocation: rev, TSA: tsa2}).Extend(context.Background(), bt)
	if err != nil {
		t.Fatal(err)
	}
	lta1, _, err := (&pades.LTV{Revocation: rev, TSA: tsa1}).Extend(context.Background(), bt)
	if err != nil {
		t.Fatal(err)
	}
	lt, _, err := (&pades.LTV{Revocation: rev}).Extend(context.Background(), bt)
	if err != nil {
		t.Fatal(err)
	}
	later := pki.TSA.NotAfter.Add(24 * time.Hour)
	v := *e.verifier
	v.Archive, v.Log = nil, nil
	v.Now = func() time.Time { return later }
	for _, tc := range []struct {
		name        string
		pdf         []byte
		unprotected *int // the signature named, nil when valid
	}{
		{"B-LTA by a later authority", lta2, nil},
		{"B-LT", lt, new(0)},
		{"B-LTA by the same authority", lta1, new(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := v.Verify(context.Background(), tc.pdf, "en")
			if err != nil {
				t.Fatal(err)
			}
			var errs []string
			var found *verify.Reason
			for i, x := range r.Reasons {
				if x.Severity == "error" && x.Code != "archive_unavailable" {
					errs = append(errs, x.Code)
				}
				if x.Code == trust.CodeTimestampUnprotected {
					found = &r.Reasons[i]
				}
			}
			switch {
			case tc.unprotected == nil && len(errs) > 0:
				t.Fatalf("errors %v: %+v", errs, r.Reasons)
			case tc.unprotected != nil && (found == nil || found.Signature == nil || *found.Signature != *tc.unprotected || r.Valid):
				t.Fatalf("want timestamp_unprotected on signature %d: %+v", *tc.unprotected, r.Reasons)
			}
		})
	}
}

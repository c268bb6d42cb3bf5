package verify_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/testenv"
	"faldone/internal/trust"
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

package http_test

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/digitorus/pdfsign/sign"

	fhttp "faldone/internal/http"
	"faldone/internal/pdftest"
)

// TestHostileCorpusAtTheAPI posts every forgery of the hostile corpus to
// POST /v1/verify, which must call it not valid with its reason, and to
// POST /v1/documents/{id}/signed, countersigned by the comune with
// poppler's pdfsig when pdfsig accepts the file: it must be refused with
// a 422 naming the reason, and never archived.
func TestHostileCorpusAtTheAPI(t *testing.T) {
	e := newVerifyEnv(t, "", nil, func(cfg *fhttp.Config) { cfg.BodyLimit = 0 })
	d, sealed := e.sealed(t, "loiano", "adesione")
	comune := pdftest.NewCountersigner(t, pdftest.NewPKI(t, "Comune di Loiano"))
	for _, a := range pdftest.Attacks(t, sealed) {
		t.Run(a.Name, func(t *testing.T) {
			r := e.report(t, "application/pdf", a.PDF, "Accept-Language", "it")
			var codes []string
			for _, x := range r.Reasons {
				codes = append(codes, x.Code)
			}
			if r.Valid || !slices.ContainsFunc(a.Reasons, func(c string) bool { return slices.Contains(codes, c) }) {
				t.Errorf("/v1/verify: valid %v, reasons %v, want one of %v", r.Valid, codes, a.Reasons)
			}
			body := a.PDF
			if signed, err := comune.Sign(a.PDF); err == nil {
				body = signed
			} else {
				t.Logf("sent without a countersignature: %v", err)
			}
			resp, b := do(t, e.srv, "POST", d.Links["signed"], "application/pdf", body)
			if resp.StatusCode != 422 {
				t.Fatalf("/signed: %d %s", resp.StatusCode, b)
			}
			p := problem(t, resp, b)
			if !slices.ContainsFunc(a.Reasons, func(c string) bool { return strings.Contains(p.Detail, c) }) {
				t.Errorf("/signed: detail %q names none of %v", p.Detail, a.Reasons)
			}
		})
	}
	_, b := do(t, e.srv, "GET", d.Links["self"], "", nil)
	var latest fhttp.DocumentResponse
	if err := json.Unmarshal(b, &latest); err != nil || latest.Version != 1 {
		t.Fatalf("a forged copy was archived: %v %s", err, b)
	}
	// The comune's genuine countersignature is still accepted.
	signed, err := comune.Sign(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if resp, b := do(t, e.srv, "POST", d.Links["signed"], "application/pdf", signed); resp.StatusCode != 201 {
		t.Fatalf("genuine countersignature: %d %s", resp.StatusCode, b)
	}
}

// TestPdfsignCountersignatureAccepted: digitorus/pdfsign writes the
// catalog again as a new object with the same content, and declares a
// /Version; /signed accepts its countersignature, and /v1/verify finds no
// forbidden change in it.
func TestPdfsignCountersignatureAccepted(t *testing.T) {
	e := newVerifyEnv(t, "", nil, func(cfg *fhttp.Config) { cfg.BodyLimit = 0 })
	d, sealed := e.sealed(t, "loiano", "adesione")
	pki := pdftest.NewPKI(t, "Comune di Loiano")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	err := sign.SignFile(in, out, sign.SignData{
		Signature: sign.SignDataSignature{CertType: sign.ApprovalSignature, Info: sign.SignDataSignatureInfo{Name: "Comune di Loiano", Reason: "Approvato"}},
		Signer:    pki.Key, Certificate: pki.Leaf, CertificateChains: [][]*x509.Certificate{{pki.Leaf, pki.CA}},
		DigestAlgorithm: crypto.SHA256,
	})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r := e.report(t, "application/pdf", signed)
	for _, x := range r.Reasons {
		if x.Params["Path"] != nil || x.Code == "signature_invalid" || x.Code == "signature_restated" {
			t.Errorf("/v1/verify: %s %s", x.Code, x.Detail)
		}
	}
	if resp, b := do(t, e.srv, "POST", d.Links["signed"], "application/pdf", signed); resp.StatusCode != 201 {
		t.Fatalf("/signed: %d %s", resp.StatusCode, b)
	}
}

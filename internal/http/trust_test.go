package http_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/testenv"
	"faldone/internal/trust"
	"faldone/internal/trust/trusttest"
	"faldone/internal/verify"
)

// trustEnv is an API sealing at B-T that trusts its TSA, in production
// (signers that are not trusted are refused) or not.
type trustEnv struct {
	signedEnv
	anchors *verify.Anchors
	tsa     string // the TSA's URL
}

func newTrustEnv(t *testing.T, production bool) *trustEnv {
	t.Helper()
	tsa, tsaChain := testenv.StartTSA(t)
	key, _, err := keys.DevSeal(t.TempDir(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { key.Close() })
	sealer := &seal.Sealer{Key: key, TSA: &pades.TSA{URL: tsa, Timeout: 5 * time.Second}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e := &trustEnv{tsa: tsa}
	e.s = mustServerWith(t, sealer, func(cfg *fhttp.Config) {
		cfg.BodyLimit = 0
		cfg.Documents.RequireTrusted = production
		e.anchors = cfg.Verifier.Anchors
	})
	for _, c := range tsaChain[1:] { // the token carries the TSA's own certificate only
		e.anchors.Add(c, "bundle:tsa.pem")
	}
	return e
}

// verifyReport verifies pdf with POST /v1/verify.
func verifyReport(t *testing.T, s *fhttp.Server, pdf []byte) verify.Report {
	t.Helper()
	resp, b := do(t, s, "POST", "/v1/verify?lang=en", "application/pdf", pdf)
	if resp.StatusCode != 200 {
		t.Fatalf("verify: %d %s", resp.StatusCode, b)
	}
	var r verify.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func errorCodes(r verify.Report) []string {
	var out []string
	for _, x := range r.Reasons {
		if x.Severity == verify.SeverityError {
			out = append(out, x.Code)
		}
	}
	return out
}

// countersigners are the comune certificates of the trust tests: one
// trusted, and the untrusted kinds a forger would use.
type countersigner struct {
	name string
	sign func(t *testing.T, sealed []byte) []byte
	// codes are the judgement's error codes for the signature.
	codes []string
}

func countersigners(t *testing.T, e *trustEnv) (trusted countersigner, untrusted []countersigner) {
	now := time.Now()
	good := pdftest.NewPKIWith(t, "Maria Rossi", pdftest.PKIOptions{SerialNumber: "TINIT-RSSMRA80A41H501U", Qualified: true})
	if _, err := e.anchors.AddPEM(good.CAPEM, "bundle:comuni.pem"); err != nil {
		t.Fatal(err)
	}
	self := pdftest.NewPKIWith(t, "Comune di Nessuno", pdftest.PKIOptions{SelfSigned: true})
	expired := pdftest.NewPKIWith(t, "Mario Bianchi", pdftest.PKIOptions{SerialNumber: "TINIT-BNCMRA70A01H501X", NotBefore: now.Add(-30 * 24 * time.Hour), NotAfter: now.Add(-10 * 24 * time.Hour)})
	for _, p := range []*pdftest.PKI{expired} {
		if _, err := e.anchors.AddPEM(p.CAPEM, "bundle:comuni.pem"); err != nil {
			t.Fatal(err)
		}
	}
	ours := func(p *pdftest.PKI, at time.Time) func(*testing.T, []byte) []byte {
		return func(t *testing.T, sealed []byte) []byte {
			out, _, err := pades.Sign(context.Background(), sealed, pades.Options{Signer: p.Key, Chain: []*x509.Certificate{p.Leaf, p.CA}, Time: at, FieldName: "FirmaComune"})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	// A time-stamped signature claiming a time an hour before its token,
	// within its certificate's validity.
	older := pdftest.NewPKIWith(t, "Anna Neri", pdftest.PKIOptions{SerialNumber: "TINIT-NRENNA70A41H501Z", NotBefore: now.Add(-48 * time.Hour)})
	if _, err := e.anchors.AddPEM(older.CAPEM, "bundle:comuni.pem"); err != nil {
		t.Fatal(err)
	}
	early := func(t *testing.T, sealed []byte) []byte {
		out, _, err := pades.Sign(context.Background(), sealed, pades.Options{Signer: older.Key, Chain: []*x509.Certificate{older.Leaf, older.CA},
			Time: now.Add(-time.Hour), FieldName: "FirmaComune", TSA: &pades.TSA{URL: e.tsa, Timeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	trusted = countersigner{"trusted, pdfsig", func(t *testing.T, sealed []byte) []byte { return pdftest.Countersign(t, sealed, good) }, nil}
	untrusted = []countersigner{
		{"self-signed, pdfsig", func(t *testing.T, sealed []byte) []byte { return pdftest.Countersign(t, sealed, self) }, []string{trust.CodeUntrustedSigner}},
		{"expired", ours(expired, now), []string{trust.CodeSignerExpired, trust.CodeSigningTimeOutsideValidity}},
		{"backdated into an expired certificate", ours(expired, now.Add(-20*24*time.Hour)), []string{trust.CodeSignerExpired, trust.CodeTimeBackwards}},
		{"trusted, claiming an hour before its time-stamp", early, []string{trust.CodeClaimedTimeMismatch}},
	}
	return trusted, untrusted
}

// TestSignedTrustProduction: in production a countersignature that is not
// trusted is a 422 untrusted_signer, localised, naming why; a trusted one
// is archived with its signer, and POST /v1/verify agrees with the intake.
func TestSignedTrustProduction(t *testing.T) {
	e := newTrustEnv(t, true)
	trusted, untrusted := countersigners(t, e)
	for _, c := range untrusted {
		t.Run(c.name, func(t *testing.T) {
			d, sealed := e.create(t, "suvereto")
			signed := c.sign(t, sealed)
			resp, b := do(t, e.s, "POST", d.Links["signed"]+"?lang=it", "application/pdf", signed)
			if resp.StatusCode != 422 {
				t.Fatalf("status %d %s", resp.StatusCode, b)
			}
			p := problem(t, resp, b)
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Code)
			}
			if p.Code != faldone.EUNTRUSTED || p.Type != "urn:faldone:problem:untrusted_signer" || !slices.Equal(got, c.codes) ||
				!strings.Contains(p.Detail, "non è attendibile") || p.Title != "Il firmatario non è attendibile." {
				t.Fatalf("problem %+v, want codes %v", p, c.codes)
			}
			for _, f := range p.Errors {
				if !strings.HasPrefix(f.Message, "Firma 2") {
					t.Errorf("reason not in Italian: %q", f.Message)
				}
			}
			// Verification says the same of the refused copy.
			if r := verifyReport(t, e.s, signed); r.Valid || !slices.Equal(errorCodes(r), c.codes) {
				t.Errorf("verify: valid %v, reasons %v; want %v", r.Valid, errorCodes(r), c.codes)
			}
			// Nothing was archived.
			_, b = do(t, e.s, "GET", d.Links["self"], "", nil)
			var now fhttp.DocumentResponse
			json.Unmarshal(b, &now)
			if now.Version != 1 {
				t.Errorf("version %d archived", now.Version)
			}
		})
	}
	t.Run(trusted.name, func(t *testing.T) {
		d, sealed := e.create(t, "suvereto")
		signed := trusted.sign(t, sealed)
		resp, b := do(t, e.s, "POST", d.Links["signed"], "application/pdf", signed)
		if resp.StatusCode != 201 {
			t.Fatalf("status %d %s", resp.StatusCode, b)
		}
		var v2 fhttp.DocumentResponse
		json.Unmarshal(b, &v2)
		sg := v2.Seal.ComuneSigner
		if sg == nil || !sg.Trusted || sg.SerialNumber != "TINIT-RSSMRA80A41H501U" || sg.CommonName != "Maria Rossi" || !sg.Qualified ||
			sg.Anchor != "bundle:comuni.pem" || sg.QualifiedService || sg.TrustTimeSource != "now" || !strings.Contains(sg.Issuer, "Maria Rossi CA") {
			t.Fatalf("signer %+v", sg)
		}
		r := verifyReport(t, e.s, signed)
		if !r.Valid || len(r.Signatures) != 2 {
			t.Fatalf("verify: %+v", r.Reasons)
		}
		if id := r.Signatures[1].Identity; id == nil || !id.Trusted || id.SerialNumber != sg.SerialNumber || id.CertSHA256 != sg.CertSHA256 {
			t.Errorf("verify's identity %+v, intake's %+v", id, sg)
		}
		// The seal's trust time is its trusted time-stamp's.
		if s := r.Signatures[0]; s.TrustTimeSource != "timestamp" || !s.TrustTime.Equal(s.Timestamp.Time) {
			t.Errorf("seal trusted at %s from %s; time-stamp %+v", s.TrustTime, s.TrustTimeSource, s.Timestamp)
		}
	})
}

// TestSignedTrustDevelopment: on the development default an untrusted
// countersignature is archived, recorded and shown as untrusted with its
// reasons, and verification calls the version not valid for the same
// reasons.
func TestSignedTrustDevelopment(t *testing.T) {
	e := newTrustEnv(t, false)
	_, untrusted := countersigners(t, e)
	for _, c := range untrusted {
		t.Run(c.name, func(t *testing.T) {
			d, sealed := e.create(t, "suvereto")
			signed := c.sign(t, sealed)
			resp, b := do(t, e.s, "POST", d.Links["signed"], "application/pdf", signed)
			if resp.StatusCode != 201 {
				t.Fatalf("status %d %s", resp.StatusCode, b)
			}
			_, b = do(t, e.s, "GET", d.Links["self"], "", nil)
			var v2 fhttp.DocumentResponse
			json.Unmarshal(b, &v2)
			sg := v2.Seal.ComuneSigner
			if v2.Version != 2 || sg == nil || (sg.Trusted && len(sg.Reasons) == 0) || !slices.Equal(sg.Reasons, c.codes) {
				t.Fatalf("version %d signer %+v, want reasons %v", v2.Version, sg, c.codes)
			}
			if r := verifyReport(t, e.s, signed); r.Valid || !slices.Equal(errorCodes(r), c.codes) {
				t.Errorf("verify: valid %v, reasons %v; want %v", r.Valid, errorCodes(r), c.codes)
			}
		})
	}
}

// TestSignedTrustedList: a comune's CA anchored by a signed Trusted List
// is trusted while its service is granted; once the list says it was
// withdrawn before the signature, production refuses it.
func TestSignedTrustedList(t *testing.T) {
	e := newTrustEnv(t, true)
	now := time.Now()
	comune := pdftest.NewPKIWith(t, "Lucia Verdi", pdftest.PKIOptions{SerialNumber: "TINIT-VRDLCU75C41G702K", Qualified: true})
	key, signer := trusttest.Signer(t)
	svc := trusttest.Service{Provider: "Test QTSP S.p.A.", Name: "Test Qualified CA", Type: trust.SvcCAQC, Cert: comune.CA,
		History: []trusttest.Status{{Status: trusttest.Granted, From: now.Add(-365 * 24 * time.Hour)}}}
	list := func(svc trusttest.Service) *trust.TrustedList {
		tl, err := trust.ParseTrustedList(trusttest.Sign(t, trusttest.XML([]trusttest.Service{svc}, now.Add(24*time.Hour)), key, signer), []*x509.Certificate{signer}, now)
		if err != nil {
			t.Fatal(err)
		}
		return tl
	}
	e.anchors.AddTrustedList(list(svc), "trusted-list:it.xml")
	d, sealed := e.create(t, "suvereto")
	resp, b := do(t, e.s, "POST", d.Links["signed"], "application/pdf", pdftest.Countersign(t, sealed, comune))
	if resp.StatusCode != 201 {
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	var v2 fhttp.DocumentResponse
	json.Unmarshal(b, &v2)
	if sg := v2.Seal.ComuneSigner; sg == nil || !sg.Trusted || sg.Anchor != "trusted-list:it.xml" || sg.SerialNumber != "TINIT-VRDLCU75C41G702K" || !sg.QualifiedService {
		t.Fatalf("signer %+v", sg)
	}

	// Another server whose list says the service was withdrawn an hour ago.
	e2 := newTrustEnv(t, true)
	svc.History = append([]trusttest.Status{{Status: trusttest.Withdrawn, From: now.Add(-time.Hour)}}, svc.History...)
	e2.anchors.AddTrustedList(list(svc), "trusted-list:it.xml")
	d, sealed = e2.create(t, "suvereto")
	resp, b = do(t, e2.s, "POST", d.Links["signed"], "application/pdf", pdftest.Countersign(t, sealed, comune))
	if p := problem(t, resp, b); resp.StatusCode != 422 || p.Code != faldone.EUNTRUSTED || !strings.Contains(p.Errors[0].Message, "Lucia Verdi") {
		t.Fatalf("withdrawn service: %d %+v", resp.StatusCode, p)
	}
}

package pades

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"faldone/internal/pdftest"
	"faldone/internal/testenv"
)

// ltvEnv is a test PKI with its OCSP responder and CRL server, and a
// timestamp-server signing under it.
type ltvEnv struct {
	pki *testenv.PKI
	tsa *TSA
}

func newLTVEnv(t testing.TB) *ltvEnv {
	t.Helper()
	pki := testenv.NewPKI(t)
	ts := pki.StartPKITSA(t)
	return &ltvEnv{pki: pki, tsa: &TSA{URL: ts.URL, Timeout: 5 * time.Second, Retries: 1}}
}

func (e *ltvEnv) ltv(lta bool) *LTV {
	l := &LTV{Revocation: &Revocation{Timeout: 5 * time.Second, Retries: 1}}
	if lta {
		l.TSA = e.tsa
	}
	return l
}

// sealBT certifies the test letter at B-T with the PKI's seal key (or
// its revoked one).
func (e *ltvEnv) sealBT(t testing.TB, revoked bool) []byte {
	t.Helper()
	p := e.pki
	leaf, key := p.Seal, p.SealKey
	if revoked {
		leaf, key = p.Revoked, p.RevokedKey
	}
	out, res, err := Sign(context.Background(), testLetter(t), Options{
		Signer: key, Chain: []*x509.Certificate{leaf, p.Inter, p.Root}, Certify: true,
		Name: leaf.Subject.CommonName, Reason: "Sigillo", TSA: e.tsa,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Level != LevelBT {
		t.Fatalf("level %s", res.Level)
	}
	return out
}

// TestExtendLTA seals at B-T, extends to B-LTA with validation data from
// a real OCSP responder (the end-entity certificates) and CRL server (the
// intermediate), and has the result read by our inspection and analysis,
// pdfcpu (revocation status good), poppler, mupdf, qpdf and openssl.
func TestExtendLTA(t *testing.T) {
	e := newLTVEnv(t)
	sealed := e.sealBT(t, false)
	out, res, err := e.ltv(true).Extend(context.Background(), sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, sealed) {
		t.Fatal("the sealed file is not a prefix of the extended one")
	}
	if res.Level != LevelBLTA || res.TimestampTime.IsZero() || !res.TimestampSigner.Equal(e.pki.TSA) {
		t.Fatalf("result %+v", res)
	}
	// OCSP for the seal and the TSA, the root's CRL for the intermediate.
	if len(res.Validation.OCSPs) != 2 || len(res.Validation.CRLs) != 1 || len(res.Validation.Certs) != 4 {
		t.Errorf("validation data: %d certs, %d OCSP, %d CRL", len(res.Validation.Certs), len(res.Validation.OCSPs), len(res.Validation.CRLs))
	}
	t.Logf("B-T %d bytes, B-LTA %d bytes (+%d)", len(sealed), len(out), len(out)-len(sealed))

	sigs, err := Inspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[0].Level != LevelBLTA || sigs[1].SubFilter != SubFilterDocTimestamp {
		t.Fatalf("signatures %+v", sigs)
	}
	for _, s := range sigs {
		if s.IntegrityErr != nil {
			t.Errorf("signature %d: %v", s.Index, s.IntegrityErr)
		}
	}
	a, err := Analyse(out)
	if err != nil {
		t.Fatal(err)
	}
	if !a.OK() {
		t.Errorf("findings %v", a.Findings)
		for _, s := range a.Signed {
			t.Errorf("after revision %d: %v", s.Revision, s.Forbidden())
		}
	}
	// B-LT only: the level says so.
	lt, res2, err := e.ltv(false).Extend(context.Background(), sealed)
	if err != nil {
		t.Fatal(err)
	}
	if sigs, _ := Inspect(lt); res2.Level != LevelBLT || len(sigs) != 1 || sigs[0].Level != LevelBLT {
		t.Errorf("B-LT: result %s, signatures %+v", res2.Level, sigs)
	}

	t.Run("pdfcpu", func(t *testing.T) {
		if err := pdfcpuCheck(out, 2); err != nil {
			t.Error(err)
		}
		if err := pdfcpuRevocationGood(t, out, e.pki.RootFile); err != nil {
			t.Error(err)
		}
	})
	t.Run("pdfsig", func(t *testing.T) {
		// poppler lists a document time-stamp but does not validate one
		need(t, "pdfsig", "certutil")
		got := mustRunAny(t, "pdfsig", "-nssdir", "sql:"+nssDB(t, e.pki.RootFile), writeTemp(t, "lta.pdf", out))
		if strings.Count(got, "Signature #") != 2 || strings.Count(got, "Signature Validation: Signature is Valid.") != 1 ||
			strings.Count(got, "Certificate Validation: Certificate is Trusted.") != 1 ||
			!strings.Contains(got, "Signature Field Name: Timestamp") || !strings.Contains(got, "Total document signed") {
			t.Errorf("pdfsig:\n%s", got)
		}
	})
	t.Run("mutool", func(t *testing.T) {
		// mupdf lists a document time-stamp as not signed
		need(t, "mutool")
		got := mustRunAny(t, "mutool", "sign", "-v", writeTemp(t, "lta.pdf", out))
		if strings.Count(got, "Verifying signature ") != 2 || strings.Contains(got, "Digest error") ||
			!strings.Contains(got, "The signature is valid but there have been edits since signing.") {
			t.Errorf("mutool:\n%s", got)
		}
	})
	t.Run("qpdf", func(t *testing.T) {
		if err := qpdfCheck(t, out); err != nil {
			t.Error(err)
		}
	})
	t.Run("openssl", func(t *testing.T) {
		need(t, "openssl")
		if err := opensslCheck(t, out, sigs[0].ByteRange, sigs[0].Contents, e.pki.RootFile); err != nil {
			t.Error(err)
		}
		dir := t.TempDir()
		// the document time-stamp, a TimeStampToken over the byte range
		br := sigs[1].ByteRange
		data := filepath.Join(dir, "data")
		writeFile(t, data, append(bytes.Clone(out[:br[1]]), out[br[2]:br[2]+br[3]]...))
		tok := filepath.Join(dir, "token.der")
		writeFile(t, tok, sigs[1].Contents)
		mustRun(t, "openssl", "ts", "-verify", "-data", data, "-in", tok, "-token_in", "-CAfile", e.pki.RootFile, "-untrusted", e.pki.InterFile)
		// each OCSP response of the /DSS, checked by openssl
		vd := sigs[0].Validation
		for i, o := range vd.OCSPs {
			f := filepath.Join(dir, "ocsp"+string(rune('0'+i))+".der")
			writeFile(t, f, o)
			got := mustRun(t, "openssl", "ocsp", "-respin", f, "-CAfile", e.pki.RootFile, "-VAfile", e.pki.InterFile, "-resp_text")
			if !strings.Contains(got, "Cert Status: good") || !strings.Contains(got, "Response verify OK") {
				t.Errorf("ocsp response %d:\n%s", i, got)
			}
		}
		for i, c := range vd.CRLs {
			f := filepath.Join(dir, "crl"+string(rune('0'+i))+".der")
			writeFile(t, f, c)
			if got := mustRun(t, "openssl", "crl", "-inform", "DER", "-in", f, "-CAfile", e.pki.RootFile, "-noout"); !strings.Contains(got, "verify OK") {
				t.Errorf("crl %d: %s", i, got)
			}
		}
	})
	t.Run("again", func(t *testing.T) {
		// a second extension adds the first time-stamp's validation data
		// and a new time-stamp, and keeps everything
		again, res, err := e.ltv(true).Extend(context.Background(), out)
		if err != nil {
			t.Fatal(err)
		}
		sigs, _ := Inspect(again)
		if res.Level != LevelBLTA || len(sigs) != 3 || sigs[0].Level != LevelBLTA || sigs[2].SubFilter != SubFilterDocTimestamp {
			t.Fatalf("signatures %+v", sigs)
		}
		if a, err := Analyse(again); err != nil || !a.OK() {
			t.Fatalf("analysis %v %+v", err, a)
		}
		// pdfcpu validates only the newest document time-stamp
		if err := pdfcpuCheck(again, 2); err != nil {
			t.Error(err)
		}
	})
}

// mustRunAny runs a command and returns its output, whatever its exit status.
func mustRunAny(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, _ := run(t, name, args...)
	return out
}

// pdfcpuRevocationGood asks pdfcpu, trusting root, for the revocation
// status of the seal's signer certificate.
func pdfcpuRevocationGood(t testing.TB, pdf []byte, root string) error {
	t.Helper()
	pdftest.Pdfcpu(nil, 0) // sets pdfcpu's configuration up
	dir := model.TrustedCertDir
	if b, err := os.ReadFile(root); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "faldone-ltv-root.pem"), b, 0o600)
	}
	pdfcpu.InvalidateCertificatePool()
	conf := model.NewDefaultConfiguration()
	// pdfcpu 0.15 takes archived (/DSS) evidence as inconclusive and
	// concludes on the responses it fetches itself, from public addresses
	// unless told otherwise.
	conf.AllowedRevocationHosts = []string{"127.0.0.1"}
	conf.PreferredCertRevocationChecker = model.OCSP
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(pdf), true, conf)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Details.SubFilter != "ETSI.CAdES.detached" {
			continue
		}
		if len(r.Details.Signers) == 0 || r.Details.Signers[0].Certificate == nil {
			return errors.New("pdfcpu: no signer certificate")
		}
		rev := r.Details.Signers[0].Certificate.Revocation
		if rev.Status != model.True {
			return errors.New("pdfcpu: revocation " + rev.String() + "\n" + r.String())
		}
		t.Logf("pdfcpu: seal revocation status: %s", rev.String())
		return nil
	}
	return errors.New("pdfcpu: no CAdES signature")
}

// TestExtendRevoked: a revoked seal certificate is not extended, and a
// file whose /DSS says the signer was revoked before its time-stamp is
// read with the revocation data.
func TestExtendRevoked(t *testing.T) {
	e := newLTVEnv(t)
	sealed := e.sealBT(t, true)
	_, _, err := e.ltv(true).Extend(context.Background(), sealed)
	if !errors.Is(err, ErrRevoked) {
		t.Fatalf("extend a revoked seal: %v", err)
	}
	vd, err := (&Revocation{Timeout: 5 * time.Second}).Collect(context.Background(), []*x509.Certificate{e.pki.Revoked, e.pki.Inter, e.pki.Root})
	if !errors.Is(err, ErrRevoked) || len(vd.OCSPs) != 1 {
		t.Fatalf("collect: %v, %+v", err, vd)
	}
}

// TestRevocationUnavailable: a responder that does not answer makes the
// collection fail as unavailable, after its retries.
func TestRevocationUnavailable(t *testing.T) {
	e := newLTVEnv(t)
	c := *e.pki.Seal
	c.OCSPServer = []string{"http://127.0.0.1:1/"}
	c.CRLDistributionPoints = nil
	_, err := (&Revocation{Timeout: time.Second, Retries: 1}).Collect(context.Background(), []*x509.Certificate{&c, e.pki.Inter, e.pki.Root})
	if !errors.Is(err, ErrRevocationUnavailable) {
		t.Fatalf("err %v", err)
	}
}

// TestDocTimestampSmuggling: a genuine document time-stamp, by the real
// TSA, whose own update also replaces the page's content: the time-stamp
// verifies, and the analysis forbids the change all the same.
func TestDocTimestampSmuggling(t *testing.T) {
	e := newLTVEnv(t)
	sealed := e.sealBT(t, false)
	doc, err := parseDocument(sealed)
	if err != nil {
		t.Fatal(err)
	}
	up, err := planUpdate(doc, &Options{FieldName: DocTimestampField}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	up.sigDict = "/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161"
	pageRef, page, err := firstPage(doc, doc.dict(doc.trailer["Root"]))
	if err != nil {
		t.Fatal(err)
	}
	content := Ref{Num: up.size}
	up.size++
	up.objects = append(up.objects, pendingObject{content, &Stream{Dict: Dict{}, Raw: []byte("BT /F1 28 Tf 60 420 Td (IMPORTO: 1.000.000 EUR) Tj ET")}})
	found := false
	for i, p := range up.objects {
		if p.ref == pageRef {
			d := maps.Clone(p.val.(Dict))
			d["Contents"] = content
			up.objects[i].val, found = d, true
		}
	}
	if !found {
		d := maps.Clone(page)
		d["Contents"] = content
		up.objects = append(up.objects, pendingObject{pageRef, d})
	}
	out, br, err := up.render(sealed, 8192)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(out[:br[1]])
	h.Write(out[br[2]:])
	token, _, err := e.tsa.Stamp(context.Background(), h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	hex.Encode(out[br[1]+1:], token)

	sigs, err := Inspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[1].SubFilter != SubFilterDocTimestamp || sigs[1].IntegrityErr != nil {
		t.Fatalf("signatures %+v", sigs)
	}
	a, err := Analyse(out)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := a.Signed[0].Forbidden()
	if a.OK() || len(forbidden) == 0 || !strings.Contains(forbidden[0].Path, "Contents") {
		t.Fatalf("the smuggled change is allowed: %+v", a.Signed)
	}
}

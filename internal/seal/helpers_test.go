package seal_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// kinds and sampleComuni name the 25 inputs under samples/.
var (
	kinds        = []faldone.Kind{faldone.KindAdesione, faldone.KindAssessment, faldone.KindPiano, faldone.KindApprovazione, faldone.KindChiusura}
	sampleComuni = []string{"banari", "casaletto-spartano", "loiano", "san-calogero", "suvereto"}
)

// inspect is pades.Inspect.
func inspect(pdf []byte) ([]pades.Signature, error) { return pades.Inspect(pdf) }

// sealLocked seals a rendered document.
func sealLocked(s *seal.Sealer, r *faldone.Rendered) ([]byte, *faldone.SealFacts, error) {
	return s.Seal(context.Background(), r.PDF, &r.Document)
}

// discard is a logger that drops everything.
var discard = slog.New(slog.DiscardHandler)

// newRenderer returns a renderer on the embedded templates.
func newRenderer(tb testing.TB) *docs.Renderer {
	tb.Helper()
	reg, err := comuni.Default()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		tb.Fatal(err)
	}
	set.Version = faldone.Version
	return &docs.Renderer{Templates: set, Version: faldone.Version}
}

// render renders samples/<comune>/<kind>.json, unsealed.
func render(tb testing.TB, r *docs.Renderer, comune string, kind faldone.Kind) *faldone.Rendered {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "samples", comune, string(kind)+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := r.Render(context.Background(), kind, body, "")
	if err != nil {
		tb.Fatalf("render %s/%s: %v", comune, kind, err)
	}
	return res
}

// devSeal creates a development seal in a temporary directory and returns
// it with the path of its CA certificate (PEM).
func devSeal(tb testing.TB) (*keys.Seal, string) {
	tb.Helper()
	dir := tb.TempDir()
	key, created, err := keys.DevSeal(dir, time.Now)
	if err != nil || !created {
		tb.Fatalf("DevSeal: created %v, %v", created, err)
	}
	return key, filepath.Join(dir, keys.DevCAFile)
}

// testCA is a throwaway ECDSA CA issuing seal certificates.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	file string // PEM of cert
}

func newTestCA(tb testing.TB) *testCA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"IT"}, Organization: []string{"Test Task Force"}, CommonName: "seal test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &testCA{key: key, cert: cert, file: writeCerts(tb, cert)}
}

// issue returns a seal certificate for pub signed by the CA.
func (ca *testCA) issue(tb testing.TB, pub crypto.PublicKey, cn string) *x509.Certificate {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{Country: []string{"IT"}, Organization: []string{"Test Task Force"}, CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// writeCerts writes certificates to a PEM file in a temporary directory and
// returns its path.
func writeCerts(tb testing.TB, certs ...*x509.Certificate) string {
	tb.Helper()
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	p := filepath.Join(tb.TempDir(), "certs.pem")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// trust is what the validators trust: the seal's CA, and for pdfsig also
// the time-stamp authority's chain.
type trust struct {
	nssDir string // NSS database for pdfsig
	caFile string // seal CA, for openssl
}

func newTrust(tb testing.TB, sealCAFile string, tsaChain []*x509.Certificate) trust {
	tb.Helper()
	files := []string{sealCAFile}
	if len(tsaChain) > 0 {
		files = append(files, writeCerts(tb, tsaChain...))
	}
	return trust{nssDir: pdftest.NSSDB(tb, files...), caFile: sealCAFile}
}

// validators is how many independent validators validate runs.
const validators = 5

// validate runs the independent validators on the single signature of
// pdf, whose byte range is br and CMS is cms, and returns their failures,
// in the order pdfsig, pdfcpu, openssl, mupdf, pdfsign.
func validate(tb testing.TB, tr trust, pdf []byte, br [4]int64, cms []byte) []error {
	tb.Helper()
	errs := make([]error, validators)
	// pdfcpu and pdfsign run in process while the tools run; the tools
	// stay on the test's goroutine, as they may fail the test.
	var wg sync.WaitGroup
	wg.Go(func() { errs[1] = pdftest.Pdfcpu(pdf, 1) })
	wg.Go(func() { errs[4] = pdftest.Pdfsign(pdf, 1) })
	errs[0] = pdftest.Pdfsig(tb, tr.nssDir, pdf, 1)
	errs[2] = pdftest.OpenSSLCMS(tb, pdf, br, cms, tr.caFile)
	errs[3] = pdftest.Mutool(tb, pdf, 1)
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}

// checkSealed checks a sealed document: in is an exact prefix of out; out
// holds one intact PAdES certification signature by key at level, which
// facts describe (with TSAFallback equal to fallback) and which the five
// validators and qpdf accept. Then it flips one byte in the rendered prefix
// and one in the appended update (outside /Contents) and checks that all
// five validators reject each result.
func checkSealed(t *testing.T, tr trust, key *keys.Seal, in, out []byte, facts *faldone.SealFacts, level string, fallback bool) {
	t.Helper()
	if !bytes.HasPrefix(out, in) {
		t.Fatal("the rendered PDF is not an exact prefix of the sealed one")
	}
	sigs, err := inspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 1 {
		t.Fatalf("Inspect: %d signatures, want 1", len(sigs))
	}
	s := sigs[0]
	if s.IntegrityErr != nil || s.Level != level || s.DocMDP != 2 || !s.CoversWholeFile ||
		s.SubFilter != "ETSI.CAdES.detached" || s.Signer == nil || !s.Signer.Equal(key.Leaf()) {
		t.Fatalf("Inspect: unexpected signature %+v (integrity: %v)", s, s.IntegrityErr)
	}
	br := s.ByteRange
	if br[0] != 0 || br[1] <= int64(len(in)) || br[2]+br[3] != int64(len(out)) {
		t.Fatalf("byte range %v does not cover the rendered %d bytes and the end of the %d sealed ones", br, len(in), len(out))
	}

	if facts == nil || facts.CertSHA256 != key.Fingerprint() || facts.Level != level || facts.TSAFallback != fallback ||
		facts.SigningTime == nil || !facts.SigningTime.Equal(s.SigningTime) {
		t.Fatalf("SealFacts %+v, want the fingerprint %s at %s (fallback %v), signed at %v", facts, key.Fingerprint(), level, fallback, s.SigningTime)
	}
	switch level {
	case pades.LevelBT:
		if s.Timestamp == nil || s.Timestamp.Err != nil || !s.Timestamp.ImprintMatches {
			t.Fatalf("time-stamp token: %+v", s.Timestamp)
		}
		if facts.TimestampTime == nil || !facts.TimestampTime.Equal(s.Timestamp.Time) ||
			time.Since(*facts.TimestampTime).Abs() > 5*time.Minute {
			t.Fatalf("SealFacts timestamp time %v, token time %v, now %v", facts.TimestampTime, s.Timestamp.Time, time.Now())
		}
	default:
		if s.Timestamp != nil || facts.TimestampTime != nil {
			t.Fatalf("%s signature with a time-stamp: token %+v, facts %v", level, s.Timestamp, facts.TimestampTime)
		}
	}

	if errs := validate(t, tr, out, br, s.Contents); len(errs) > 0 {
		t.Fatalf("validators reject the sealed file: %v", errs)
	}
	// pdfcpu sees the seal as a certification allowing form filling and
	// signing, as the seal says (DocMDP /P 2).
	if certified, perms, err := pdftest.PdfcpuCertification(out); err != nil || !certified || perms != 2 {
		t.Fatalf("pdfcpu: certified %v, permissions %d, %v; want a certification with permissions 2", certified, perms, err)
	}
	pdftest.QPDFCheck(t, out)

	for _, pos := range tamperPositions(t, in, out, br) {
		t.Run(fmt.Sprintf("flip-%d", pos), func(t *testing.T) {
			bad := bytes.Clone(out)
			bad[pos] ^= 0x01
			if errs := validate(t, tr, bad, br, s.Contents); len(errs) != validators {
				t.Errorf("flip at %d: only %d of %d validators failed: %v", pos, len(errs), validators, errs)
			}
			if got, err := inspect(bad); err == nil && len(got) == 1 && got[0].IntegrityErr == nil {
				t.Errorf("flip at %d: Inspect still reports an intact signature", pos)
			}
		})
	}
}

// tamperPositions returns two signed bytes: one in the middle of the
// rendered prefix, and a digit of the claimed signing time /M in the
// appended update, outside /Contents. Flipping the low bit of a digit
// leaves a digit, so the file still parses.
func tamperPositions(tb testing.TB, in, out []byte, br [4]int64) []int {
	tb.Helper()
	m := bytes.Index(out[len(in):], []byte("/M "))
	if m < 0 {
		tb.Fatalf("the appended update has no /M:\n%s", out[len(in):br[1]])
	}
	p := len(in) + m + len("/M ") + 8
	for p < len(out) && (out[p] < '0' || out[p] > '9') {
		p++
	}
	if int64(p) >= br[1] {
		tb.Fatalf("no digit of /M before /Contents at %d", br[1])
	}
	return []int{len(in) / 2, p}
}

package pades

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phpdave11/gofpdf"
)

// testPKI is a test CA and a leaf seal certificate issued by it.
type testPKI struct {
	ca     *x509.Certificate
	caKey  crypto.Signer
	leaf   *x509.Certificate
	key    crypto.Signer
	caFile string // PEM of the CA
}

func newKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case "ecdsa":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("unknown key algorithm %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newPKI(t testing.TB, alg, name string) *testPKI {
	t.Helper()
	p := &testPKI{caKey: newKey(t, alg), key: newKey(t, alg)}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name + " Test CA", Organization: []string{"faldone test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, p.caKey.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"faldone test"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err = x509.CreateCertificate(rand.Reader, leafTmpl, p.ca, p.key.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.leaf, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caFile = filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, p.caFile, "CERTIFICATE", p.ca.Raw)
	return p
}

func (p *testPKI) chain() []*x509.Certificate { return []*x509.Certificate{p.leaf, p.ca} }

func writePEM(t testing.TB, path, typ string, der ...[]byte) {
	t.Helper()
	var b bytes.Buffer
	for _, d := range der {
		_ = pem.Encode(&b, &pem.Block{Type: typ, Bytes: d})
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

var (
	letterOnce sync.Once
	letterPDF  []byte
	letterErr  error
)

// testLetter renders a two-page letter with gofpdf (classic xref table).
func testLetter(t testing.TB) []byte {
	t.Helper()
	letterOnce.Do(func() {
		pdf := gofpdf.New("P", "mm", "A4", "")
		tr := pdf.UnicodeTranslatorFromDescriptor("")
		for page, body := range []string{
			"Oggetto: Lettera di adesione al progetto FAST Piccoli Comuni. Il Comune di Loiano aderisce all'iniziativa e si impegna a collaborare con la task force.",
			"Documento informatico firmato digitalmente ai sensi del D.Lgs. 82/2005 s.m.i. e norme collegate. Città, è già così.",
		} {
			pdf.AddPage()
			pdf.SetFont("Helvetica", "B", 14)
			pdf.Cell(0, 10, tr("Comune di Loiano (Provincia di Bologna)"))
			pdf.Ln(14)
			pdf.SetFont("Helvetica", "", 11)
			pdf.MultiCell(0, 6, tr(body), "", "L", false)
			pdf.Ln(6)
			pdf.Cell(0, 6, tr("Pagina ")+string(rune('1'+page)))
		}
		var b bytes.Buffer
		letterErr = pdf.Output(&b)
		letterPDF = b.Bytes()
	})
	if letterErr != nil {
		t.Fatal(letterErr)
	}
	return bytes.Clone(letterPDF)
}

// need skips (or fails under CI=true) when a command-line tool is missing.
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := run(t, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The tests of this package re-read and verify every file Sign makes.
func init() { fullSelfCheck = true }

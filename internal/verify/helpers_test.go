package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"faldone/internal/audit"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/templates"
)

var (
	setOnce sync.Once
	theSet  *tmpl.Set
	setErr  error
)

// templateSet loads the embedded templates once.
func templateSet(tb testing.TB) *tmpl.Set {
	tb.Helper()
	setOnce.Do(func() {
		reg, err := comuni.Default()
		if err != nil {
			setErr = err
			return
		}
		theSet, setErr = tmpl.Load(templates.FS, reg)
	})
	if setErr != nil {
		tb.Fatal(setErr)
	}
	return theSet
}

// env is a service as cmd/faldone wires it: the development seal, a SQLite
// archive, a log key and a verifier trusting the development CA.
type env struct {
	set      *tmpl.Set
	archive  *sqlite.Archive
	svc      *docs.Service
	seal     *keys.Seal
	devCA    *x509.Certificate
	log      *verify.TreeLog
	verifier *verify.Verifier
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{set: templateSet(tb)}
	dir := tb.TempDir()
	var err error
	if e.archive, err = sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.archive.Close() })
	if e.seal, _, err = keys.DevSeal(filepath.Join(dir, "keys"), nil); err != nil {
		tb.Fatal(err)
	}
	if e.devCA, err = keys.DevCA(filepath.Join(dir, "keys")); err != nil {
		tb.Fatal(err)
	}
	e.svc = &docs.Service{
		Renderer: &docs.Renderer{Templates: e.set, Version: "test"},
		Sealer:   &seal.Sealer{Key: e.seal, Logger: slog.New(slog.DiscardHandler)},
		Archive:  e.archive,
	}
	skey, vkey, err := audit.NewKey("faldone.test/log")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	e.log = &verify.TreeLog{Store: e.archive, Signer: signer, VKey: vkey}
	anchors := &verify.Anchors{}
	anchors.Add(e.devCA, "service")
	e.verifier = &verify.Verifier{Anchors: anchors, Archive: e.archive, Log: e.log, Messages: e.set}
	return e
}

// create archives a sealed document of a sample and returns it with its PDF.
func (e *env) create(tb testing.TB, comune, kind string) (*faldone.Record, []byte) {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "samples", comune, kind+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := e.svc.Create(context.Background(), faldone.Kind(kind), body, "it", "test")
	if err != nil {
		tb.Fatal(err)
	}
	_, pdf, err := e.svc.PDF(context.Background(), rec.ID, rec.Version)
	if err != nil {
		tb.Fatal(err)
	}
	return rec, pdf
}

// pki is a CA and a leaf certificate issued by it.
type pki struct {
	ca, leaf *x509.Certificate
	key      crypto.Signer
	caPEM    []byte
	caFile   string
}

func newPKI(tb testing.TB, name string) *pki {
	tb.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := rsa.GenerateKey(rand.Reader, 2048) // poppler's pdfsig fails to sign with ECDSA keys
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA", Organization: []string{name}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	p := &pki{key: key}
	p.ca, _ = x509.ParseCertificate(der)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err = x509.CreateCertificate(rand.Reader, leafTmpl, p.ca, key.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	p.leaf, _ = x509.ParseCertificate(der)
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw})
	p.caFile = filepath.Join(tb.TempDir(), "ca.pem")
	writeFile(tb, p.caFile, p.caPEM)
	return p
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

func mustRun(tb testing.TB, name string, args ...string) {
	tb.Helper()
	bin := testenv.Tool(tb, name)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// countersign adds the comune's signature with poppler's pdfsig, as a
// comune's own signing software would: an incremental update after the
// sealed bytes. The comune's key comes from a PKCS#12 file imported into
// a fresh NSS database.
func countersign(tb testing.TB, sealed []byte, comune *pki) []byte {
	tb.Helper()
	dir := tb.TempDir()
	nss := filepath.Join(dir, "nss")
	if err := os.Mkdir(nss, 0o700); err != nil {
		tb.Fatal(err)
	}
	mustRun(tb, "certutil", "-N", "-d", "sql:"+nss, "--empty-password")
	keyDER, err := x509.MarshalPKCS8PrivateKey(comune.key)
	if err != nil {
		tb.Fatal(err)
	}
	keyFile, certFile, p12 := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "comune.p12")
	writeFile(tb, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	writeFile(tb, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: comune.leaf.Raw}))
	mustRun(tb, "openssl", "pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-certfile", comune.caFile,
		"-name", "comune", "-passout", "pass:test", "-out", p12)
	mustRun(tb, "pk12util", "-i", p12, "-d", "sql:"+nss, "-W", "test")
	in, out := filepath.Join(dir, "sealed.pdf"), filepath.Join(dir, "signed.pdf")
	writeFile(tb, in, sealed)
	mustRun(tb, "pdfsig", "-add-signature", "-nssdir", "sql:"+nss, "-nick", "comune",
		"-new-signature-field-name", "FirmaComune", "-reason", "Approvato", in, out)
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.HasPrefix(b, sealed) {
		tb.Fatal("pdfsig did not append to the sealed file")
	}
	return b
}

// codes returns the reason codes of a report by severity.
func codes(r *verify.Report, severity string) []string {
	var out []string
	for _, x := range r.Reasons {
		if x.Severity == severity {
			out = append(out, x.Code)
		}
	}
	return out
}

func hasCode(r *verify.Report, code string) *verify.Reason {
	for i := range r.Reasons {
		if r.Reasons[i].Code == code {
			return &r.Reasons[i]
		}
	}
	return nil
}

func mustSample(tb testing.TB, comune, kind string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "samples", comune, kind+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// auditKey returns a fresh log key pair.
func auditKey(tb testing.TB) (skey, vkey string, err error) {
	tb.Helper()
	skey, vkey, err = audit.NewKey("other.test/log")
	if err != nil {
		tb.Fatal(err)
	}
	return skey, vkey, nil
}

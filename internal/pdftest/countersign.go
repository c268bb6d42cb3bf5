package pdftest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"faldone/internal/testenv"
)

// PKI is a CA and a leaf certificate issued by it.
type PKI struct {
	CA, Leaf *x509.Certificate
	Key      crypto.Signer
	CAPEM    []byte // the CA certificate, PEM
	CAFile   string // CAPEM in a file
}

func NewPKI(tb testing.TB, name string) *PKI {
	tb.Helper()
	return NewPKIWith(tb, name, PKIOptions{})
}

// PKIOptions shape the leaf certificate of NewPKIWith.
type PKIOptions struct {
	// NotBefore and NotAfter bound the leaf's validity; zero: from an hour
	// ago to a day from now.
	NotBefore, NotAfter time.Time
	// SerialNumber is the subject's serialNumber, such as "TINIT-...".
	SerialNumber string
	// Qualified adds QCStatements: QcCompliance, QcSSCD, QcType esign.
	Qualified bool
	// SelfSigned makes the leaf its own issuer; CA is then the leaf.
	SelfSigned bool
}

// NewPKIWith makes a CA and a leaf shaped by o.
func NewPKIWith(tb testing.TB, name string, o PKIOptions) *PKI {
	tb.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := rsa.GenerateKey(rand.Reader, 2048) // poppler's pdfsig fails to sign with ECDSA keys
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA", Organization: []string{name}},
		NotBefore: now.Add(-365 * 24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	p := &PKI{Key: key}
	p.CA, _ = x509.ParseCertificate(der)
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(24 * time.Hour)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name, Organization: []string{name}, SerialNumber: o.SerialNumber, Country: []string{"IT"}},
		NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	if o.Qualified {
		leafTmpl.ExtraExtensions = append(leafTmpl.ExtraExtensions, qcStatements())
	}
	parent, parentKey := p.CA, crypto.Signer(caKey)
	if o.SelfSigned {
		parent, parentKey = leafTmpl, key
	}
	der, err = x509.CreateCertificate(rand.Reader, leafTmpl, parent, key.Public(), parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	p.Leaf, _ = x509.ParseCertificate(der)
	if o.SelfSigned {
		p.CA = p.Leaf
	}
	p.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CA.Raw})
	p.CAFile = filepath.Join(tb.TempDir(), "ca.pem")
	writeFile(tb, p.CAFile, p.CAPEM)
	return p
}

// qcStatements is the QCStatements extension of an EU qualified
// certificate for electronic signatures on a QSCD.
func qcStatements() pkix.Extension {
	types, _ := asn1.Marshal([]asn1.ObjectIdentifier{{0, 4, 0, 1862, 1, 6, 1}})
	type stmt struct {
		ID   asn1.ObjectIdentifier
		Info asn1.RawValue `asn1:"optional"`
	}
	v, _ := asn1.Marshal([]stmt{
		{ID: asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}},
		{ID: asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}},
		{ID: asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}, Info: asn1.RawValue{FullBytes: types}},
	})
	return pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}, Value: v}
}

// Countersign adds the comune's signature with poppler's pdfsig, as a
// comune's own signing software would: an incremental update after the
// sealed bytes. The comune's key comes from a PKCS#12 file imported into
// a fresh NSS database.
func Countersign(tb testing.TB, sealed []byte, comune *PKI) []byte {
	tb.Helper()
	b, err := NewCountersigner(tb, comune).Sign(sealed)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Countersigner signs files with poppler's pdfsig and one comune's key,
// imported once into its NSS database.
type Countersigner struct {
	tb  testing.TB
	nss string
	n   int
}

// NewCountersigner imports comune's key into a fresh NSS database.
func NewCountersigner(tb testing.TB, comune *PKI) *Countersigner {
	tb.Helper()
	dir := tb.TempDir()
	nss := filepath.Join(dir, "nss")
	if err := os.Mkdir(nss, 0o700); err != nil {
		tb.Fatal(err)
	}
	mustRun(tb, testenv.Tool(tb, "certutil"), "-N", "-d", "sql:"+nss, "--empty-password")
	keyDER, err := x509.MarshalPKCS8PrivateKey(comune.Key)
	if err != nil {
		tb.Fatal(err)
	}
	keyFile, certFile, p12 := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "comune.p12")
	writeFile(tb, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	writeFile(tb, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: comune.Leaf.Raw}))
	mustRun(tb, testenv.Tool(tb, "openssl"), "pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-certfile", comune.CAFile,
		"-name", "comune", "-passout", "pass:test", "-out", p12)
	mustRun(tb, testenv.Tool(tb, "pk12util"), "-i", p12, "-d", "sql:"+nss, "-W", "test")
	return &Countersigner{tb: tb, nss: nss}
}

// Sign appends the comune's signature to pdf with pdfsig -add-signature,
// or says why pdfsig would not.
func (c *Countersigner) Sign(pdf []byte) ([]byte, error) {
	c.tb.Helper()
	dir := c.tb.TempDir()
	c.n++
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "signed.pdf")
	writeFile(c.tb, in, pdf)
	cmd := exec.Command(testenv.Tool(c.tb, "pdfsig"), "-add-signature", "-nssdir", "sql:"+c.nss, "-nick", "comune",
		"-new-signature-field-name", "FirmaComune", "-reason", "Approvato", in, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdfsig -add-signature: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, pdf) {
		return nil, errors.New("pdfsig did not append to the file")
	}
	return b, nil
}

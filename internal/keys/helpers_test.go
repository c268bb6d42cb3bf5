package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"faldone/internal/keys"
)

// testPKI is a throwaway CA issuing seal certificates.
type testPKI struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

func newPKI(tb testing.TB) *testPKI {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"Test Task Force"}, CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
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
	return &testPKI{key: key, cert: cert}
}

// issue returns a seal certificate for pub signed by the CA.
func (p *testPKI) issue(tb testing.TB, pub crypto.PublicKey, cn string) *x509.Certificate {
	tb.Helper()
	sn, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn.Add(sn, big.NewInt(2)),
		Subject:      pkix.Name{Organization: []string{"Test Task Force"}, CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, pub, p.key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

func newECKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func newRSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// writePEM writes the given blocks to dir/name and returns the path.
func writePEM(tb testing.TB, dir, name string, blocks ...*pem.Block) string {
	tb.Helper()
	var data []byte
	for _, b := range blocks {
		data = append(data, pem.EncodeToMemory(b)...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func certBlock(c *x509.Certificate) *pem.Block {
	return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}
}

func pkcs8Block(tb testing.TB, key crypto.Signer) *pem.Block {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

// checkSigns signs a SHA-256 digest with the seal and verifies the signature
// with the public key of the seal certificate; a signature over another
// digest must not verify.
func checkSigns(tb testing.TB, s *keys.Seal) {
	tb.Helper()
	digest := sha256.Sum256([]byte("Avviso di selezione, FAST Piccoli Comuni"))
	other := sha256.Sum256([]byte("something else"))
	sig, err := s.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	verify := func(d []byte) bool {
		switch pub := s.Chain[0].PublicKey.(type) {
		case *ecdsa.PublicKey:
			return ecdsa.VerifyASN1(pub, d, sig)
		case *rsa.PublicKey:
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d, sig) == nil
		default:
			tb.Fatalf("unexpected public key %T", pub)
			return false
		}
	}
	if !verify(digest[:]) {
		tb.Fatal("signature does not verify with the certificate's public key")
	}
	if verify(other[:]) {
		tb.Fatal("signature verifies over another digest")
	}
}

// needTool returns the path of a command, skipping the test when missing
// (failing when CI=true).
func needTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s not installed: %v", name, err)
		}
		tb.Skipf("%s not installed: %v", name, err)
	}
	return p
}

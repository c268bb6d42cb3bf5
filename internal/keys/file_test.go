package keys_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"faldone/internal/keys"
)

func TestLoadPEM(t *testing.T) {
	pki := newPKI(t)
	dir := t.TempDir()
	ec := newECKey(t)
	ecCert := pki.issue(t, ec.Public(), "ec seal")
	rsaKey := newRSAKey(t)
	rsaCert := pki.issue(t, rsaKey.Public(), "rsa seal")
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}

	ecChain := writePEM(t, dir, "ec-chain.pem", certBlock(ecCert), certBlock(pki.cert))
	rsaChain := writePEM(t, dir, "rsa-chain.pem", certBlock(rsaCert), certBlock(pki.cert))
	tests := []struct {
		name       string
		key, chain string
	}{
		{"pkcs8 ecdsa", writePEM(t, dir, "ec8.pem", pkcs8Block(t, ec)), ecChain},
		{"sec1 ecdsa", writePEM(t, dir, "ec1.pem", &pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}, &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), ecChain},
		{"pkcs1 rsa", writePEM(t, dir, "rsa1.pem", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), rsaChain},
		{"pkcs8 rsa", writePEM(t, dir, "rsa8.pem", pkcs8Block(t, rsaKey)), rsaChain},
	}
	bundle := writePEM(t, dir, "bundle.pem", pkcs8Block(t, ec), certBlock(ecCert), certBlock(pki.cert))
	tests = append(tests, struct{ name, key, chain string }{"one file", bundle, bundle})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := keys.LoadPEM(tt.key, tt.chain)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, want := len(s.Chain), 2; got != want {
				t.Fatalf("chain length = %d, want %d", got, want)
			}
			if !s.Chain[1].Equal(pki.cert) {
				t.Fatal("second certificate is not the CA")
			}
			if s.Dev {
				t.Fatal("Dev = true for a test CA certificate")
			}
			if got, want := s.Source, "file:"+tt.key; got != want {
				t.Fatalf("Source = %q, want %q", got, want)
			}
			checkSigns(t, s)
		})
	}

	t.Run("mismatched key", func(t *testing.T) {
		other := writePEM(t, dir, "other.pem", pkcs8Block(t, newECKey(t)))
		_, err := keys.LoadPEM(other, ecChain)
		if !errors.Is(err, keys.ErrKeyMismatch) {
			t.Fatalf("err = %v, want ErrKeyMismatch", err)
		}
	})
	t.Run("chain not leaf first", func(t *testing.T) {
		reversed := writePEM(t, dir, "reversed.pem", certBlock(pki.cert), certBlock(ecCert))
		_, err := keys.LoadPEM(tests[0].key, reversed)
		if !errors.Is(err, keys.ErrKeyMismatch) {
			t.Fatalf("err = %v, want ErrKeyMismatch", err)
		}
	})
	t.Run("no key", func(t *testing.T) {
		_, err := keys.LoadPEM(ecChain, ecChain)
		if !errors.Is(err, keys.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("two keys", func(t *testing.T) {
		two := writePEM(t, dir, "two.pem", pkcs8Block(t, ec), pkcs8Block(t, rsaKey))
		if _, err := keys.LoadPEM(two, ecChain); err == nil || !strings.Contains(err.Error(), "more than one") {
			t.Fatalf("err = %v, want more than one key", err)
		}
	})
	t.Run("encrypted key", func(t *testing.T) {
		enc := writePEM(t, dir, "enc.pem", &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0}})
		if _, err := keys.LoadPEM(enc, ecChain); err == nil || !strings.Contains(err.Error(), "PKCS#12") {
			t.Fatalf("err = %v, want a hint to use PKCS#12", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := keys.LoadPEM(filepath.Join(dir, "nope.pem"), ecChain)
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want ErrNotExist", err)
		}
	})
}

func TestLoadPKCS12(t *testing.T) {
	pki := newPKI(t)
	dir := t.TempDir()
	password := []byte("s3greto di prova")

	ec := newECKey(t)
	ecCert := pki.issue(t, ec.Public(), "ec seal")
	data, err := pkcs12.Modern.Encode(ec, ecCert, []*x509.Certificate{pki.cert}, string(password))
	if err != nil {
		t.Fatal(err)
	}
	modern := filepath.Join(dir, "modern.p12")
	if err := os.WriteFile(modern, data, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("go-pkcs12 modern", func(t *testing.T) {
		s, err := keys.LoadPKCS12(modern, password)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Chain[0].Equal(ecCert) || len(s.Chain) != 2 || !s.Chain[1].Equal(pki.cert) {
			t.Fatalf("chain = %v, want seal then CA", s.Chain)
		}
		checkSigns(t, s)
	})
	t.Run("wrong password", func(t *testing.T) {
		_, err := keys.LoadPKCS12(modern, []byte("wrong"))
		if !errors.Is(err, keys.ErrBadSecret) {
			t.Fatalf("err = %v, want ErrBadSecret", err)
		}
		if strings.Contains(err.Error(), "wrong\"") || strings.Contains(err.Error(), string(password)) {
			t.Fatalf("error leaks a password: %v", err)
		}
	})
	t.Run("not pkcs12", func(t *testing.T) {
		junk := writePEM(t, dir, "junk.p12", certBlock(ecCert))
		if _, err := keys.LoadPKCS12(junk, password); err == nil {
			t.Fatal("loaded a PEM file as PKCS#12")
		}
	})

	// Files made by OpenSSL, as users have them: OpenSSL 3 defaults (PBES2,
	// AES-256, SHA-256 MAC) and the older 3DES/SHA-1 format.
	openssl := needTool(t, "openssl")
	rsaKey := newRSAKey(t)
	rsaCert := pki.issue(t, rsaKey.Public(), "rsa seal")
	keyPEM := writePEM(t, dir, "rsa.key", pkcs8Block(t, rsaKey))
	leafPEM := writePEM(t, dir, "rsa.crt", certBlock(rsaCert))
	caPEM := writePEM(t, dir, "ca.crt", certBlock(pki.cert))
	for _, tt := range []struct {
		name  string
		extra []string
	}{
		{"openssl default", nil},
		{"openssl 3des", []string{"-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".p12")
			args := append([]string{"pkcs12", "-export", "-inkey", keyPEM, "-in", leafPEM, "-certfile", caPEM,
				"-name", "faldone seal", "-out", out, "-passout", "env:P12_PASSWORD"}, tt.extra...)
			cmd := exec.Command(openssl, args...)
			cmd.Env = append(os.Environ(), "P12_PASSWORD="+string(password))
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("openssl pkcs12 -export: %v\n%s", err, b)
			}
			s, err := keys.LoadPKCS12(out, password)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Chain[0].Equal(rsaCert) || len(s.Chain) != 2 {
				t.Fatalf("chain has %d certificates, want seal then CA", len(s.Chain))
			}
			checkSigns(t, s)
			if _, err := keys.LoadPKCS12(out, []byte("wrong")); !errors.Is(err, keys.ErrBadSecret) {
				t.Fatalf("wrong password: err = %v, want ErrBadSecret", err)
			}
		})
	}
}

package keys_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"faldone/internal/keys"
)

func TestDevSeal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	s, created, err := keys.DevSeal(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false on first call")
	}
	if !s.Dev || !keys.IsDev(s.Chain[0]) {
		t.Fatal("development seal not recognised by IsDev")
	}
	checkSigns(t, s)

	leaf := s.Chain[0]
	if got, want := leaf.Subject.Organization, []string{keys.DevOrganization}; !slices.Equal(got, want) {
		t.Fatalf("O = %q, want %q", got, want)
	}
	if !strings.Contains(leaf.Subject.Organization[0], "NOT VALID FOR PRODUCTION") {
		t.Fatalf("O = %q does not warn", leaf.Subject.Organization[0])
	}
	if got, want := leaf.Subject.CommonName, "faldone development seal"; got != want {
		t.Fatalf("CN = %q, want %q", got, want)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if want := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment; leaf.KeyUsage != want {
		t.Fatalf("KeyUsage = %v, want %v", leaf.KeyUsage, want)
	}
	if leaf.IsCA {
		t.Fatal("seal certificate is a CA")
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) ||
		!slices.ContainsFunc(leaf.UnknownExtKeyUsage, func(o asn1.ObjectIdentifier) bool { return o.String() == "1.3.6.1.5.5.7.3.36" }) {
		t.Fatalf("ExtKeyUsage = %v %v, want emailProtection and documentSigning", leaf.ExtKeyUsage, leaf.UnknownExtKeyUsage)
	}
	if !leaf.NotBefore.Before(now) || !leaf.NotAfter.After(now.AddDate(1, 0, 0)) {
		t.Fatalf("validity %s..%s does not cover a year from %s", leaf.NotBefore, leaf.NotAfter, now)
	}

	ca, err := keys.DevCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Chain) != 2 || !s.Chain[1].Equal(ca) {
		t.Fatal("chain does not end with the development CA")
	}
	if err := ca.CheckSignatureFrom(ca); err != nil || !ca.IsCA {
		t.Fatalf("CA is not a self-signed CA: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Fatalf("seal does not verify against the CA: %v", err)
	}

	for name, want := range map[string]os.FileMode{keys.DevSealFile: 0o600, keys.DevCAFile: 0o644, keys.DevCRLFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Fatalf("%s mode = %v, want %v", name, got, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Fatalf("dir holds %d entries, want 3 (no temporary files left)", len(entries))
	}
	// The CA's CRL is signed by it, revokes nothing and lasts as long as
	// the seal: the CA key is not kept, so nothing can ever be revoked.
	crlDER, err := keys.DevCRL(dir)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	if ca, err := keys.DevCA(dir); err != nil || crl.CheckSignatureFrom(ca) != nil || len(crl.RevokedCertificateEntries) != 0 || crl.NextUpdate.Before(s.Chain[0].NotAfter.Add(-2*time.Hour)) {
		t.Fatalf("crl: %v, %+v", err, crl)
	}

	// Second call, a year later: the same seal is loaded.
	now = now.AddDate(1, 0, 0)
	s2, created, err := keys.DevSeal(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Fatal("created = true on second call")
	}
	if got, want := s2.Fingerprint(), s.Fingerprint(); got != want {
		t.Fatalf("fingerprint = %s, want %s", got, want)
	}
	if len(s.Fingerprint()) != 64 || strings.ToLower(s.Fingerprint()) != s.Fingerprint() {
		t.Fatalf("fingerprint %q is not lowercase hex SHA-256", s.Fingerprint())
	}
	checkSigns(t, s2)

	// Expired: an error that says what to do.
	now = leaf.NotAfter.Add(time.Hour)
	if _, _, err := keys.DevSeal(dir, clock); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("err = %v, want expired", err)
	}
}

func TestOpenRefusesDev(t *testing.T) {
	dir := t.TempDir()
	s, _, err := keys.DevSeal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	sealFile := filepath.Join(dir, keys.DevSealFile)
	password := "p12 password"
	data, err := pkcs12.Modern.Encode(s.Signer, s.Chain[0], s.Chain[1:], password)
	if err != nil {
		t.Fatal(err)
	}
	p12 := filepath.Join(t.TempDir(), "dev.p12")
	if err := os.WriteFile(p12, data, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, spec := range []string{"dev", "dev:" + dir, "pem:" + sealFile, "pkcs12:" + p12} {
		t.Run(spec, func(t *testing.T) {
			opts := keys.Options{Secret: []byte(password), DevDir: dir}
			_, err := keys.Open(spec, opts)
			if !errors.Is(err, keys.ErrDevRefused) {
				t.Fatalf("production: err = %v, want ErrDevRefused", err)
			}
			opts.AllowDev = true
			got, err := keys.Open(spec, opts)
			if err != nil {
				t.Fatalf("development: %v", err)
			}
			defer got.Close()
			if !got.Dev || got.Fingerprint() != s.Fingerprint() {
				t.Fatalf("Dev = %v, fingerprint %s, want the development seal", got.Dev, got.Fingerprint())
			}
		})
	}
}

func TestIsDev(t *testing.T) {
	pki := newPKI(t)
	if keys.IsDev(pki.cert) || keys.IsDev(pki.issue(t, newECKey(t).Public(), "faldone seal")) {
		t.Fatal("IsDev true for a non-development certificate")
	}
	if keys.IsDev(nil) {
		t.Fatal("IsDev(nil) = true")
	}
}

//go:build cgo

package keys_test

import (
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ThalesIgnite/crypto11"

	"faldone/internal/keys"
	"faldone/internal/testenv"
)

// tokenKey describes a key pair generated on the test token.
type tokenKey struct {
	label string
	id    []byte
	cert  *x509.Certificate // issued by the test CA
}

// provisionToken generates an ECDSA P-256 and an RSA-2048 key pair on the
// token, each with its certificate (issued by pki) stored next to it, and an
// ECDSA key pair whose certificate is not stored. It closes its context before
// returning, so the module is finalised.
func provisionToken(tb testing.TB, module, token, pin string, pki *testPKI) (ec, rsa, bare tokenKey) {
	tb.Helper()
	ctx, err := crypto11.Configure(&crypto11.Config{Path: module, TokenLabel: token, Pin: pin})
	if err != nil {
		tb.Fatalf("configure: %v", err)
	}
	defer func() {
		if err := ctx.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	}()
	ec = tokenKey{label: "seal-ec", id: []byte{0x01}}
	ecSigner, err := ctx.GenerateECDSAKeyPairWithLabel(ec.id, []byte(ec.label), elliptic.P256())
	if err != nil {
		tb.Fatalf("generate ecdsa: %v", err)
	}
	ec.cert = pki.issue(tb, ecSigner.Public(), "token ec seal")

	rsa = tokenKey{label: "seal-rsa", id: []byte{0x02}}
	rsaSigner, err := ctx.GenerateRSAKeyPairWithLabel(rsa.id, []byte(rsa.label), 2048)
	if err != nil {
		tb.Fatalf("generate rsa: %v", err)
	}
	rsa.cert = pki.issue(tb, rsaSigner.Public(), "token rsa seal")

	for _, k := range []tokenKey{ec, rsa} {
		if err := ctx.ImportCertificateWithLabel(k.id, []byte(k.label), k.cert); err != nil {
			tb.Fatalf("import certificate %s: %v", k.label, err)
		}
	}

	bare = tokenKey{label: "no-cert", id: []byte{0x03}}
	bareSigner, err := ctx.GenerateECDSAKeyPairWithLabel(bare.id, []byte(bare.label), elliptic.P256())
	if err != nil {
		tb.Fatalf("generate ecdsa: %v", err)
	}
	bare.cert = pki.issue(tb, bareSigner.Public(), "token seal, certificate in a file")
	return ec, rsa, bare
}

// TestPKCS11 uses a real SoftHSM2 token; it cannot run in parallel (see
// testenv.SoftHSM) and every subtest closes its seal.
func TestPKCS11(t *testing.T) {
	module, token, pin := testenv.SoftHSM(t)
	pki := newPKI(t)
	ec, rsa, bare := provisionToken(t, module, token, pin, pki)
	caFile := writePEM(t, t.TempDir(), "ca.pem", certBlock(pki.cert))
	base := fmt.Sprintf("pkcs11:module=%s;token=%s", module, token)

	for _, tt := range []struct {
		name      string
		spec      string
		want      tokenKey
		chainSize int
	}{
		{"ecdsa by label", base + ";label=" + ec.label, ec, 1},
		{"rsa by label", base + ";label=" + rsa.label, rsa, 1},
		{"ecdsa by id", base + ";id=01", ec, 1},
		{"rsa by id and label", base + ";id=02;label=" + rsa.label, rsa, 1},
		{"issuers from file", base + ";label=" + ec.label + ";chain=" + caFile, ec, 2},
		{"certificate from file only", base + ";label=" + bare.label + ";chain=" + writePEM(t, t.TempDir(), "c.pem", certBlock(bare.cert), certBlock(pki.cert)), bare, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := keys.Open(tt.spec, keys.Options{Secret: []byte(pin)})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			if !s.Chain[0].Equal(tt.want.cert) {
				t.Fatalf("leaf = %s, want %s", s.Chain[0].Subject, tt.want.cert.Subject)
			}
			if got := len(s.Chain); got != tt.chainSize {
				t.Fatalf("chain length = %d, want %d", got, tt.chainSize)
			}
			if strings.Contains(s.Source, pin) || !strings.HasPrefix(s.Source, "pkcs11:") {
				t.Fatalf("Source = %q", s.Source)
			}
			checkSigns(t, s)
		})
	}

	t.Run("concurrent signing", func(t *testing.T) {
		s, err := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyLabel: ec.label})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 5 {
					checkSigns(t, s)
				}
			})
		}
		wg.Wait()
	})

	// The error cases run with no other context open: crypto11 finalises
	// the module when opening fails.
	for _, tt := range []struct {
		name    string
		cfg     keys.PKCS11Config
		wantErr error
		wantMsg string
	}{
		{"wrong pin", keys.PKCS11Config{Module: module, TokenLabel: token, PIN: "9999", KeyLabel: ec.label}, keys.ErrBadSecret, "CKR_PIN_INCORRECT"},
		{"unknown key label", keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyLabel: "nope"}, keys.ErrNotFound, "key pair"},
		{"unknown key id", keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyID: []byte{0x7f}}, keys.ErrNotFound, "key pair"},
		{"unknown token", keys.PKCS11Config{Module: module, TokenLabel: "nope", PIN: pin, KeyLabel: ec.label}, keys.ErrNotFound, "token"},
		{"no certificate", keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyLabel: bare.label}, keys.ErrNotFound, "certificate"},
		{"chain file for another key", keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyLabel: bare.label, ChainFile: caFile}, keys.ErrNotFound, "certificate"},
		{"missing module", keys.PKCS11Config{Module: "/nonexistent/libp11.so", TokenLabel: token, PIN: pin, KeyLabel: ec.label}, nil, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := keys.OpenPKCS11(tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantMsg)
			}
			if tt.cfg.PIN != "" && strings.Contains(err.Error(), "PIN: "+tt.cfg.PIN) {
				t.Fatalf("error leaks the PIN: %v", err)
			}
			t.Log(err)
		})
	}

	// After failures the module must still open.
	s, err := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyLabel: rsa.label})
	if err != nil {
		t.Fatalf("open after failures: %v", err)
	}
	checkSigns(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

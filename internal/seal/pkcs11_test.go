//go:build cgo

package seal_test

import (
	"bytes"
	"crypto/elliptic"
	"testing"
	"time"

	"github.com/ThalesIgnite/crypto11"

	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// tokenSeal creates a fresh SoftHSM2 token, generates an ECDSA P-256 key
// pair on it, stores next to it a certificate issued by a new test CA, and
// opens the key as a seal whose chain ends with the CA. It returns the seal
// (closed when the test ends) and the CA.
//
// testenv.SoftHSM sets SOFTHSM2_CONF for the test, so callers must not run
// in parallel.
func tokenSeal(tb testing.TB) (*keys.Seal, *testCA) {
	tb.Helper()
	module, token, pin := testenv.SoftHSM(tb)
	ca := newTestCA(tb)
	label, id := "seal-ec", []byte{0x01}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: module, TokenLabel: token, Pin: pin})
	if err != nil {
		tb.Fatalf("configure: %v", err)
	}
	signer, err := ctx.GenerateECDSAKeyPairWithLabel(id, []byte(label), elliptic.P256())
	if err != nil {
		_ = ctx.Close()
		tb.Fatalf("generate ecdsa: %v", err)
	}
	cert := ca.issue(tb, signer.Public(), "token seal")
	if err := ctx.ImportCertificateWithLabel(id, []byte(label), cert); err != nil {
		_ = ctx.Close()
		tb.Fatalf("import certificate: %v", err)
	}
	// Finalise the module before OpenPKCS11 initialises it again.
	if err := ctx.Close(); err != nil {
		tb.Fatalf("close: %v", err)
	}
	key, err := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyLabel: label, ChainFile: ca.file})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := key.Close(); err != nil {
			tb.Errorf("close seal: %v", err)
		}
	})
	if len(key.Chain) != 2 || !key.Chain[0].Equal(cert) || !key.Chain[1].Equal(ca.cert) {
		tb.Fatalf("token seal chain: %v", key.Chain)
	}
	return key, ca
}

// TestSealPKCS11 seals a sample at B-T with a key generated on a SoftHSM2
// token and checks it as TestSealSamples does. It cannot run in parallel
// (see testenv.SoftHSM).
func TestSealPKCS11(t *testing.T) {
	for _, tool := range []string{"pdfsig", "certutil", "openssl", "qpdf"} {
		testenv.Tool(t, tool)
	}
	key, ca := tokenSeal(t)
	url, tsaChain := testenv.StartTSA(t)
	s := &seal.Sealer{Key: key, TSA: &pades.TSA{URL: url, Timeout: 10 * time.Second, Retries: 1}, Logger: discard}
	rendered := render(t, newRenderer(t), "banari", faldone.KindPiano)
	in := bytes.Clone(rendered.PDF)
	out, facts, err := sealLocked(s, rendered)
	if err != nil {
		t.Fatal(err)
	}
	checkSealed(t, newTrust(t, ca.file, tsaChain), key, in, out, facts, pades.LevelBT, false)
	// A token answers in its own time: a seal with it is not local, even
	// without a time-stamp authority; one with a key in memory is.
	if (&seal.Sealer{Key: key}).Local() {
		t.Error("a seal with a PKCS#11 key says it is local")
	}
	if dev, _ := devSeal(t); !(&seal.Sealer{Key: dev}).Local() || (&seal.Sealer{Key: dev, TSA: s.TSA}).Local() {
		t.Error("Local is wrong for a key in memory")
	}
}

// BenchmarkSealSoftHSM seals the two-page adesione letter of Loiano at B-B
// with an ECDSA P-256 key on a SoftHSM2 token.
func BenchmarkSealSoftHSM(b *testing.B) {
	key, _ := tokenSeal(b)
	benchmarkSeal(b, key)
}

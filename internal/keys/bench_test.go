//go:build cgo

package keys_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"faldone/internal/keys"
	"faldone/internal/testenv"
)

// BenchmarkSign compares signing a SHA-256 digest with an ECDSA P-256 key
// loaded from a file and with one on a SoftHSM2 token.
func BenchmarkSign(b *testing.B) {
	pki := newPKI(b)
	dir := b.TempDir()
	key := newECKey(b)
	fileSeal, err := keys.LoadPEM(
		writePEM(b, dir, "key.pem", pkcs8Block(b, key)),
		writePEM(b, dir, "chain.pem", certBlock(pki.issue(b, key.Public(), "file seal"))))
	if err != nil {
		b.Fatal(err)
	}

	module, token, pin := testenv.SoftHSM(b)
	ec, _, _ := provisionToken(b, module, token, pin, pki)
	hsmSeal, err := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: token, PIN: pin, KeyLabel: ec.label})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { hsmSeal.Close() })

	digest := sha256.Sum256([]byte("Avviso di selezione, FAST Piccoli Comuni"))
	for _, bb := range []struct {
		name string
		seal *keys.Seal
	}{{"file-ecdsa-p256", fileSeal}, {"softhsm2-ecdsa-p256", hsmSeal}} {
		b.Run(bb.name, func(b *testing.B) {
			checkSigns(b, bb.seal)
			for b.Loop() {
				if _, err := bb.seal.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

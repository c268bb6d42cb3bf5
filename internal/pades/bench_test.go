package pades

import (
	"context"
	"testing"
)

// BenchmarkSign measures a B-B seal with an in-memory ECDSA P-256 key on
// the two-page letter, self-check included.
func BenchmarkSign(b *testing.B) {
	pki := newPKI(b, "ecdsa", "bench")
	letter := testLetter(b)
	o := Options{Signer: pki.key, Chain: pki.chain(), Certify: true, Name: "Formez PA"}
	b.SetBytes(int64(len(letter)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Sign(context.Background(), letter, o); err != nil {
			b.Fatal(err)
		}
	}
}

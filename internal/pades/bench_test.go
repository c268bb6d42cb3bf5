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

// BenchmarkAnalyse measures the difference analysis of the sealed letter
// (nothing after the seal) and of the letter countersigned with a PAdES
// signature (the seal's revision compared with the file).
func BenchmarkAnalyse(b *testing.B) {
	pki := newPKI(b, "ecdsa", "bench")
	sealed, _, err := Sign(context.Background(), testLetter(b), Options{Signer: pki.key, Chain: pki.chain(), Certify: true})
	if err != nil {
		b.Fatal(err)
	}
	counter, _, err := Sign(context.Background(), sealed, Options{Signer: pki.key, Chain: pki.chain(), FieldName: "Comune"})
	if err != nil {
		b.Fatal(err)
	}
	for name, pdf := range map[string][]byte{"sealed": sealed, "countersigned": counter} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if a, err := Analyse(pdf); err != nil || !a.OK() {
					b.Fatal(err)
				}
			}
		})
	}
}

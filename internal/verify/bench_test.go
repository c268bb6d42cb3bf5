package verify_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// BenchmarkVerify verifies the sealed two-page adesione letter at PAdES
// B-T (a real RFC 3161 time-stamp): the signature and its time-stamp,
// both chains, the archive look-up in SQLite and the inclusion proof
// against a freshly signed checkpoint.
func BenchmarkVerify(b *testing.B) {
	url, chain := testenv.StartTSA(b)
	e := newEnv(b)
	e.svc.Sealer = &seal.Sealer{Key: e.seal, TSA: &pades.TSA{URL: url, Timeout: 5 * time.Second}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range chain[1:] { // the token carries the TSA's own certificate only
		e.verifier.Anchors.Add(c, "bundle:tsa.pem")
	}
	_, pdf := e.create(b, "loiano", "adesione")
	ctx := context.Background()
	r, err := e.verifier.Verify(ctx, pdf, "it")
	if err != nil || !r.Valid || r.Signatures[0].Level != pades.LevelBT || !r.Signatures[0].Timestamp.Trusted {
		b.Fatalf("not a valid B-T letter: %v %+v", err, r)
	}
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.verifier.Verify(ctx, pdf, "it"); err != nil {
			b.Fatal(err)
		}
	}
}

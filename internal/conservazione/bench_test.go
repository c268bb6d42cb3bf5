package conservazione_test

import (
	"bytes"
	"context"
	"testing"

	"faldone/internal/conservazione"
)

// BenchmarkPackage writes and verifies the package of a whole dossier (5
// documents, 6 versions, sealed).
func BenchmarkPackage(b *testing.B) {
	src, l := dossierB(b)
	var buf bytes.Buffer
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if _, err := conservazione.Write(context.Background(), &buf, src, "037034", "Loiano"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "bytes/package")
	})
	pkg := append([]byte(nil), buf.Bytes()...)
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			rep, err := conservazione.Verify(bytes.NewReader(pkg), int64(len(pkg)), l.PublicKey())
			if err != nil || !rep.OK() {
				b.Fatal(err, rep)
			}
		}
	})
}

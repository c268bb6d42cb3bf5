package seal_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// cpuTime is the CPU time (user and system) this process has used: its
// own work, not the waits for the TSA and the OCSP responder, which are
// other processes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSealLTV seals the two-page adesione letter of Loiano with the
// test PKI's seal at B-T and at B-LTA (validation data from the local
// openssl OCSP responder and CRL server, document time-stamp from the
// local timestamp-server) and reports faldone's own CPU per seal
// (cpu-ms/op, network waits excluded) and the size of the sealed file
// (bytes/seal). Compare the two in one run:
//
//	go test -run XXX -bench SealLTV -benchtime 20x ./internal/seal
func BenchmarkSealLTV(b *testing.B) {
	pki := testenv.NewPKI(b)
	tsa := &pades.TSA{URL: pki.StartPKITSA(b).URL, Timeout: 10 * time.Second}
	key, err := keys.LoadPEM(pki.SealKeyFile, pki.ChainFile)
	if err != nil {
		b.Fatal(err)
	}
	rendered := render(b, newRenderer(b), "loiano", faldone.KindAdesione)
	for _, level := range []string{pades.LevelBT, pades.LevelBLTA} {
		b.Run(level, func(b *testing.B) {
			s := &seal.Sealer{Key: key, TSA: tsa, Logger: discard}
			if level == pades.LevelBLTA {
				s.LTV = &pades.LTV{Revocation: &pades.Revocation{Timeout: 10 * time.Second}, TSA: tsa}
			}
			ctx := context.Background()
			size := 0
			start := cpuTime()
			for b.Loop() {
				out, facts, err := s.Seal(ctx, rendered.PDF, &rendered.Document)
				if err != nil {
					b.Fatal(err)
				}
				if facts.Level != level {
					b.Fatalf("level %s, want %s", facts.Level, level)
				}
				size = len(out)
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(size), "bytes/seal")
		})
	}
}

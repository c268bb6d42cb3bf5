package seal_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// TestClockGuard drives the sealer's clock backwards and forwards: outside
// the seal certificate's validity, or further than the tolerance from the
// time-stamp authority's time, it refuses with EUNAVAILABLE, logs why and
// seals nothing; within them it seals.
func TestClockGuard(t *testing.T) {
	key, _ := devSeal(t)
	url, _ := testenv.StartTSA(t)
	rendered := render(t, newRenderer(t), "loiano", faldone.KindAdesione)
	leaf := key.Leaf()
	tsa := &pades.TSA{URL: url, Timeout: 10 * time.Second, Retries: 1}
	for _, tc := range []struct {
		name   string
		now    func() time.Time
		tsa    bool
		refuse string // message id, "" to seal
	}{
		{"before the certificate", func() time.Time { return leaf.NotBefore.Add(-time.Hour) }, false, "error.clock_outside_certificate"},
		{"after the certificate", func() time.Time { return leaf.NotAfter.Add(time.Hour) }, false, "error.clock_outside_certificate"},
		{"ten minutes behind the TSA", func() time.Time { return time.Now().Add(-10 * time.Minute) }, true, "error.clock_skew_tsa"},
		{"ten minutes ahead of the TSA", func() time.Time { return time.Now().Add(10 * time.Minute) }, true, "error.clock_skew_tsa"},
		{"thirty seconds behind the TSA", func() time.Time { return time.Now().Add(-30 * time.Second) }, true, ""},
		{"on time, no TSA", time.Now, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			s := &seal.Sealer{Key: key, Now: tc.now, Logger: slog.New(slog.NewTextHandler(&log, nil))}
			if tc.tsa {
				s.TSA = tsa
			}
			out, facts, err := s.Seal(context.Background(), bytes.Clone(rendered.PDF), &rendered.Document)
			if tc.refuse == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(out) == 0 || facts == nil {
					t.Fatal("nothing sealed")
				}
				return
			}
			var fe *faldone.Error
			if faldone.ErrorCode(err) != faldone.EUNAVAILABLE || !errors.As(err, &fe) || fe.MessageID != tc.refuse {
				t.Fatalf("error %v, want %s %s", err, faldone.EUNAVAILABLE, tc.refuse)
			}
			if out != nil || facts != nil {
				t.Fatal("sealed anyway")
			}
			if !strings.Contains(log.String(), "seal refused") {
				t.Errorf("refusal not logged: %s", log.String())
			}
		})
	}
}

package seal_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// TestSealSamples renders every sample, seals it at B-T with a development
// seal and the local time-stamp authority, and checks the result with
// pdfsig, pdfcpu, openssl, mupdf, pdfsign, qpdf and pades.Inspect, then
// checks that a flipped byte anywhere in the signed range makes every
// validator fail.
func TestSealSamples(t *testing.T) {
	for _, tool := range []string{"pdfsig", "certutil", "openssl", "qpdf", "mutool"} {
		testenv.Tool(t, tool)
	}
	r := newRenderer(t)
	key, caFile := devSeal(t)
	url, tsaChain := testenv.StartTSA(t)
	tr := newTrust(t, caFile, tsaChain)
	s := &seal.Sealer{Key: key, TSA: &pades.TSA{URL: url, Timeout: 10 * time.Second, Retries: 1}, Logger: discard}

	for _, comune := range sampleComuni {
		for _, kind := range kinds {
			t.Run(comune+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				rendered := render(t, r, comune, kind)
				in := bytes.Clone(rendered.PDF)
				out, facts, err := sealLocked(s, rendered)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(rendered.PDF, in) {
					t.Fatal("Seal modified its input")
				}
				checkSealed(t, tr, key, in, out, facts, pades.LevelBT, false)
			})
		}
	}
}

// closedTSA returns the URL of a time-stamp authority on a 127.0.0.1 port
// that nothing listens on.
func closedTSA(t *testing.T) *pades.TSA {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return &pades.TSA{URL: "http://" + addr + testenv.TSAPath, Timeout: 2 * time.Second, Retries: 1}
}

// TestTSADown checks that with the TSA down the sealer refuses, with
// EUNAVAILABLE, and returns nothing.
func TestTSADown(t *testing.T) {
	key, _ := devSeal(t)
	rendered := render(t, newRenderer(t), "loiano", faldone.KindAdesione)
	var log bytes.Buffer
	s := &seal.Sealer{Key: key, TSA: closedTSA(t), Logger: slog.New(slog.NewTextHandler(&log, nil))}
	out, facts, err := s.Seal(context.Background(), rendered.PDF, &rendered.Document)
	if code := faldone.ErrorCode(err); code != faldone.EUNAVAILABLE {
		t.Fatalf("error code %q (%v), want %q", code, err, faldone.EUNAVAILABLE)
	}
	if !errors.Is(err, pades.ErrTSAUnavailable) {
		t.Errorf("error %v does not wrap pades.ErrTSAUnavailable", err)
	}
	if out != nil || facts != nil {
		t.Fatalf("sealed anyway: %d bytes, facts %+v", len(out), facts)
	}
	if !strings.Contains(log.String(), "seal refused") {
		t.Errorf("the refusal was not logged: %q", log.String())
	}
}

// TestTSADownFallback checks that with Fallback set a TSA that is down
// yields a valid B-B seal that records the fallback.
func TestTSADownFallback(t *testing.T) {
	for _, tool := range []string{"pdfsig", "certutil", "openssl", "qpdf", "mutool"} {
		testenv.Tool(t, tool)
	}
	key, caFile := devSeal(t)
	rendered := render(t, newRenderer(t), "loiano", faldone.KindAdesione)
	in := bytes.Clone(rendered.PDF)
	var log bytes.Buffer
	s := &seal.Sealer{Key: key, TSA: closedTSA(t), Fallback: true, Logger: slog.New(slog.NewTextHandler(&log, nil))}
	out, facts, err := s.Seal(context.Background(), rendered.PDF, &rendered.Document)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "sealing at B-B") {
		t.Errorf("the fallback was not logged: %q", log.String())
	}
	checkSealed(t, newTrust(t, caFile, nil), key, in, out, facts, pades.LevelBB, true)
}

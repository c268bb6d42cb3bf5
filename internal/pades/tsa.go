package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// ErrTSAUnavailable is wrapped by errors from TSA.Stamp when the
// time-stamp authority cannot be reached or answers with a server error
// (after all retries). Other failures (a malformed or mismatching
// response) are not wrapped with it.
var ErrTSAUnavailable = errors.New("time-stamp authority unavailable")

// TSA is an RFC 3161 time-stamp authority client.
type TSA struct {
	// URL is the RFC 3161 endpoint (HTTP POST of application/timestamp-query).
	// Required.
	URL string
	// Timeout bounds each attempt. Optional: 0 means 10 seconds.
	Timeout time.Duration
	// Retries is the number of further attempts after a failed one. Optional.
	Retries int
	// Client is the HTTP client. Optional: nil means http.DefaultClient.
	Client *http.Client
}

const maxTSAResponse = 1 << 20

// Stamp asks the TSA to time-stamp a SHA-256 digest and returns the DER
// TimeStampToken (a CMS ContentInfo) and its generation time. The
// response must be granted, carry the TSA certificate, verify, and match
// the digest and nonce of the request.
func (t *TSA) Stamp(ctx context.Context, digest []byte) ([]byte, time.Time, error) {
	if len(digest) != crypto.SHA256.Size() {
		return nil, time.Time{}, fmt.Errorf("tsa stamp: digest must be SHA-256")
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("tsa stamp: %w", err)
	}
	req, err := (&timestamp.Request{
		HashAlgorithm: crypto.SHA256,
		HashedMessage: digest,
		Certificates:  true,
		Nonce:         nonce,
	}).Marshal()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("tsa stamp: %w", err)
	}
	p := peer{timeout: t.Timeout, retries: t.Retries, client: t.Client, limit: maxTSAResponse}
	body, err := p.fetch(ctx, ErrTSAUnavailable, http.MethodPost, t.URL, http.Header{
		"Content-Type": {"application/timestamp-query"},
		"Accept":       {"application/timestamp-reply"},
	}, req)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("tsa stamp: %w", err)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("tsa stamp: parse response: %w", err)
	}
	switch {
	case ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest):
		return nil, time.Time{}, fmt.Errorf("tsa stamp: response imprint does not match the request")
	case ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0:
		return nil, time.Time{}, fmt.Errorf("tsa stamp: response nonce does not match the request")
	case len(ts.Certificates) == 0:
		return nil, time.Time{}, fmt.Errorf("tsa stamp: response carries no TSA certificate")
	}
	return ts.RawToken, ts.Time, nil
}

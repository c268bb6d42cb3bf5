package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
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
	var lastErr error
	for attempt := 0; attempt <= max(t.Retries, 0); attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, time.Time{}, fmt.Errorf("tsa stamp: %w: %w", ErrTSAUnavailable, ctx.Err())
			case <-time.After(time.Duration(100<<min(attempt, 6)) * time.Millisecond):
			}
		}
		body, retry, err := t.post(ctx, req)
		if err != nil {
			if !retry {
				return nil, time.Time{}, fmt.Errorf("tsa stamp: %w", err)
			}
			lastErr = err
			continue
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
	return nil, time.Time{}, fmt.Errorf("tsa stamp: %w: %w", ErrTSAUnavailable, lastErr)
}

// post sends one request; retry reports whether a failure is transient.
func (t *TSA) post(ctx context.Context, body []byte) ([]byte, bool, error) {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	req.Header.Set("Accept", "application/timestamp-reply")
	client := t.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTSAResponse+1))
	switch {
	case err != nil:
		return nil, true, err
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, true, fmt.Errorf("http status %d", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, false, fmt.Errorf("http status %d", resp.StatusCode)
	case len(data) > maxTSAResponse:
		return nil, false, fmt.Errorf("response too large")
	}
	return data, false, nil
}

package pades

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// peer is how the signer reaches a time-stamp authority, an OCSP
// responder or a CRL distribution point: one request at a time, each
// within timeout (default 10s); transport errors, 5xx and 429 are tried
// again up to retries more times with backoff; a response larger than
// limit is refused.
type peer struct {
	timeout time.Duration
	retries int
	client  *http.Client // nil: http.DefaultClient
	limit   int
}

// fetch sends the request and returns the response body. A failure that
// another try cannot mend is returned as it is; when every try failed
// (or ctx ended between tries) the error wraps unavailable.
func (p peer) fetch(ctx context.Context, unavailable error, method, url string, header http.Header, body []byte) ([]byte, error) {
	var lastErr error
	for attempt := 0; attempt <= max(p.retries, 0); attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w: %w", unavailable, ctx.Err())
			case <-time.After(time.Duration(100<<min(attempt, 6)) * time.Millisecond):
			}
		}
		data, retry, err := p.once(ctx, method, url, header, body)
		if err == nil {
			return data, nil
		}
		if !retry {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w: %w", unavailable, lastErr)
}

// once sends one request; retry reports whether a failure is transient.
func (p peer) once(ctx context.Context, method, url string, header http.Header, body []byte) ([]byte, bool, error) {
	timeout := p.timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, false, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := p.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(p.limit)+1))
	switch {
	case err != nil:
		return nil, true, err
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, true, fmt.Errorf("http status %d", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, false, fmt.Errorf("http status %d", resp.StatusCode)
	case len(data) > p.limit:
		return nil, false, fmt.Errorf("response too large")
	}
	return data, false, nil
}

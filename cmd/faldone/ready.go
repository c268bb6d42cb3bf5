package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"faldone/internal/faldone"
)

// readiness returns the check of /readyz: the archive takes writes (its
// database answers; on SQLite its directory takes a file and keeps
// --min-free-space free) and, when one is configured, the time-stamp
// authority answers HTTP.
//
// The TSA's answer is kept for tsaCheckEvery, so that frequent probes do
// not load it.
func readiness(cfg *Config, archive faldone.Archive) func(ctx context.Context) error {
	client := &http.Client{Timeout: 3 * time.Second}
	var mu sync.Mutex
	var checked time.Time
	var last error
	return func(ctx context.Context) error {
		if r, ok := archive.(interface{ Ready(context.Context) error }); ok {
			if err := r.Ready(ctx); err != nil {
				return err
			}
		}
		if cfg.TSAURL == "" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if time.Since(checked) < tsaCheckEvery {
			return last
		}
		last, checked = checkTSA(ctx, client, cfg.TSAURL), time.Now()
		return last
	}
}

// tsaCheckEvery is how long /readyz keeps the TSA's answer.
const tsaCheckEvery = 10 * time.Second

// checkTSA reports whether the TSA answers HTTP (any answer under 500).
func checkTSA(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.tsa_unavailable",
			Message: "the time-stamp authority cannot be reached", Err: err}
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.tsa_unavailable",
			Message: fmt.Sprintf("the time-stamp authority answers %d", resp.StatusCode)}
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"faldone/internal/faldone"
)

// readiness returns the check of /readyz: the archive takes writes (its
// database answers; on SQLite the blob directory takes a file and keeps
// --min-free-space free) and, when one is configured, the time-stamp
// authority answers HTTP.
func readiness(cfg *Config, archive faldone.Archive) func(ctx context.Context) error {
	client := &http.Client{Timeout: 3 * time.Second}
	return func(ctx context.Context) error {
		if r, ok := archive.(interface{ Ready(context.Context) error }); ok {
			if err := r.Ready(ctx); err != nil {
				return err
			}
		}
		if cfg.TSAURL != "" {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.TSAURL, nil)
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
		}
		return nil
	}
}

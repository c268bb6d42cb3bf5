package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WebGet returns the value of a key of the web pages' state, nil when
// there is none or it expired.
func (a *Archive) WebGet(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := a.r.QueryRowContext(ctx, `SELECT value FROM web_state WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`,
		key, a.now().UnixMilli()).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("web state: %w", err))
	}
	return v, nil
}

// WebSet stores the value of a key until expires, and drops expired keys.
func (a *Archive) WebSet(ctx context.Context, key string, value []byte, expires time.Time) error {
	now := a.now().UnixMilli()
	if _, err := a.w.ExecContext(ctx, `DELETE FROM web_state WHERE expires_at <= ?`, now); err != nil {
		return classify(busyHint(fmt.Errorf("web state: %w", err)))
	}
	_, err := a.w.ExecContext(ctx, `INSERT INTO web_state (key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, key, value, expires.UnixMilli())
	if err != nil {
		return classify(busyHint(fmt.Errorf("web state: %w", err)))
	}
	return nil
}

// WebDelete removes a key of the web pages' state.
func (a *Archive) WebDelete(ctx context.Context, key string) error {
	if _, err := a.w.ExecContext(ctx, `DELETE FROM web_state WHERE key = ?`, key); err != nil {
		return classify(busyHint(fmt.Errorf("web state: %w", err)))
	}
	return nil
}

// WebAdd stores value under key, with no expiry, unless the key has one,
// and returns the value stored.
func (a *Archive) WebAdd(ctx context.Context, key string, value []byte) ([]byte, error) {
	if _, err := a.w.ExecContext(ctx, `INSERT INTO web_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return nil, classify(busyHint(fmt.Errorf("web state: %w", err)))
	}
	var v []byte
	if err := a.w.QueryRowContext(ctx, `SELECT value FROM web_state WHERE key = ?`, key).Scan(&v); err != nil {
		return nil, classify(fmt.Errorf("web state: %w", err))
	}
	return v, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebGet returns the value of a key of the web pages' state, nil when
// there is none or it expired.
func (a *Archive) WebGet(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := a.pool.QueryRow(ctx, `SELECT value FROM web_state WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)`, key, a.now()).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("web state: %w", err))
	}
	return v, nil
}

// WebSet stores the value of a key until expires, and drops expired keys.
func (a *Archive) WebSet(ctx context.Context, key string, value []byte, expires time.Time) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM web_state WHERE expires_at <= $1`, a.now())
	b.Queue(`INSERT INTO web_state (key, value, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, key, value, expires)
	if err := a.pool.SendBatch(ctx, b).Close(); err != nil {
		return classify(fmt.Errorf("web state: %w", err))
	}
	return nil
}

// WebDelete removes a key of the web pages' state.
func (a *Archive) WebDelete(ctx context.Context, key string) error {
	if _, err := a.pool.Exec(ctx, `DELETE FROM web_state WHERE key = $1`, key); err != nil {
		return classify(fmt.Errorf("web state: %w", err))
	}
	return nil
}

// WebAdd stores value under key, with no expiry, unless the key has one,
// and returns the value stored.
func (a *Archive) WebAdd(ctx context.Context, key string, value []byte) ([]byte, error) {
	if _, err := a.pool.Exec(ctx, `INSERT INTO web_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return nil, classify(fmt.Errorf("web state: %w", err))
	}
	var v []byte
	if err := a.pool.QueryRow(ctx, `SELECT value FROM web_state WHERE key = $1`, key).Scan(&v); err != nil {
		return nil, classify(fmt.Errorf("web state: %w", err))
	}
	return v, nil
}

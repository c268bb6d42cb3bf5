package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Idempotency keeps the answers to POSTs sent with an Idempotency-Key, per
// caller and route (the scope), in the queue's database, so that a retried
// request gets the first one's answer instead of a second document.
type Idempotency struct {
	Queue *Queue
	// Now is the clock. Optional: default time.Now.
	Now func() time.Time
}

// IdempotencyEntry is what is kept of one key.
type IdempotencyEntry struct {
	RequestSHA256 string // the request the key was first used with
	Status        int    // 0 while the first request is being answered
	Location      string // while in progress: what the request reserved (a document id)
	Body          []byte
	Created       time.Time
}

func (i *Idempotency) now() time.Time {
	if i.Now != nil {
		return i.Now().UTC()
	}
	return time.Now().UTC()
}

// Reserve returns the entry of key in scope. When there is none, or the
// one there is in progress for longer than stale (its request died), it
// reserves it for this request with ref and returns reserved true; the
// caller then answers and calls Complete, or Release when it fails.
func (i *Idempotency) Reserve(ctx context.Context, scope, key, requestSHA256, ref string, stale time.Duration) (*IdempotencyEntry, bool, error) {
	now := i.now()
	res, err := i.Queue.DB.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_sha256, status, location, body, created_at)
		VALUES ($1, $2, $3, 0, $4, '', $5) ON CONFLICT (scope, key) DO NOTHING`, scope, key, requestSHA256, ref, now.Format(time.RFC3339Nano))
	if err != nil {
		return nil, false, fmt.Errorf("idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return &IdempotencyEntry{RequestSHA256: requestSHA256, Location: ref, Created: now}, true, nil
	}
	var e IdempotencyEntry
	var body, created string
	err = i.Queue.DB.QueryRowContext(ctx, `SELECT request_sha256, status, location, body, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).
		Scan(&e.RequestSHA256, &e.Status, &e.Location, &body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return i.Reserve(ctx, scope, key, requestSHA256, ref, stale) // released meanwhile
	}
	if err != nil {
		return nil, false, fmt.Errorf("idempotency key: %w", err)
	}
	e.Body = []byte(body)
	e.Created, _ = time.Parse(time.RFC3339Nano, created)
	if e.Status != 0 || e.RequestSHA256 != requestSHA256 || now.Sub(e.Created) < stale {
		return &e, false, nil
	}
	// The request that reserved it died: take its place, with its ref, so
	// that what it may have done is found rather than done again.
	res, err = i.Queue.DB.ExecContext(ctx, `UPDATE idempotency_keys SET created_at = $1 WHERE scope = $2 AND key = $3 AND status = 0 AND created_at = $4`,
		now.Format(time.RFC3339Nano), scope, key, created)
	if err != nil {
		return nil, false, fmt.Errorf("idempotency key: %w", err)
	}
	n, _ := res.RowsAffected()
	e.Created = now
	return &e, n == 1, nil
}

// Complete stores the answer of a reserved key.
func (i *Idempotency) Complete(ctx context.Context, scope, key string, status int, location string, body []byte) error {
	_, err := i.Queue.DB.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, location = $2, body = $3 WHERE scope = $4 AND key = $5`,
		status, location, string(body), scope, key)
	if err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	return nil
}

// Release forgets a reserved key whose request failed, so that it may be
// sent again.
func (i *Idempotency) Release(ctx context.Context, scope, key string) error {
	_, err := i.Queue.DB.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0`, scope, key)
	if err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	return nil
}

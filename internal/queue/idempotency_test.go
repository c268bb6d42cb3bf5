package queue_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"faldone/internal/queue"
)

// TestIdempotencyReserve: a key is reserved once; a second request sees
// it in progress, then its answer; a reservation whose request died is
// taken over, with its reference, once it is stale; a released key is
// free again.
func TestIdempotencyReserve(t *testing.T) {
	ctx := context.Background()
	q, err := queue.OpenSQLite(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	id := &queue.Idempotency{Queue: q, Now: func() time.Time { return now }}
	const stale = time.Minute

	e, ok, err := id.Reserve(ctx, "staff POST /x", "k1", "sum1", "doc-a", stale)
	if err != nil || !ok || e.Location != "doc-a" {
		t.Fatalf("first: %+v %v %v", e, ok, err)
	}
	e, ok, err = id.Reserve(ctx, "staff POST /x", "k1", "sum1", "doc-b", stale)
	if err != nil || ok || e.Status != 0 {
		t.Fatalf("in progress: %+v %v %v", e, ok, err)
	}
	if e, ok, _ := id.Reserve(ctx, "auditor POST /x", "k1", "sum1", "doc-c", stale); !ok || e.Location != "doc-c" {
		t.Errorf("another scope shares the key: %+v", e)
	}
	now = now.Add(2 * stale) // the first request died
	e, ok, err = id.Reserve(ctx, "staff POST /x", "k1", "sum1", "doc-d", stale)
	if err != nil || !ok || e.Location != "doc-a" {
		t.Fatalf("takeover: %+v %v %v (want the first request's reference)", e, ok, err)
	}
	if err := id.Complete(ctx, "staff POST /x", "k1", 201, "/v1/documents/doc-a", []byte(`{"id":"doc-a"}`)); err != nil {
		t.Fatal(err)
	}
	e, ok, err = id.Reserve(ctx, "staff POST /x", "k1", "sum1", "doc-e", stale)
	if err != nil || ok || e.Status != 201 || string(e.Body) != `{"id":"doc-a"}` {
		t.Fatalf("answered: %+v %v %v", e, ok, err)
	}
	if e, ok, _ := id.Reserve(ctx, "staff POST /x", "k1", "other", "doc-f", stale); ok || e.RequestSHA256 != "sum1" {
		t.Errorf("another request with the key: %+v %v", e, ok)
	}
	id.Reserve(ctx, "staff POST /x", "k2", "sum2", "doc-g", stale)
	if err := id.Release(ctx, "staff POST /x", "k2"); err != nil {
		t.Fatal(err)
	}
	if e, ok, _ := id.Reserve(ctx, "staff POST /x", "k2", "sum3", "doc-h", stale); !ok || e.Location != "doc-h" {
		t.Errorf("released key: %+v %v", e, ok)
	}
}

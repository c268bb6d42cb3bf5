package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/sqlite"
)

// TestReadiness checks /readyz's dependencies: the archive and, when
// configured, the time-stamp authority.
func TestReadiness(t *testing.T) {
	dir := t.TempDir()
	a, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if err := readiness(&Config{}, a)(ctx); err != nil {
		t.Fatalf("no TSA: %v", err)
	}
	tsa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMethodNotAllowed) // a TSA takes POST: any answer is an answer
	}))
	defer tsa.Close()
	if err := readiness(&Config{TSAURL: tsa.URL}, a)(ctx); err != nil {
		t.Fatalf("TSA up: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String() + "/tsa"
	l.Close()
	if err := readiness(&Config{TSAURL: down}, a)(ctx); faldone.ErrorCode(err) != faldone.EUNAVAILABLE {
		t.Fatalf("TSA down: %v", err)
	}
	a.MinFree = 1 << 50
	if err := readiness(&Config{}, a)(ctx); faldone.ErrorCode(err) != faldone.ESTORAGE {
		t.Fatalf("under the free-space reserve: %v", err)
	}
}

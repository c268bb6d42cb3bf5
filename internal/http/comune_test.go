package http_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"faldone/internal/auth"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/sqlite"
)

// countingArchive counts the reads of records and PDFs.
type countingArchive struct {
	*sqlite.Archive
	reads atomic.Int64
}

func (a *countingArchive) Latest(ctx context.Context, id string) (*faldone.Record, error) {
	a.reads.Add(1)
	return a.Archive.Latest(ctx, id)
}

func (a *countingArchive) Version(ctx context.Context, id string, v int) (*faldone.Record, error) {
	a.reads.Add(1)
	return a.Archive.Version(ctx, id, v)
}

func (a *countingArchive) PDF(ctx context.Context, sum string) ([]byte, error) {
	a.reads.Add(1)
	return a.Archive.PDF(ctx, sum)
}

// TestComuneCheckFirst asks, with a comune's key, for another comune's
// document on every route that serves one: the answer is the 404 of a
// missing document, and no record or PDF was read to give it.
func TestComuneCheckFirst(t *testing.T) {
	var counted *countingArchive
	s := mustServerWith(t, nil, func(c *fhttp.Config) {
		counted = &countingArchive{Archive: c.Documents.Archive.(*sqlite.Archive)}
		c.Documents.Archive = counted
	})
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)
	banari := MustKey(t, s, auth.RoleComune, "090007")
	for _, path := range []string{"/v1/documents/" + doc.ID, "/v1/documents/" + doc.ID + "/pdf", "/v1/documents/" + doc.ID + "/pdf?version=1"} {
		counted.reads.Store(0)
		resp, b := do(t, s, "GET", path, "", nil, "Authorization", "Bearer "+banari)
		if resp.StatusCode != 404 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		if n := counted.reads.Load(); n != 0 {
			t.Errorf("%s: %d records or PDFs read before refusing another comune's document", path, n)
		}
		missing, mb := do(t, s, "GET", "/v1/documents/"+noSuchID, "", nil, "Authorization", "Bearer "+banari)
		if missing.StatusCode != 404 || problem(t, missing, mb).Title != problem(t, resp, b).Title {
			t.Errorf("a missing document is answered otherwise: %d %s", missing.StatusCode, mb)
		}
	}
	counted.reads.Store(0)
	if resp, b := do(t, s, "POST", "/v1/documents/"+doc.ID+"/signed", "application/pdf", []byte("%PDF-1.7"), "Authorization", "Bearer "+banari); resp.StatusCode != 404 {
		t.Fatalf("signed copy of another comune's document: %d %s", resp.StatusCode, b)
	}
	if n := counted.reads.Load(); n != 0 {
		t.Errorf("signed: %d reads before refusing", n)
	}
}

// Package archivetest is the conformance suite every storage engine of
// faldone runs: the same behaviour, append-only enforcement and one
// gap-free audit tree, whatever the database.
package archivetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"faldone/internal/audit"
	"faldone/internal/faldone"
)

// Engine is what the suite needs from an archive beyond [faldone.Archive]:
// the methods both engines export for the audit log.
type Engine interface {
	faldone.Archive
	audit.HashReader
	Size(ctx context.Context) (uint64, error)
	Walk(ctx context.Context, fn func(rec *faldone.Record, leafHash []byte) error) error
	Blob(ctx context.Context, sha256 string) ([]byte, error)
	SaveCheckpoint(ctx context.Context, size uint64, note []byte) error
	Checkpoints(ctx context.Context) ([][]byte, error)
	LatestCheckpoint(ctx context.Context) (uint64, []byte, error)
	Migrate(ctx context.Context) error
}

// Hooks are test-only methods an engine defines in its export_test.go so
// that the suite can try to break the archive behind its back.
type Hooks interface {
	// ExecRaw runs one SQL statement on the engine's database handle, with
	// no bypass of the database's own protections.
	ExecRaw(ctx context.Context, query string) error
	// TamperRecord replaces the stored body of the record at leaf,
	// bypassing append-only enforcement.
	TamperRecord(ctx context.Context, leaf int64, body []byte) error
	// TamperBlob replaces the stored bytes of a PDF, bypassing append-only
	// enforcement.
	TamperBlob(ctx context.Context, sha256 string, data []byte) error
}

// Run runs the conformance suite. open MUST return a new, empty archive
// for each call and close it when t ends; the archive MUST implement
// [Engine] and [Hooks].
func Run(t *testing.T, open func(t *testing.T) faldone.Archive) {
	get := func(t *testing.T) (Engine, Hooks) {
		t.Helper()
		a := open(t)
		e, ok := a.(Engine)
		if !ok {
			t.Fatalf("%T does not implement archivetest.Engine", a)
		}
		h, ok := a.(Hooks)
		if !ok {
			t.Fatalf("%T does not implement archivetest.Hooks (define them in export_test.go)", a)
		}
		return e, h
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, e Engine, h Hooks)
	}{
		{"AppendVersions", testAppendVersions},
		{"VersionRules", testVersionRules},
		{"Invalid", testInvalid},
		{"NotFound", testNotFound},
		{"PDFRoundTrip", testPDFRoundTrip},
		{"Dossier", testDossier},
		{"BySHA", testBySHA},
		{"ConcurrentAppends", testConcurrent},
		{"AppendOnly", testAppendOnly},
		{"MigrateIdempotent", testMigrate},
		{"TreeMatchesRecords", testTree},
		{"HashesContract", testHashes},
		{"Checkpoints", testCheckpoints},
		{"AuditFindsTampering", testTamper},
		{"ComuneSigner", testComuneSigner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, h := get(t)
			tt.fn(t, e, h)
		})
	}
}

// Context returns a context for one test, cancelled when it ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// PDF returns n bytes that start like a PDF and are otherwise random.
func PDF(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	copy(b, "%PDF-1.7\n")
	return b
}

// Record returns a record for version v of document id of a comune,
// without SHA256 and Size, which Append fills.
func Record(id string, v int, comune string) *faldone.Record {
	created := time.Date(2026, 3, 12, 10, 30, 0, 123456789, time.FixedZone("CET", 3600))
	ts := created.Add(2 * time.Second)
	r := &faldone.Record{
		ID:       id,
		Version:  v,
		Kind:     faldone.KindAdesione,
		Comune:   comune,
		IPA:      "c_e655",
		Oggetto:  fmt.Sprintf("Lettera di adesione %s v%d - àèìòù <&>", id, v),
		Protocol: faldone.Protocol{Number: "0001234", Date: "2026-03-12"},
		Lang:     "it",
		Date:     "2026-03-12",
		Input:    []byte(`{"comune":"` + comune + `"}`),
		InputSHA: hex.EncodeToString(sha256.New().Sum(nil)),
		Template: faldone.TemplateRef{ID: "adesione", Version: "1", SHA256: "00"},
		Seal:     faldone.SealFacts{CertSHA256: "ab", Level: "B-T", TimestampTime: &ts},
		Actor:    "task-force@example.test",
		Created:  created,
		Format:   "application/pdf",
		Producer: "faldone test",
	}
	if v > 1 {
		r.Reason = faldone.ChangeRettifica
	}
	return r
}

// MustAppend appends a record and fails the test on error.
func MustAppend(tb testing.TB, a faldone.Archive, rec *faldone.Record, pdf []byte) *faldone.Record {
	tb.Helper()
	if err := a.Append(context.Background(), rec, pdf); err != nil {
		tb.Fatalf("append %s v%d: %v", rec.ID, rec.Version, err)
	}
	return rec
}

// wantCode fails unless err carries the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := faldone.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// sameRecord fails unless got and want are the same record.
func sameRecord(t *testing.T, got, want *faldone.Record) {
	t.Helper()
	if g, w := faldone.CanonicalRecord(got), faldone.CanonicalRecord(want); !bytes.Equal(g, w) {
		t.Fatalf("record differs:\n got %s\nwant %s", g, w)
	}
	if got.Leaf != want.Leaf {
		t.Fatalf("leaf = %d, want %d", got.Leaf, want.Leaf)
	}
	if !got.Created.Equal(want.Created) {
		t.Fatalf("created = %v, want %v", got.Created, want.Created)
	}
}

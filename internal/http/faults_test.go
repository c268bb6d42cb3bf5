package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"faldone/internal/auth"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/postgres"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// readyArchive is an archive with a readiness check.
type readyArchive interface {
	faldone.Archive
	auth.Store
	Ready(ctx context.Context) error
}

// faultServer returns an API over archive, ready when the archive is,
// and a staff key.
func faultServer(t *testing.T, archive readyArchive) (*fhttp.Server, string) {
	t.Helper()
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		t.Fatal(err)
	}
	ks := &auth.Service{Store: archive, Comuni: reg}
	s := fhttp.New(fhttp.Config{
		Templates: set, Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Documents: &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: "test"}, Archive: archive},
		Keys:      ks, VerifyRate: -1, AuthFailureRate: -1, Ready: archive.Ready,
	})
	key, _, err := ks.Create(context.Background(), "task force", auth.RoleStaff, "")
	if err != nil {
		t.Fatal(err)
	}
	return s, key
}

// expectProblem checks the status, the code, a Retry-After and a detail.
func expectProblem(t *testing.T, what string, resp *nethttp.Response, b []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode, status, b)
	}
	p := problem(t, resp, b)
	if p.Code != code || p.Detail == "" || strings.HasPrefix(p.Title, "error.") {
		t.Fatalf("%s: problem %+v, want code %s with a detail", what, p, code)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: no Retry-After", what)
	}
}

// TestPostgresDown stops the archive's PostgreSQL under a running
// service: health stays up, with or without a key; readiness, reads and
// writes answer 503 with Retry-After and a detail; nothing acknowledged
// is lost; and the service recovers without a restart once the server is
// back.
func TestPostgresDown(t *testing.T) {
	pg := testenv.OwnPostgres(t)
	ctx := context.Background()
	archive, err := postgres.Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	s, key := faultServer(t, archive)
	auth := []string{"Authorization", "Bearer " + key}
	create := func() (*nethttp.Response, []byte) {
		return do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"), auth...)
	}
	resp, b := create()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)

	pg.Stop()
	for _, hdr := range [][]string{nil, auth} {
		if resp, b := do(t, s, "GET", "/healthz", "", nil, append(hdr, "X-Probe", "1")...); resp.StatusCode != 200 {
			t.Fatalf("healthz with the database down (key %v): %d %s", hdr != nil, resp.StatusCode, b)
		}
	}
	resp, b = do(t, s, "GET", "/readyz", "", nil)
	expectProblem(t, "readyz", resp, b, 503, faldone.EUNAVAILABLE)
	resp, b = do(t, s, "GET", "/v1/documents/"+doc.ID, "", nil, auth...)
	expectProblem(t, "read", resp, b, 503, faldone.EUNAVAILABLE)
	resp, b = create()
	expectProblem(t, "write", resp, b, 503, faldone.EUNAVAILABLE)
	if p := problem(t, resp, b); !strings.Contains(p.Detail, "database") {
		t.Errorf("detail does not name the database: %q", p.Detail)
	}

	pg.Start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, b = do(t, s, "GET", "/readyz", "", nil)
		if resp.StatusCode == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("readyz after the database came back: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, s, "GET", "/v1/documents/"+doc.ID+"/pdf", "", nil, auth...); resp.StatusCode != 200 || !strings.HasPrefix(string(b), "%PDF") {
		t.Fatalf("read after recovery: %d", resp.StatusCode)
	}
	if resp, b := create(); resp.StatusCode != 201 {
		t.Fatalf("write after recovery: %d %s", resp.StatusCode, b)
	}
	if n, err := archive.Size(ctx); err != nil || n != 2 {
		t.Fatalf("log size %d (%v), want 2", n, err)
	}
}

// fill writes a file in dir until the file system is full and returns
// its name.
func fill(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last pages
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	return name
}

// TestDiskFull fills a small tmpfs holding the SQLite archive: writes get
// 507 with Retry-After, /readyz says not ready, reads go on, nothing is
// half-archived, and once space is freed the service takes writes again
// without a restart. With a reserve (MinFree) the refusal comes before
// the disk is full.
func TestDiskFull(t *testing.T) {
	dir := testenv.Tmpfs(t, "6m")
	archive, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	s, key := faultServer(t, archive)
	auth := []string{"Authorization", "Bearer " + key}
	create := func() (*nethttp.Response, []byte) {
		return do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"), auth...)
	}
	resp, b := create()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)
	if resp, b := do(t, s, "GET", "/readyz", "", nil); resp.StatusCode != 200 {
		t.Fatalf("readyz: %d %s", resp.StatusCode, b)
	}

	filler := fill(t, dir)
	resp, b = create()
	expectProblem(t, "write on a full disk", resp, b, 507, faldone.ESTORAGE)
	resp, b = do(t, s, "GET", "/readyz", "", nil)
	expectProblem(t, "readyz on a full disk", resp, b, 503, faldone.EUNAVAILABLE)
	if resp, _ := do(t, s, "GET", "/v1/documents/"+doc.ID+"/pdf", "", nil, auth...); resp.StatusCode != 200 {
		t.Fatalf("read on a full disk: %d", resp.StatusCode)
	}
	if n, _ := archive.Size(context.Background()); n != 1 {
		t.Fatalf("log size %d on a full disk, want 1", n)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if resp, b := do(t, s, "GET", "/readyz", "", nil); resp.StatusCode != 200 {
		t.Fatalf("readyz with space again: %d %s", resp.StatusCode, b)
	}
	if resp, b := create(); resp.StatusCode != 201 {
		t.Fatalf("write with space again: %d %s", resp.StatusCode, b)
	}

	// A reserve: refused while there is still room.
	archive.MinFree = 1 << 30 // more than the whole file system
	resp, b = create()
	expectProblem(t, "write under the reserve", resp, b, 507, faldone.ESTORAGE)
	resp, b = do(t, s, "GET", "/readyz", "", nil)
	expectProblem(t, "readyz under the reserve", resp, b, 503, faldone.EUNAVAILABLE)
	archive.MinFree = 0

	// Every acknowledged document is whole.
	var n int
	err = archive.Walk(context.Background(), func(rec *faldone.Record, _ []byte) error {
		n++
		_, err := archive.PDF(context.Background(), rec.SHA256)
		return err
	})
	if err != nil || n != 2 {
		t.Fatalf("walk: %d records, %v", n, err)
	}
}

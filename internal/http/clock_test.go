package http_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fhttp "faldone/internal/http"
	"faldone/internal/ledger"
)

// clock is a settable clock for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// TestClockBackwards drives the service's clock backwards and forwards:
// a record dated before the newest one, or a checkpoint before the newest
// checkpoint, is refused with 503 and Retry-After, nothing is archived,
// and once the clock is right again everything works.
func TestClockBackwards(t *testing.T) {
	clk := &clock{t: time.Now()}
	s := mustServerWith(t, devSealer(t, ""), func(c *fhttp.Config) {
		c.Documents.Now = clk.Now
		key, _, err := ledger.LoadKey(filepath.Join(t.TempDir(), "log.key"), true)
		if err != nil {
			t.Fatal(err)
		}
		store := c.Ledger.Store()
		if c.Ledger, err = ledger.New(store, key, ledger.Options{Now: clk.Now}); err != nil {
			t.Fatal(err)
		}
	})
	archive := serverOf(t, s).archive
	create := func() (int, fhttp.Problem) {
		resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"), "Accept-Language", "en")
		if resp.StatusCode == 201 {
			return 201, fhttp.Problem{}
		}
		p := problem(t, resp, b)
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("%d without Retry-After", resp.StatusCode)
		}
		return resp.StatusCode, p
	}
	if st, p := create(); st != 201 {
		t.Fatalf("first: %d %+v", st, p)
	}
	if resp, b := do(t, s, "GET", "/v1/audit/checkpoint", "", nil); resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %d %s", resp.StatusCode, b)
	}
	size, _ := archive.Size(t.Context())

	clk.Set(time.Now().Add(-time.Hour))
	st, p := create()
	if st != 503 || !strings.Contains(p.Detail, "behind the archive's latest record") {
		t.Fatalf("an hour back: %d %+v", st, p)
	}
	if n, _ := archive.Size(t.Context()); n != size {
		t.Fatalf("log grew from %d to %d although refused", size, n)
	}

	// Forward again: the record is archived; the checkpoint it needs is
	// dated after the newest one.
	clk.Set(time.Now().Add(time.Minute))
	if st, p := create(); st != 201 {
		t.Fatalf("clock right: %d %+v", st, p)
	}
	if resp, b := do(t, s, "GET", "/v1/audit/checkpoint", "", nil); resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %d %s", resp.StatusCode, b)
	}

	// A checkpoint before the newest one is refused; a record within the
	// slack of concurrent appends is not.
	clk.Set(time.Now().Add(-30 * time.Second))
	if st, p := create(); st != 201 {
		t.Fatalf("30 s back, within the slack: %d %+v", st, p)
	}
	resp, b := do(t, s, "GET", "/v1/audit/checkpoint", "", nil)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("checkpoint dated before the newest: %d %s", resp.StatusCode, b)
	}
	clk.Set(time.Now().Add(2 * time.Minute))
	if resp, b := do(t, s, "GET", "/v1/audit/checkpoint", "", nil); resp.StatusCode != 200 {
		t.Fatalf("checkpoint with the clock right: %d %s", resp.StatusCode, b)
	}
}

package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	fhttp "faldone/internal/http"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPanicIsAnInternalError: a handler that panics is answered with a 500
// problem that shows no stack, and the request is logged and counted in the
// metrics like any 500, with the panic and its stack in the log.
func TestPanicIsAnInternalError(t *testing.T) {
	var logs syncBuffer
	s := mustServerWith(t, nil, func(c *fhttp.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		c.Mount = append(c.Mount, func(r fiber.Router) {
			r.Get("/static/boom", func(c *fiber.Ctx) error {
				var rows []int
				return c.SendString(fmt.Sprint(rows[len(c.Path())])) // a runtime panic: index out of range
			})
		})
	})
	resp, b := do(t, s, "GET", "/static/boom", "", nil)
	if resp.StatusCode != 500 {
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	var p struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Code != "internal" || p.Status != 500 {
		t.Fatalf("body %s (%v), want an internal problem", b, err)
	}
	if bytes.Contains(b, []byte("goroutine")) || bytes.Contains(b, []byte("out of range")) {
		t.Fatalf("the response shows the panic: %s", b)
	}
	log := logs.String()
	for _, want := range []string{`"msg":"panic"`, "index out of range", `"stack":"goroutine`, `"msg":"request"`, `"status":500`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	_, m := do(t, s, "GET", "/metrics", "", nil)
	if want := `faldone_http_request_duration_seconds_count{method="GET",route="/static/boom",status="500"} 1`; !bytes.Contains(m, []byte(want)) {
		t.Errorf("metrics lack %s", want)
	}
}

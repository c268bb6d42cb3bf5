package http_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"faldone/internal/auth"
	fhttp "faldone/internal/http"
)

func TestSecurityHeaders(t *testing.T) {
	s := MustServer(t)
	for _, tc := range []struct {
		path string
		hdr  []string
	}{
		{"/healthz", []string{"Authorization", ""}},
		{"/v1/templates", nil},
		{"/v1/templates", []string{"Authorization", ""}}, // 401
		{"/v1/documents/" + noSuchID, nil},               // 404
	} {
		resp, _ := do(t, s, "GET", tc.path, "", nil, append(tc.hdr, "Origin", "https://evil.example")...)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", tc.path, csp, want)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", tc.path, h)
		}
		if h.Get("Strict-Transport-Security") != "" || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: HSTS or CORS without configuration: %v", tc.path, h)
		}
	}
}

func TestHSTSAndCORSWhenConfigured(t *testing.T) {
	s := mustServerWith(t, nil, func(c *fhttp.Config) {
		c.HSTSMaxAge = 365 * 24 * time.Hour
		c.CORSOrigins = []string{"https://portale.example"}
	})
	resp, _ := do(t, s, "GET", "/healthz", "", nil, "Origin", "https://portale.example")
	if resp.Header.Get("Strict-Transport-Security") != "max-age=31536000; includeSubDomains" {
		t.Errorf("HSTS %q", resp.Header.Get("Strict-Transport-Security"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://portale.example" {
		t.Errorf("CORS for the configured origin: %v", resp.Header)
	}
	resp, _ = do(t, s, "OPTIONS", "/v1/templates", "", nil, "Authorization", "", "Origin", "https://portale.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	if resp.StatusCode != 204 || !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do(t, s, "GET", "/healthz", "", nil, "Origin", "https://evil.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS for another origin: %v", resp.Header)
	}
}

func TestRateLimits(t *testing.T) {
	s := mustServerWith(t, nil, func(c *fhttp.Config) { c.AuthFailureRate = 3; c.VerifyRate = 2 })
	bad := []string{"Authorization", "Bearer fk_" + strings.Repeat("B", 43)}
	for i := range 3 {
		if resp, b := do(t, s, "GET", "/v1/templates", "", nil, bad...); resp.StatusCode != 401 {
			t.Fatalf("failure %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	resp, b := do(t, s, "GET", "/v1/templates", "", nil, bad...)
	if resp.StatusCode != 429 {
		t.Fatalf("after 3 failures: %d %s", resp.StatusCode, b)
	}
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if p := problem(t, resp, b); p.Code != "too_many_requests" || p.Detail == "" {
		t.Errorf("problem %+v", p)
	}
	if resp, b := do(t, s, "GET", "/v1/templates", "", nil); resp.StatusCode != 200 {
		t.Errorf("a valid key after the failures of another: %d %s", resp.StatusCode, b)
	}
	for i := range 2 {
		if resp, _ := do(t, s, "POST", "/v1/verify", "application/pdf", []byte("%PDF-"), "Authorization", ""); resp.StatusCode == 429 {
			t.Fatalf("verification %d limited", i+1)
		}
	}
	resp, b = do(t, s, "POST", "/v1/verify", "application/pdf", []byte("%PDF-"), "Authorization", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third verification: %d %s", resp.StatusCode, b)
	}
	problem(t, resp, b)
}

func TestBodyLimitsPerRoute(t *testing.T) {
	s := MustServer(t)
	for _, tc := range []struct {
		method, path string
		body         []byte
	}{
		// GET and HEAD bodies are never read (fasthttp skips them).
		{"DELETE", "/v1/keys/x", []byte("{}")},
		{"POST", "/v1/keys", bytes.Repeat([]byte(" "), 4<<10+1)},
	} {
		resp, b := do(t, s, tc.method, tc.path, "application/json", tc.body, "Authorization", "Bearer "+MustKey(t, s, auth.RoleAdmin, ""))
		if resp.StatusCode != 413 {
			t.Errorf("%s %s with a body: %d %.200s", tc.method, tc.path, resp.StatusCode, b)
			continue
		}
		problem(t, resp, b)
	}
}

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogs: JSON lines, each naming its request, and never a key or a PDF.
func TestLogs(t *testing.T) {
	var logs lockedBuffer
	s := mustServerWith(t, devSealer(t, ""), func(c *fhttp.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.BodyLimit = 4 << 20
	})
	ts := serverOf(t, s)
	adminKey := MustKey(t, s, auth.RoleAdmin, "")
	adm := []string{"Authorization", "Bearer " + adminKey}
	resp, b := do(t, s, "POST", "/v1/keys", "application/json", []byte(`{"name": "Comune di Loiano", "role": "comune", "comune": "`+loiano+`"}`), adm...)
	if resp.StatusCode != 201 {
		t.Fatalf("create key: %d %s", resp.StatusCode, b)
	}
	var created fhttp.KeyCreated
	json.Unmarshal(b, &created)
	resp, b = do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create document: %d %s", resp.StatusCode, b)
	}
	createID := resp.Header.Get("X-Request-ID")
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)
	if resp, _ := do(t, s, "GET", doc.Links["pdf"], "", nil, "X-API-Key", created.Key); resp.StatusCode != 200 {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	do(t, s, "POST", doc.Links["signed"], "application/pdf", []byte("%PDF-1.7 broken"), "X-API-Key", created.Key)
	do(t, s, "DELETE", "/v1/keys/"+created.Record.ID, "", nil, adm...)
	do(t, s, "GET", "/v1/templates", "", nil, "X-API-Key", created.Key)                                            // revoked
	do(t, s, "GET", "/v1/templates", "", nil, "Authorization", "Bearer "+created.Key[:20])                         // malformed
	do(t, s, "GET", "/v1/templates", "", nil, "X-Request-ID", created.Key, "X-API-Key", created.Key)               // the key as request id
	do(t, s, "GET", "/v1/templates", "", nil, "Authorization", "Bearer "+created.Key, "X-Request-ID", "req-12345") // the key in a client id

	out := logs.String()
	for _, secret := range []string{adminKey, created.Key, ts.staff, created.Key[3:20]} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs hold a key")
		}
		if strings.Contains(out, hex.EncodeToString(auth.Hash(secret))) {
			t.Errorf("the logs hold a key's hash")
		}
	}
	if strings.Contains(out, "%PDF") || strings.Contains(out, "JVBERi") {
		t.Error("the logs hold PDF content")
	}
	lines, sealed, failed, withKey := 0, false, 0, false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		rid, _ := m["request_id"].(string)
		if rid == "" {
			t.Errorf("line without request id: %s", sc.Text())
		}
		switch m["msg"] {
		case "sealed":
			sealed = rid == createID
		case "authentication failed":
			failed++
		case "key created":
			withKey = m["key_id"] != nil && m["by"] != nil
		}
	}
	if lines < 10 || !sealed || failed != 4 || !withKey {
		t.Errorf("%d lines, seal line with the request's id %v, %d failed authentications, key creation traced %v:\n%s", lines, sealed, failed, withKey, out)
	}
}

// TestClientIPBehindAProxy: the failed-authentication limit counts per
// client as the trusted proxy names it, and ignores the header otherwise.
func TestClientIPBehindAProxy(t *testing.T) {
	bad := []string{"Authorization", "Bearer fk_" + strings.Repeat("C", 43)}
	for _, tc := range []struct {
		trusted []string
		second  int // status of the first failure of a second client
	}{{[]string{"0.0.0.0/0"}, 401}, {[]string{"192.0.2.1"}, 429}} {
		s := mustServerWith(t, nil, func(c *fhttp.Config) {
			c.AuthFailureRate, c.ProxyHeader, c.TrustedProxies = 1, "X-Real-IP", tc.trusted
		})
		do(t, s, "GET", "/v1/templates", "", nil, append(bad, "X-Real-IP", "198.51.100.1")...)
		if resp, _ := do(t, s, "GET", "/v1/templates", "", nil, append(bad, "X-Real-IP", "198.51.100.1")...); resp.StatusCode != 429 {
			t.Errorf("trusted %v: second failure of one client: %d", tc.trusted, resp.StatusCode)
		}
		if resp, _ := do(t, s, "GET", "/v1/templates", "", nil, append(bad, "X-Real-IP", "198.51.100.2")...); resp.StatusCode != tc.second {
			t.Errorf("trusted %v: first failure of another client: %d, want %d", tc.trusted, resp.StatusCode, tc.second)
		}
	}
}

package http_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	fhttp "faldone/internal/http"
)

// serveTCP serves s on a fresh port of 127.0.0.1, through Serve (so with
// the cap on connections per address), and returns the address.
func serveTCP(t *testing.T, s *fhttp.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { _ = s.App().Shutdown() })
	return ln.Addr().String()
}

// raw sends a raw request and returns the status line, the headers and
// the body of the answer, and whether the server then closed the
// connection.
func raw(t *testing.T, addr, req string) (status int, hdr nethttp.Header, body string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := nethttp.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read answer to %q: %v", req, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = br.ReadByte()
	var ne net.Error
	closed = err != nil && !(errors.As(err, &ne) && ne.Timeout()) // EOF, or a reset of unread data
	return resp.StatusCode, resp.Header, string(b), closed
}

// TestFramingRefused sends requests whose length a front proxy and
// faldone could read differently (request smuggling): each is refused
// with 400 and the connection is closed (RFC 9112, section 6.3).
func TestFramingRefused(t *testing.T) {
	s := MustServer(t)
	addr := serveTCP(t, s)
	const head = "POST /v1/verify HTTP/1.1\r\nHost: faldone\r\nContent-Type: application/pdf\r\n"
	for name, req := range map[string]string{
		"two differing Content-Length": head + "Content-Length: 5\r\nContent-Length: 11\r\n\r\nhello world",
		"two equal Content-Length":     head + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
		"Content-Length and chunked":   head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"chunked and Content-Length":   head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"gzip, chunked":                head + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"identity with a length":       head + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello",
		"two Transfer-Encodings":       head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"chunked, obfuscated":          head + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			status, hdr, body, closed := raw(t, addr, req)
			if status != 400 {
				t.Fatalf("status %d, want 400: %s", status, body)
			}
			if !closed {
				t.Errorf("connection kept open after an ambiguous request")
			}
			if !strings.Contains(hdr.Get("Content-Type"), "problem+json") || !strings.Contains(body, `"code":"bad_request"`) {
				t.Errorf("not a bad_request problem: %v %s", hdr, body)
			}
		})
	}
	// A well-framed chunked request still works.
	status, _, body, _ := raw(t, addr, head+"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	if status != 422 {
		t.Fatalf("well-framed chunked request: %d %s", status, body)
	}
}

// TestHTTPErrorsMapped checks the status and code of what Fiber and
// fasthttp refuse before a handler runs.
func TestHTTPErrorsMapped(t *testing.T) {
	s := MustServer(t) // body limit 64 KiB
	addr := serveTCP(t, s)
	key := "Authorization: Bearer " + serverOf(t, s).staff + "\r\n"

	// Headers over the read buffer: 431.
	status, _, body, _ := raw(t, addr, "GET /healthz HTTP/1.1\r\nHost: faldone\r\nX-Big: "+strings.Repeat("a", 20<<10)+"\r\n\r\n")
	if status != 431 || !strings.Contains(body, `"code":"headers_too_large"`) {
		t.Errorf("large headers: %d %s", status, body)
	}

	// A chunked body over the route's limit: 413 naming that limit.
	chunk := strings.Repeat("x", 16<<10)
	var b strings.Builder
	b.WriteString("POST /v1/documents/adesione HTTP/1.1\r\nHost: faldone\r\nContent-Type: application/json\r\n" + key + "Transfer-Encoding: chunked\r\n\r\n")
	for range 6 {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	b.WriteString("0\r\n\r\n")
	status, _, body, _ = raw(t, addr, b.String())
	if status != 413 || !strings.Contains(body, strconv.Itoa(64<<10)) {
		t.Errorf("chunked body over 64 KiB: %d %s", status, body)
	}

	// The same for a declared length, before the rest of it is read (the
	// server waits for the first 8 KiB at most).
	status, _, body, _ = raw(t, addr, "POST /v1/documents/adesione HTTP/1.1\r\nHost: faldone\r\nContent-Type: application/json\r\n"+key+"Content-Length: 70000\r\n\r\n"+strings.Repeat("x", 8<<10))
	if status != 413 || !strings.Contains(body, strconv.Itoa(64<<10)) {
		t.Errorf("declared body over 64 KiB: %d %s", status, body)
	}

	// A route that takes no body.
	status, _, body, _ = raw(t, addr, "GET /v1/templates HTTP/1.1\r\nHost: faldone\r\n"+key+"Content-Length: 10\r\n\r\n0123456789")
	if status != 413 || !strings.Contains(body, `"code":"too_large"`) {
		t.Errorf("body on a GET: %d %s", status, body)
	}

	// A malformed request line is a bad request, not malformed JSON.
	status, _, body, _ = raw(t, addr, "GET  /healthz HTTP/1.1\r\nHost: faldone\r\n\r\n")
	if status != 400 || !strings.Contains(body, `"code":"bad_request"`) {
		t.Errorf("bad request line: %d %s", status, body)
	}
}

// TestConnectionCap opens more connections from one address than the
// cap allows: the ones over it get a 429 and are closed; closing some
// makes room again.
func TestConnectionCap(t *testing.T) {
	s := mustServerWith(t, nil, func(c *fhttp.Config) { c.MaxConnsPerIP = 4 })
	addr := serveTCP(t, s)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// A slow client: headers declaring a large body, then nothing.
		io.WriteString(c, "POST /v1/verify HTTP/1.1\r\nHost: faldone\r\nContent-Type: application/pdf\r\nContent-Length: 10000000\r\n\r\n%PDF")
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond)
	status, hdr, body, closed := raw(t, addr, "GET /healthz HTTP/1.1\r\nHost: faldone\r\n\r\n")
	if status != 429 || hdr.Get("Retry-After") == "" || !closed {
		t.Fatalf("fifth connection: %d %v %s closed=%v", status, hdr, body, closed)
	}
	held[0].Close()
	held = held[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _, body, _ = raw(t, addr, "GET /healthz HTTP/1.1\r\nHost: faldone\r\nConnection: close\r\n\r\n")
		if status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != 200 {
		t.Fatalf("after one closed: %d %s", status, body)
	}
}

// childServerEnv makes the test binary a server for
// TestSlowBodiesMemory: it prints its address and its pid and serves
// until its standard input closes.
const childServerEnv = "FALDONE_TEST_CHILD_SERVER"

func TestChildServer(t *testing.T) {
	if os.Getenv(childServerEnv) == "" {
		t.Skip("run by TestSlowBodiesMemory")
	}
	s := mustServerWith(t, nil, func(c *fhttp.Config) {
		c.MaxConnsPerIP = -1 // the test measures memory, not the cap
		c.VerifyLimit = 20 << 20
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	fmt.Printf("addr %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	_ = s.App().Shutdown()
}

// rssKiB returns the resident set of process pid.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestSlowBodiesMemory opens 300 unauthenticated connections to POST
// /v1/verify that each declare a 20 MiB body and trickle a byte at a
// time, against a server in a child process, and checks that the
// server's resident memory grows by less than 200 MiB (declared: 6000
// MiB). The figure is logged; the README states it.
func TestSlowBodiesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), childServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	sc := bufio.NewScanner(stdout)
	var addr string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "addr "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("child server printed no address")
	}
	go io.Copy(io.Discard, stdout)
	pid := cmd.Process.Pid

	// Warm up: one verification, so that the baseline includes what any
	// request loads.
	status, _, body, _ := raw(t, addr, "POST /v1/verify HTTP/1.1\r\nHost: faldone\r\nContent-Type: application/pdf\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
	if status != 422 {
		t.Fatalf("warm-up: %d %s", status, body)
	}
	before := rssKiB(t, pid)

	const n = 300
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "POST /v1/verify HTTP/1.1\r\nHost: faldone\r\nContent-Type: application/pdf\r\nContent-Length: 20971520\r\n\r\n%"); err != nil {
			t.Fatal(err)
		}
	}
	peak := 0
	for i := range 4 {
		time.Sleep(500 * time.Millisecond)
		for _, c := range conns {
			c.Write([]byte{"PDF-"[i]})
		}
		peak = max(peak, rssKiB(t, pid))
	}
	growth := (peak - before) / 1024
	t.Logf("%d slow connections declaring 20 MiB each (%d MiB in all): server RSS %d MiB before, %d MiB at peak, +%d MiB",
		n, n*20, before/1024, peak/1024, growth)
	if growth > 200 {
		t.Fatalf("server RSS grew by %d MiB for %d slow connections: bodies are allocated by their declared length", growth, n)
	}
}

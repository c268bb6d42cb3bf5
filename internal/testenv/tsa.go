package testenv

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TSAPath is the RFC 3161 endpoint path of timestamp-server.
const TSAPath = "/api/v1/timestamp"

// tsaServer is the timestamp-server shared by the tests of one process.
// timestamp-server always binds its metrics listener to port 2112, so
// only one instance can run per machine: instances are shared within a
// process (reference counted) and serialised across processes by a lock file.
var tsaServer struct {
	sync.Mutex
	refs   int
	url    string
	chain  []*x509.Certificate
	cmd    *exec.Cmd
	done   chan struct{}
	unlock func()
}

// StartTSA starts (or shares) a local timestamp-server on a free
// 127.0.0.1 port with an in-memory signer and NTP monitoring disabled,
// and returns its RFC 3161 URL and certificate chain (leaf first). The
// server stops when the last test using it ends. When the binary is not
// installed the test is skipped, or fails when the environment variable
// CI is "true".
func StartTSA(tb testing.TB) (url string, chain []*x509.Certificate) {
	tb.Helper()
	bin := findTSA()
	if bin == "" {
		msg := "timestamp-server not installed: go install github.com/sigstore/timestamp-authority/cmd/timestamp-server@v1.2.9"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	s := &tsaServer
	s.Lock()
	defer s.Unlock()
	if s.refs == 0 {
		if err := startTSA(bin); err != nil {
			tb.Fatalf("start timestamp-server: %v", err)
		}
	}
	s.refs++
	tb.Cleanup(func() {
		s.Lock()
		defer s.Unlock()
		if s.refs--; s.refs == 0 {
			_ = s.cmd.Process.Kill()
			<-s.done
			s.unlock()
		}
	})
	return s.url, s.chain
}

func findTSA() string {
	if p, err := exec.LookPath("timestamp-server"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "timestamp-server")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// startTSA runs the binary; the caller holds tsaServer's mutex.
func startTSA(bin string) error {
	s := &tsaServer
	unlock, err := lockMachineWide(filepath.Join(os.TempDir(), "faldone-timestamp-server.lock"))
	if err != nil {
		return err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			unlock()
			return err
		}
		var logs bytes.Buffer
		cmd := exec.Command(bin, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--timestamp-signer", "memory", "--disable-ntp-monitoring")
		cmd.Stdout, cmd.Stderr = &syncWriter{w: &logs}, &syncWriter{w: &logs}
		if err := cmd.Start(); err != nil {
			unlock()
			return err
		}
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(done)
		}()
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		chain, err := waitTSA(done, base)
		if err != nil {
			_ = cmd.Process.Kill()
			<-done
			lastErr = fmt.Errorf("%w; output: %s", err, logs.String())
			continue
		}
		s.cmd, s.done, s.url, s.chain, s.unlock = cmd, done, base+TSAPath, chain, unlock
		return nil
	}
	unlock()
	return lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTSA polls the certificate chain endpoint until the server answers.
func waitTSA(done <-chan struct{}, base string) ([]*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		chain, err := fetchChain(ctx, base+TSAPath+"/certchain")
		if err == nil {
			return chain, nil
		}
		select {
		case <-done:
			return nil, fmt.Errorf("timestamp-server exited")
		case <-ctx.Done():
			return nil, fmt.Errorf("timestamp-server not ready: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func fetchChain(ctx context.Context, url string) ([]*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("certchain: status %d: %v", resp.StatusCode, err)
	}
	var chain []*x509.Certificate
	for {
		var b *pem.Block
		b, body = pem.Decode(body)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("certchain: no certificates")
	}
	return chain, nil
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

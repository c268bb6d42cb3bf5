package testenv

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TSAPath is the RFC 3161 endpoint path of timestamp-server.
const TSAPath = "/api/v1/timestamp"

// tsaInnerPort is the port timestamp-server listens on inside its private
// network namespace. Each instance has its own namespace, so the port never
// clashes with another instance or with anything on the host.
const tsaInnerPort = 3000

// tsaScript runs inside the new network namespace: it brings up the private
// loopback, starts socat bridging the Unix socket (the filesystem is shared
// across namespaces) to timestamp-server, and becomes timestamp-server.
// socat gets a parent-death signal, so it dies with timestamp-server even
// when nobody cleans up. timestamp-server also starts its metrics listener
// on ":2112", which exists only inside the namespace.
const tsaScript = `set -e
"$1" link set lo up
setpriv --pdeathsig KILL "$2" UNIX-LISTEN:"$3",fork,mode=600 TCP:127.0.0.1:"$5" &
server="$4"; port="$5"; shift 5
exec "$server" serve --host 127.0.0.1 --port "$port" --timestamp-signer memory --disable-ntp-monitoring "$@"
`

// TSA is a running timestamp-server. Nothing of it listens on the host
// except a proxy on 127.0.0.1.
type TSA struct {
	URL   string              // RFC 3161 endpoint, http://127.0.0.1:PORT/api/v1/timestamp
	Chain []*x509.Certificate // signing certificate chain, leaf first

	cmd   *exec.Cmd
	done  chan struct{}
	dir   string
	proxy *unixProxy
	once  sync.Once
}

// tsaShared is the timestamp-server shared by the tests of one process,
// reference counted by StartTSA.
var tsaShared struct {
	sync.Mutex
	refs int
	tsa  *TSA
}

// StartTSA starts (or shares) a local timestamp-server with an in-memory
// signer and NTP monitoring disabled, and returns its RFC 3161 URL and
// certificate chain (leaf first). The server runs in its own network
// namespace and is reached through a proxy on 127.0.0.1; it stops when the
// last test of the process using it ends. When a program it needs is not
// installed the test is skipped, or fails when the environment variable
// CI is "true".
func StartTSA(tb testing.TB) (url string, chain []*x509.Certificate) {
	tb.Helper()
	tools := tsaTools(tb)
	s := &tsaShared
	s.Lock()
	defer s.Unlock()
	if s.refs == 0 {
		t, err := startTSA(tools)
		if err != nil {
			tb.Fatalf("start timestamp-server: %v", err)
		}
		s.tsa = t
	}
	s.refs++
	t := s.tsa
	tb.Cleanup(func() {
		s.Lock()
		defer s.Unlock()
		if s.refs--; s.refs == 0 {
			s.tsa.Stop()
			s.tsa = nil
		}
	})
	return t.URL, t.Chain
}

// NewTSA starts a timestamp-server of the test's own, like StartTSA but not
// shared, so that the test may Stop it to see the TSA go down. It stops
// when the test ends at the latest.
func NewTSA(tb testing.TB) *TSA {
	tb.Helper()
	tools := tsaTools(tb)
	t, err := startTSA(tools)
	if err != nil {
		tb.Fatalf("start timestamp-server: %v", err)
	}
	tb.Cleanup(t.Stop)
	return t
}

// Stop kills the timestamp-server and the socat bridge, closes the proxy
// and its connections, and removes the socket directory. Afterwards the
// URL refuses connections. Stop may be called more than once.
func (t *TSA) Stop() {
	t.once.Do(func() {
		t.proxy.Close()
		killGroup(t.cmd)
		<-t.done
		_ = os.RemoveAll(t.dir)
	})
}

// tsaToolSet holds the absolute paths of the programs a TSA needs.
type tsaToolSet struct {
	server, unshare, socat, ip, setpriv string
}

// tsaTools finds the programs, skipping the test (failing it under
// CI=true) when one is missing.
func tsaTools(tb testing.TB) tsaToolSet {
	tb.Helper()
	var missing []string
	need := func(name, hint string, find func(string) string) string {
		p := find(name)
		if p == "" {
			missing = append(missing, name+" ("+hint+")")
		}
		return p
	}
	t := tsaToolSet{
		server:  need("timestamp-server", "go install github.com/sigstore/timestamp-authority/cmd/timestamp-server@v1.2.9", findGoBin),
		unshare: need("unshare", "apt-get install util-linux", findSbin),
		setpriv: need("setpriv", "apt-get install util-linux", findSbin),
		socat:   need("socat", "apt-get install socat", findSbin),
		ip:      need("ip", "apt-get install iproute2", findSbin),
	}
	if !tsaSupported {
		missing = append(missing, "Linux network namespaces")
	}
	if len(missing) > 0 {
		msg := "timestamp-server needs: " + strings.Join(missing, ", ")
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return t
}

// findGoBin looks for a Go-installed program on PATH, then in GOPATH/bin.
func findGoBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// findSbin looks for a system program on PATH, then in the sbin
// directories that a non-root PATH often lacks.
func findSbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// startTSA starts one timestamp-server in a new network namespace with its
// bridge and host-side proxy, and waits until it serves its chain; extra
// are further arguments of timestamp-server serve (the last of a flag
// given twice wins).
func startTSA(tools tsaToolSet, extra ...string) (*TSA, error) {
	dir, err := socketDir()
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "tsa.sock")
	proxy, err := newUnixProxy(sock)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	args := []string{"--net", "--kill-child"}
	if os.Geteuid() != 0 {
		args = append(args, "--map-root-user")
	}
	args = append(args, "sh", "-c", tsaScript, "sh",
		tools.ip, tools.socat, sock, tools.server, strconv.Itoa(tsaInnerPort))
	args = append(args, extra...)
	var logs bytes.Buffer
	cmd := exec.Command(tools.unshare, args...)
	logw := &syncWriter{w: &logs} // one lock for both streams
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = tsaSysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	// setpriv is found through PATH inside the script.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(tools.setpriv)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := cmd.Start(); err != nil {
		proxy.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	t := &TSA{cmd: cmd, done: make(chan struct{}), dir: dir, proxy: proxy}
	go func() {
		_ = cmd.Wait()
		close(t.done)
	}()
	base := "http://" + proxy.Addr()
	chain, err := waitTSA(t.done, base)
	if err != nil {
		t.Stop()
		return nil, fmt.Errorf("%w; output: %s", err, logs.String())
	}
	t.URL, t.Chain = base+TSAPath, chain
	return t, nil
}

// socketDir makes a private directory for the Unix socket, with a short
// path free of the characters socat gives a meaning to.
func socketDir() (string, error) {
	parent := os.TempDir()
	if len(parent) > 64 || strings.ContainsAny(parent, ",:!\"'\\ ;()[]{}%") {
		parent = "/tmp"
	}
	return os.MkdirTemp(parent, "faldone-tsa-")
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

// tsaClient does not keep connections: each TSA's proxy closes them when
// it stops, and another TSA may later get the same port.
var tsaClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func fetchChain(ctx context.Context, url string) ([]*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := tsaClient.Do(req)
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

// unixProxy listens on 127.0.0.1 and forwards each TCP connection to a
// Unix-domain socket.
type unixProxy struct {
	ln   net.Listener
	sock string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newUnixProxy(sock string) (*unixProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &unixProxy{ln: ln, sock: sock, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *unixProxy) Addr() string { return p.ln.Addr().String() }

func (p *unixProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// track registers a connection for Close; it reports false once closed.
func (p *unixProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *unixProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// forward copies both ways, passing each side's end of stream on as a
// half-close, and closes both connections when both directions are done.
func (p *unixProxy) forward(c net.Conn) {
	defer p.wg.Done()
	defer p.untrack(c)
	u, err := net.DialTimeout("unix", p.sock, 5*time.Second)
	if err != nil {
		return // not up yet, or gone: the client sees the connection close
	}
	if !p.track(u) {
		u.Close()
		return
	}
	defer p.untrack(u)
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	go pipe(u, c)
	go pipe(c, u)
	wg.Wait()
}

// Close stops accepting, closes every open connection and waits for the
// forwarding goroutines to end.
func (p *unixProxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		_ = p.ln.Close()
		for c := range p.conns {
			_ = c.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
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

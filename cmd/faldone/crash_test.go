package main_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"faldone/internal/audit"
	"faldone/internal/ledger"
	"faldone/internal/testenv"
)

// server is a `faldone serve` child process.
type server struct {
	cmd  *exec.Cmd
	base string
	logs *lockedBuffer
}

// startServer starts `faldone serve` on a free loopback port with env and
// waits until it is ready.
func startServer(t testing.TB, bin string, env ...string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// A staff key for the load, made with the same store settings.
	kc := exec.Command(bin, "keys", "create", "--role", "staff", "--name", "crash test")
	kc.Env = append(os.Environ(), env...)
	out, err := kc.Output()
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	key := regexp.MustCompile(`fk_[A-Za-z0-9_-]{43}`).FindString(string(out))
	if key == "" {
		t.Fatalf("keys create printed no key:\n%s", out)
	}
	serverKeys.Store(addr, key)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--log-format", "text", "--checkpoint-interval", "50ms")
	cmd.Env = append(os.Environ(), env...)
	s := &server{cmd: cmd, base: "http://" + addr, logs: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v\n%s", err, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serverKeys maps the address of a child server to the staff key the
// requests to it carry (see keyTransport).
var serverKeys sync.Map

// keyTransport adds the staff key of the server a request goes to.
type keyTransport struct{}

func (keyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if k, ok := serverKeys.Load(req.URL.Host); ok {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+k.(string))
	}
	return http.DefaultTransport.RoundTrip(req)
}

func init() { http.DefaultClient.Transport = keyTransport{} }

// kill sends SIGKILL and reaps the process.
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
}

// acked is a document the service acknowledged with 201.
type acked struct{ id, sha256 string }

// post creates a Suvereto adesione with a distinct oggetto.
func post(client *http.Client, base string, n int) (acked, int, error) {
	var m map[string]any
	b, err := os.ReadFile("../../samples/suvereto/adesione.json")
	if err != nil {
		return acked{}, 0, err
	}
	json.Unmarshal(b, &m)
	m["data"] = fmt.Sprintf("2026-%02d-%02d", 1+n%12, 1+n%28)
	body, _ := json.Marshal(m)
	resp, err := client.Post(base+"/v1/documents/adesione", "application/json", bytes.NewReader(body))
	if err != nil {
		return acked{}, 0, err
	}
	defer resp.Body.Close()
	var doc struct{ ID, SHA256 string }
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return acked{}, resp.StatusCode, err
	}
	return acked{doc.ID, doc.SHA256}, resp.StatusCode, nil
}

// load posts from workers goroutines spread over the servers until stop
// is closed or each has made max requests, and returns what was
// acknowledged.
func load(t *testing.T, bases []string, workers, max int, stop <-chan struct{}, first chan<- struct{}) []acked {
	var mu sync.Mutex
	var out []acked
	var once sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			client := &http.Client{Timeout: 60 * time.Second, Transport: keyTransport{}}
			for i := range max {
				select {
				case <-stop:
					return
				default:
				}
				a, code, err := post(client, bases[(w+i)%len(bases)], w*1000+i)
				if err != nil {
					continue // the server died mid-request: not acknowledged
				}
				if code != 201 {
					t.Errorf("POST: status %d", code)
					continue
				}
				mu.Lock()
				out = append(out, a)
				mu.Unlock()
				if first != nil {
					once.Do(func() { close(first) })
				}
			}
		})
	}
	wg.Wait()
	return out
}

// checkAcked downloads every acknowledged document and compares its bytes
// with the SHA-256 of the 201 response.
func checkAcked(t *testing.T, base string, docs []acked) {
	t.Helper()
	for _, d := range docs {
		resp, err := http.Get(base + "/v1/documents/" + d.id + "/pdf")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(b)
		if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != d.sha256 {
			t.Errorf("acknowledged document %s: status %d, sha256 %x, want %s", d.id, resp.StatusCode, sum, d.sha256)
		}
	}
}

// auditVerify runs `faldone audit verify` and fails unless it passes.
func auditVerify(t *testing.T, bin string, env ...string) string {
	t.Helper()
	cmd := exec.Command(bin, "audit", "verify")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK: every record") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	return string(out)
}

// TestCrashSQLite and TestCrashPostgres kill `faldone serve` with SIGKILL
// under concurrent load at a random moment, restart it, and check that
// every acknowledged document survived byte for byte and the audit passes.
func TestCrashSQLite(t *testing.T) {
	testCrash(t, "sqlite:faldone.db")
}

func TestCrashPostgres(t *testing.T) {
	testCrash(t, testenv.Postgres(t))
}

func testCrash(t *testing.T, store string, extra ...string) {
	bin := buildBinary(t)
	env := append([]string{"FALDONE_DATA=" + filepath.Join(t.TempDir(), "data"), "FALDONE_STORE=" + store}, extra...)
	var all []acked
	for round := range 2 {
		s := startServer(t, bin, env...)
		stop, first := make(chan struct{}), make(chan struct{})
		done := make(chan []acked)
		go func() { done <- load(t, []string{s.base}, 4, 1000, stop, first) }()
		select {
		case <-first:
		case <-time.After(60 * time.Second):
			t.Fatalf("round %d: no document acknowledged\n%s", round, s.logs.String())
		}
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
		s.kill()
		close(stop)
		got := <-done
		t.Logf("round %d: %d documents acknowledged before SIGKILL", round, len(got))
		all = append(all, got...)
	}
	s := startServer(t, bin, env...)
	checkAcked(t, s.base, all)
	// The service goes on after the crashes, and the log has no gap.
	all = append(all, load(t, []string{s.base}, 2, 2, nil, nil)...)
	checkAcked(t, s.base, all)
	out := auditVerify(t, bin, env...)
	t.Log(out)
	// The writes the crashes cut leave orphan PDFs: collecting them, with
	// no grace, while the service runs, removes none a record names.
	gc := exec.Command(bin, "audit", "gc", "--grace", "0s")
	gc.Env = append(os.Environ(), env...)
	if b, err := gc.CombinedOutput(); err != nil {
		t.Fatalf("audit gc: %v\n%s", err, b)
	} else {
		t.Logf("audit gc: %s", b)
	}
	checkAcked(t, s.base, all)
	auditVerify(t, bin, env...)
}

// TestTwoInstancesOnePostgres runs two `faldone serve` on one database,
// sharing one log key, under concurrent load: one gap-free log whose
// checkpoints, signed by both, are consistent.
func TestTwoInstancesOnePostgres(t *testing.T) {
	url := testenv.Postgres(t)
	bin := buildBinary(t)
	key := filepath.Join(t.TempDir(), "shared", "log.key")
	envs := [][]string{}
	for i := range 2 {
		envs = append(envs, []string{"FALDONE_DATA=" + filepath.Join(t.TempDir(), fmt.Sprint("data", i)), "FALDONE_STORE=" + url, "FALDONE_LOG_KEY=" + key})
	}
	servers := make([]*server, 2)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() { servers[i] = startServer(t, bin, envs[i]...) })
	}
	wg.Wait()
	docs := load(t, []string{servers[0].base, servers[1].base}, 6, 4, nil, nil)
	if len(docs) != 24 {
		t.Fatalf("%d documents acknowledged, want 24", len(docs))
	}
	checkAcked(t, servers[1].base, docs)
	vkey, err := ledger.LoadVerifierKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := audit.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var cps []*audit.Checkpoint
	for _, s := range servers {
		resp, err := http.Get(s.base + "/v1/audit/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		note, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cp, err := audit.Open(note, ver)
		if err != nil {
			t.Fatalf("checkpoint of %s: %v\n%s", s.base, err, note)
		}
		if cp.Size != 24 {
			t.Errorf("checkpoint size %d, want 24", cp.Size)
		}
		cps = append(cps, cp)
	}
	if !bytes.Equal(cps[0].Root, cps[1].Root) {
		t.Error("the two instances sign different roots for the same size")
	}
	out := auditVerify(t, bin, envs[0]...)
	if !strings.Contains(out, "audit verify: 24 leaves, 24 records, 24 PDFs re-hashed") {
		t.Errorf("audit verify:\n%s", out)
	}
	t.Log(out)
}

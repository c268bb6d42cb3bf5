package main_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/pdftest"
)

// buildBinary builds faldone into a temporary directory.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "faldone")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRenderFromAnyDirectory runs the binary far from the source tree: the
// templates, fonts and registry are embedded.
func TestRenderFromAnyDirectory(t *testing.T) {
	bin := buildBinary(t)
	in, err := filepath.Abs("../../samples/san-calogero/adesione.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "FALDONE_DATA="+filepath.Join(dir, "data"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("render", "--kind", "adesione", "--in", in, "--out", "draft.pdf", "--unsigned"); err != nil || !strings.Contains(out, "unsigned") {
		t.Fatalf("render --unsigned: %v\n%s", err, out)
	}
	if out, err := run("render", "--kind", "adesione", "--in", in, "--out", "sealed.pdf"); err != nil || !strings.Contains(out, "PAdES B-B") {
		t.Fatalf("render: %v\n%s", err, out)
	}
	draft, _ := os.ReadFile(filepath.Join(dir, "draft.pdf"))
	sealed, _ := os.ReadFile(filepath.Join(dir, "sealed.pdf"))
	// The draft says on every page that it is one; the sealed file does not.
	if len(draft) == 0 || !strings.Contains(pdftest.Text(t, draft), "BOZZA – documento non firmato") {
		t.Fatal("the unsigned render is not marked as a draft")
	}
	if strings.Contains(pdftest.Text(t, sealed), "BOZZA") {
		t.Fatal("the sealed file is marked as a draft")
	}
	sigs, err := pades.Inspect(sealed)
	if err != nil || len(sigs) != 1 || sigs[0].IntegrityErr != nil {
		t.Fatalf("inspect: %v %+v", err, sigs)
	}
	out, err := run("render", "--kind", "adesione", "--in", in, "--out", "x.pdf", "--production")
	if err == nil || !strings.Contains(out, "production refuses the development seal") {
		t.Fatalf("production with the dev seal: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"comune":"058091"}`), 0o600)
	out, err = run("render", "--kind", "adesione", "--in", bad, "--out", "x.pdf", "--unsigned")
	if err == nil || !strings.Contains(out, "$.comune") {
		t.Fatalf("bad input: %v\n%s", err, out)
	}
}

// TestServe starts the binary, creates a document and downloads it.
func TestServe(t *testing.T) {
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	out, err := exec.Command(bin, "keys", "create", "--data", filepath.Join(dir, "data"), "--role", "staff", "--name", "ufficio").Output()
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", filepath.Join(dir, "data"), "--log-format", "json")
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	body, _ := os.ReadFile("../../samples/suvereto/adesione.json")
	resp, err := http.Post(base+"/v1/documents/adesione", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("create without a key: %d", resp.StatusCode)
	}
	send := func(method, path, ctype string, body []byte) *http.Response {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp = send("POST", "/v1/documents/adesione", "application/json", body)
	var doc struct {
		ID, SHA256 string
		Links      map[string]string
		Seal       struct{ Level string }
	}
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != 201 || doc.Seal.Level != "B-B" {
		t.Fatalf("create: %d %+v\n%s", resp.StatusCode, doc, logs.String())
	}
	resp = send("GET", doc.Links["pdf"], "", nil)
	var pdf bytes.Buffer
	pdf.ReadFrom(resp.Body)
	resp.Body.Close()
	if got := fmt.Sprintf("%x", sha256.Sum256(pdf.Bytes())); got != doc.SHA256 {
		t.Fatalf("downloaded PDF sha256 %s, announced %s", got, doc.SHA256)
	}
	if strings.Contains(logs.String(), key) || strings.Contains(logs.String(), key[3:15]) {
		t.Errorf("the logs hold the key")
	}
	if !strings.Contains(logs.String(), `"request_id"`) {
		t.Errorf("the logs name no request:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "NOT VALID FOR PRODUCTION") {
		t.Errorf("the first start does not announce the development seal:\n%s", logs.String())
	}
}

// lockedBuffer collects a child process's output; the copying goroutines of
// os/exec write while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestKeysCommand creates, lists and revokes keys in the store serve uses.
func TestKeysCommand(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, append([]string{"keys"}, args...)...)
		cmd.Env = append(os.Environ(), "FALDONE_DATA="+filepath.Join(dir, "data"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	key, msg, err := run("create", "--role", "comune", "--comune", "037034", "--name", "Comune di Loiano")
	if err != nil || !regexp.MustCompile(`^fk_[A-Za-z0-9_-]{43}\n$`).MatchString(key) || !strings.Contains(msg, "only this once") {
		t.Fatalf("create: %v %q %q", err, key, msg)
	}
	id := regexp.MustCompile(`created key ([a-z2-7]+) `).FindStringSubmatch(msg)
	if id == nil {
		t.Fatalf("no id in %q", msg)
	}
	for _, bad := range [][]string{
		{"create", "--role", "comune", "--name", "x"},
		{"create", "--role", "staff", "--comune", "037034", "--name", "x"},
		{"create", "--role", "root", "--name", "x"},
		{"create", "--role", "staff"},
		{"revoke", "nosuchkey"},
		{"rotate"},
	} {
		if out, msg, err := run(bad...); err == nil || out != "" || msg == "" {
			t.Errorf("%v: %v %q %q", bad, err, out, msg)
		}
	}
	out, _, err := run("list")
	if err != nil || !strings.Contains(out, id[1]) || !strings.Contains(out, "037034") || strings.Contains(out, strings.TrimSpace(key)) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, _, err := run("revoke", id[1]); err != nil {
		t.Fatal(err)
	}
	out, _, _ = run("list")
	fields := strings.Fields(strings.Split(out, "\n")[1])
	if len(fields) < 7 || fields[len(fields)-1] == "-" {
		t.Fatalf("not revoked:\n%s", out)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "data", "faldone.db")); err != nil || bytes.Contains(data, []byte(strings.TrimSpace(key))) {
		t.Errorf("the database holds the key (%v)", err)
	}
}

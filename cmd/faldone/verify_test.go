package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"faldone/internal/audit"
	"faldone/internal/auth"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/templates"
)

// apiWithLog is the API as serve wires it, plus the audit log the
// integration adds: a TreeLog over the SQLite archive whose checkpoints
// carry a fixed time, so that two proofs of the same tree are the same.
func apiWithLog(t *testing.T) *fhttp.Server {
	t.Helper()
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	archive, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { archive.Close() })
	key, _, err := keys.DevSeal(filepath.Join(dir, "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := audit.NewKey("faldone.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	anchors := &verify.Anchors{}
	anchors.Add(key.Chain[len(key.Chain)-1], "service")
	log := &verify.TreeLog{Store: archive, Signer: signer, VKey: vkey, Now: func() time.Time { return at }}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ks := &auth.Service{Store: archive, Comuni: reg}
	staff, _, err := ks.Create(context.Background(), "verify test", auth.RoleStaff, "")
	if err != nil {
		t.Fatal(err)
	}
	s := fhttp.New(fhttp.Config{
		Templates: set, Version: "test", Logger: quiet, Keys: ks,
		Documents: &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: "test"}, Archive: archive, Sealer: &seal.Sealer{Key: key, Logger: quiet}},
		Verifier:  &verify.Verifier{Anchors: anchors, Archive: archive, Log: log, Messages: set},
	})
	apiKeys.Store(s, staff)
	return s
}

// apiKeys holds the staff key of each server apiWithLog made.
var apiKeys sync.Map

func call(t *testing.T, s *fhttp.Server, method, path, ctype string, body []byte) []byte {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if k, ok := apiKeys.Load(s); ok {
		req.Header.Set("Authorization", "Bearer "+k.(string))
	}
	resp, err := s.App().Test(req, 60_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return b
}

// comparable decodes a JSON report without what may differ between the
// API and the offline command: the time of the check, and where each trust
// anchor was configured ("service" online, "evidence" offline).
func comparable(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	delete(m, "checked")
	for _, a := range m["trust_anchors"].([]any) {
		delete(a.(map[string]any), "source")
	}
	// Trust is decided at the time of each verification, where the anchor
	// was configured differs.
	for _, s := range m["signatures"].([]any) {
		sig := s.(map[string]any)
		delete(sig, "trust_time")
		if id, ok := sig["identity"].(map[string]any); ok {
			delete(id, "trust_time")
			delete(id, "anchor")
		}
	}
	return m
}

// TestVerifyOffline verifies with the binary, from an evidence bundle the
// API exported, and expects the API's report.
func TestVerifyOffline(t *testing.T) {
	bin := buildBinary(t)
	s := apiWithLog(t)
	var doc struct{ ID string }
	json.Unmarshal(call(t, s, "POST", "/v1/documents/adesione", "application/json", mustRead(t, "../../samples/loiano/adesione.json")), &doc)
	call(t, s, "POST", "/v1/documents/adesione", "application/json", mustRead(t, "../../samples/banari/adesione.json"))
	pdf := call(t, s, "GET", "/v1/documents/"+doc.ID+"/pdf", "", nil)
	dir := t.TempDir()
	file, bundle := filepath.Join(dir, "adesione.pdf"), filepath.Join(dir, "evidence.json")
	os.WriteFile(file, pdf, 0o600)
	os.WriteFile(bundle, call(t, s, "GET", "/v1/documents/"+doc.ID+"/evidence", "", nil), 0o600)

	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"verify"}, args...)...)
		cmd.Env = append(os.Environ(), "http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9") // no network
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}

	t.Run("same report as the API", func(t *testing.T) {
		api := call(t, s, "POST", "/v1/verify?lang=en", "application/pdf", pdf)
		out, errOut, code := run(file, "--bundle", bundle, "--lang", "en", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		got, want := comparable(t, []byte(out)), comparable(t, api)
		if got["valid"] != true || !reflect.DeepEqual(got, want) {
			t.Fatalf("offline report\n%s\ndiffers from the API's\n%s", out, api)
		}
	})
	t.Run("human summary", func(t *testing.T) {
		out, errOut, code := run("--lang", "it", file, "--bundle", bundle)
		if code != 0 {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		for _, want := range []string{": VALID", "Valido", "faldone development seal", "document " + doc.ID + " version 1", "comune 037034", "inclusion  proved: leaf 0 of a tree of 2"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("tampered", func(t *testing.T) {
		bad := bytes.Clone(pdf)
		bad[bytes.Index(bad, []byte("stream\n"))+20] ^= 1
		tampered := filepath.Join(dir, "tampered.pdf")
		os.WriteFile(tampered, bad, 0o600)
		out, _, code := run(tampered, "--bundle", bundle, "--lang", "en")
		if code != 1 || !strings.Contains(out, "NOT VALID") || !strings.Contains(out, "content_modified") || !strings.Contains(out, "not_archived") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("countersigned with the comune's CA", func(t *testing.T) {
		comune := pdftest.NewPKI(t, "Comune di Loiano")
		signed := filepath.Join(dir, "firmato.pdf")
		os.WriteFile(signed, pdftest.Countersign(t, pdf, comune), 0o600)
		if out, _, code := run(signed, "--bundle", bundle, "--json"); code != 1 || !strings.Contains(out, `"untrusted_signer"`) {
			t.Fatalf("without --trust: exit %d\n%s", code, out)
		}
		out, _, code := run(signed, "--bundle", bundle, "--trust", comune.CAFile, "--lang", "en")
		if code != 0 || !strings.Contains(out, "revision 2 (the first") || !strings.Contains(out, "Comune di Loiano") {
			t.Fatalf("with --trust: exit %d\n%s", code, out)
		}
	})
	t.Run("wrong pinned log key", func(t *testing.T) {
		_, other, _ := audit.NewKey("other.test/log")
		out, _, code := run(file, "--bundle", bundle, "--log-key", other, "--json")
		if code != 1 || !strings.Contains(out, `"checkpoint_invalid"`) {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
	t.Run("without a bundle", func(t *testing.T) {
		out, _, code := run(file, "--lang", "en")
		if code != 1 || !strings.Contains(out, "archive_unavailable") || !strings.Contains(out, "untrusted_signer") {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
	t.Run("usage and unreadable", func(t *testing.T) {
		garbage := filepath.Join(dir, "garbage.pdf")
		os.WriteFile(garbage, []byte("not a pdf"), 0o600)
		for name, args := range map[string][]string{
			"no file":        {},
			"two files":      {file, file},
			"missing file":   {filepath.Join(dir, "nope.pdf")},
			"not a pdf":      {garbage},
			"bad language":   {file, "--lang", "fr"},
			"bad bundle":     {file, "--bundle", garbage},
			"log key alone":  {file, "--log-key", "x"},
			"unknown flag":   {file, "--nope"},
			"trust not pem":  {file, "--trust", garbage},
			"missing bundle": {file, "--bundle", filepath.Join(dir, "nope.json")},
		} {
			_, errOut, code := run(args...)
			if code != 2 || errOut == "" {
				t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
			}
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyHostileCorpus runs faldone verify --bundle on every forgery
// of the hostile corpus: each is NOT VALID, exit status 1, with its reason.
func TestVerifyHostileCorpus(t *testing.T) {
	bin := buildBinary(t)
	s := apiWithLog(t)
	var doc struct{ ID string }
	json.Unmarshal(call(t, s, "POST", "/v1/documents/adesione", "application/json", mustRead(t, "../../samples/loiano/adesione.json")), &doc)
	pdf := call(t, s, "GET", "/v1/documents/"+doc.ID+"/pdf", "", nil)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "evidence.json")
	os.WriteFile(bundle, call(t, s, "GET", "/v1/documents/"+doc.ID+"/evidence", "", nil), 0o600)
	for i, a := range pdftest.Attacks(t, pdf) {
		file := filepath.Join(dir, fmt.Sprintf("forged-%d.pdf", i))
		os.WriteFile(file, a.PDF, 0o600)
		out, err := exec.Command(bin, "verify", file, "--bundle", bundle, "--json").Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%s: %v, want exit status 1", a.Name, err)
			continue
		}
		var r struct {
			Valid   bool
			Reasons []struct{ Code string }
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: %v: %s", a.Name, err, out)
		}
		if r.Valid || !slices.ContainsFunc(r.Reasons, func(x struct{ Code string }) bool { return slices.Contains(a.Reasons, x.Code) }) {
			t.Errorf("%s: valid %v, reasons %+v, want one of %v", a.Name, r.Valid, r.Reasons, a.Reasons)
		}
	}
}

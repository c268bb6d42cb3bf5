package main_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/trust/trusttest"
)

// TestVerifyWithTrustedList: faldone verify trusts a comune's signer
// through a Trusted List and shows who signed.
func TestVerifyWithTrustedList(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	sealed := filepath.Join(dir, "adesione.pdf")
	render := exec.Command(bin, "render", "--kind", "adesione", "--in", "../../samples/suvereto/adesione.json", "--out", sealed, "--data", filepath.Join(dir, "data"))
	if out, err := render.CombinedOutput(); err != nil {
		t.Fatalf("render: %v %s", err, out)
	}
	comune := pdftest.NewPKIWith(t, "Lucia Verdi", pdftest.PKIOptions{SerialNumber: "TINIT-VRDLCU75C41G702K", Qualified: true})
	signed, _, err := pades.Sign(context.Background(), mustRead(t, sealed), pades.Options{Signer: comune.Key, Chain: []*x509.Certificate{comune.Leaf, comune.CA}, FieldName: "FirmaComune"})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "firmato.pdf")
	os.WriteFile(file, signed, 0o600)
	list, signer := trusttest.Files(t, comune.CA, time.Now().Add(24*time.Hour))
	out, _ := exec.Command(bin, "verify", file, "--lang", "en", "--trusted-list", list, "--trusted-list-signer", signer).Output()
	for _, want := range []string{"trusted list trusted-list:" + list + ": 1 anchors, IT, sequence 42, next update ", "serial no. TINIT-VRDLCU75C41G702K", "qualified  yes (QCStatements), esign, key in a QSCD; issued by a qualified service of the Trusted List",
		"trusted    yes, via CN=Lucia Verdi CA,O=Lucia Verdi, trusted-list:" + list + ", at the time of this verification"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _ = exec.Command(bin, "verify", file, "--lang", "en").Output()
	if !strings.Contains(string(out), "trusted    no, at the time of this verification") {
		t.Errorf("without the list:\n%s", out)
	}
}

// TestServeWithTrustedList: faldone serve loads a signed Trusted List from
// its settings and says so; a tampered one stops it at start.
func TestServeWithTrustedList(t *testing.T) {
	bin := buildBinary(t)
	comune := pdftest.NewPKI(t, "Comune di Suvereto")
	list, signer := trusttest.Files(t, comune.CA, time.Now().Add(24*time.Hour))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", filepath.Join(t.TempDir(), "data"), "--log-format", "json")
	cmd.Env = append(os.Environ(), "FALDONE_TRUSTED_LIST="+list, "FALDONE_TRUSTED_LIST_SIGNER="+signer)
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"trusted-list:`+list+`":1`) {
		t.Errorf("the anchors logged at start lack the list:\n%s", logs.String())
	}

	data, _ := os.ReadFile(list)
	tampered := filepath.Join(t.TempDir(), "tampered.xml")
	os.WriteFile(tampered, bytes.Replace(data, []byte("Test QTSP"), []byte("Evil QTSP"), 1), 0o600)
	// In the user's words; FALDONE_DEBUG=1 adds the library's cause.
	bad := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"),
		"--trusted-list", tampered, "--trusted-list-signer", signer)
	bad.Env = append(os.Environ(), "LANG=C", "FALDONE_LANG=", "LC_ALL=", "FALDONE_DEBUG=1")
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is not a readable Trusted List signed by the given signer") || !strings.Contains(string(out), "xml signature") {
		t.Fatalf("tampered list: %v\n%s", err, out)
	}
}

package main_test

import (
	"context"
	"crypto/x509"
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
	for _, want := range []string{"serial no. TINIT-VRDLCU75C41G702K", "qualified  yes (QCStatements), esign, key in a QSCD; issued by a qualified service of the Trusted List",
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

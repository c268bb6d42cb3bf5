package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDossierExportAndVerify exports the package of an archived dossier
// with faldone dossier export and checks it with faldone dossier verify,
// then damages a byte of the package and expects verify to refuse it with
// exit status 1.
func TestDossierExportAndVerify(t *testing.T) {
	bin := buildBinary(t)
	c := buildChain(t, t.TempDir(), "sqlite:faldone.db")
	out := filepath.Join(t.TempDir(), "banari.zip")
	msg, code := c.run(t, bin, "dossier", "export", "--comune", "090007", "--out", out)
	if code != 0 || !strings.Contains(msg, "4 documents, 5 versions, 24 files") {
		t.Fatalf("export: exit %d\n%s", code, msg)
	}
	key := filepath.Join(c.data, "keys", "log.key")
	msg, code = c.run(t, bin, "dossier", "verify", out, "--log-key", key)
	if code != 0 || !strings.HasPrefix(msg, "VALID: 5 versions") {
		t.Fatalf("verify: exit %d\n%s", code, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The stored bytes of the first entry, a PDF, begin after its 30-byte
	// local header and name: flip one of them.
	i := bytes.Index(b, []byte(".pdf")) + 4 + 64
	b[i] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.zip")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	msg, code = c.run(t, bin, "dossier", "verify", bad, "--log-key", key)
	if code != 1 || !strings.Contains(msg, "NOT VALID") && !strings.Contains(msg, "cannot be read") {
		t.Fatalf("a damaged package: exit %d\n%s", code, msg)
	}
	if msg, code := c.run(t, bin, "dossier", "export", "--comune", "999999"); code == 0 {
		t.Fatalf("export of an unknown comune: exit 0\n%s", msg)
	}
}

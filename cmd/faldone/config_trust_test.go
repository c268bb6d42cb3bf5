package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"faldone/internal/pdftest"
	"faldone/internal/trust/trusttest"
	"faldone/internal/verify"
)

// TestTrustedListSettings: --trusted-list and --trusted-list-signer (and
// their environment variables) load a signed list; a tampered list is
// refused, a stale one too in production.
func TestTrustedListSettings(t *testing.T) {
	comune := pdftest.NewPKI(t, "Comune di Suvereto")
	list, signer := trusttest.Files(t, comune.CA, time.Now().Add(24*time.Hour))
	t.Setenv("FALDONE_TRUSTED_LIST", list)
	t.Setenv("FALDONE_TRUSTED_LIST_SIGNER", signer)
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.bind(fs)
	if err := fs.Parse(nil); err != nil || cfg.TrustedList != list || cfg.TrustedListSigner != signer {
		t.Fatalf("settings from the environment: %v %+v", err, cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.TrustedListSigner = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "trusted-list-signer") {
		t.Errorf("a list without its signer: %v", err)
	}

	anchors := &verify.Anchors{}
	if err := addAnchors(anchors, "", list, signer, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if l := anchors.List(); len(l) != 1 || l[0].Source != "trusted-list:"+list || l[0].Service == nil {
		t.Errorf("anchors %+v", l)
	}
	if err := addAnchors(&verify.Anchors{}, "", list, signer, true, time.Now().Add(48*time.Hour)); err == nil || !strings.Contains(err.Error(), "next update") {
		t.Errorf("stale list in production: %v", err)
	}
	if err := addAnchors(&verify.Anchors{}, "", list, signer, false, time.Now().Add(48*time.Hour)); err != nil {
		t.Errorf("stale list in development: %v", err)
	}
	data, _ := os.ReadFile(list)
	tampered := filepath.Join(t.TempDir(), "tampered.xml")
	os.WriteFile(tampered, bytes.Replace(data, []byte("Test QTSP"), []byte("Evil QTSP"), 1), 0o600)
	if err := addAnchors(&verify.Anchors{}, "", tampered, signer, false, time.Now()); err == nil || !strings.Contains(err.Error(), "xml signature") {
		t.Errorf("tampered list: %v", err)
	}
}

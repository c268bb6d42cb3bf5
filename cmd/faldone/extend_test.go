package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/tmpl/tmpltest"
)

// TestAuditExtend: documents sealed at B-T get, from faldone audit
// extend, a new version (Integrazione) at B-LTA whose newest time-stamp
// is fresh, when their newest time-stamp certificate expires within the
// window, and none otherwise.
func TestAuditExtend(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	url, chain := testenv.StartTSA(t)
	set := tmpltest.Set(t)
	archive, err := sqlite.Open(ctx, filepath.Join(data, "faldone.db"), filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.DevSeal(filepath.Join(data, "keys"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc := &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: faldone.Version}, Archive: archive,
		Sealer: &seal.Sealer{Key: key, TSA: &pades.TSA{URL: url, Timeout: 10 * time.Second}, Logger: slog.New(slog.DiscardHandler)}}
	var ids []string
	for _, kind := range []string{"assessment", "adesione"} {
		body, err := os.ReadFile(filepath.Join("..", "..", "samples", "banari", kind+".json"))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := svc.Create(ctx, faldone.Kind(kind), body, "it", "test")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Seal.Level != pades.LevelBT {
			t.Fatalf("%s sealed at %s", kind, rec.Seal.Level)
		}
		ids = append(ids, rec.ID)
	}
	archive.Close()
	chainFile := filepath.Join(t.TempDir(), "tsa.pem")
	var b bytes.Buffer
	for _, c := range chain {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if err := os.WriteFile(chainFile, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(window string) string {
		var out bytes.Buffer
		if err := auditExtend([]string{"--data", data, "--store", "sqlite:faldone.db", "--tsa-url", url, "--tsa-chain", chainFile, "--window", window}, &out); err != nil {
			t.Fatalf("audit extend: %v\n%s", err, out.String())
		}
		return out.String()
	}
	// the TSA's certificate expires long after now: only a wide window
	// extends
	if out := run("1h"); !strings.Contains(out, "2 sealed documents checked, 0 extended") {
		t.Fatalf("narrow window:\n%s", out)
	}
	left := time.Until(chain[0].NotAfter) + 24*time.Hour
	if out := run(left.String()); !strings.Contains(out, "2 sealed documents checked, 2 extended") || strings.Count(out, "EXTENDED:") != 2 {
		t.Fatalf("wide window:\n%s", out)
	}
	archive, err = sqlite.Open(ctx, filepath.Join(data, "faldone.db"), filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	for _, id := range ids {
		rec, err := archive.Latest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Version != 2 || rec.Reason != faldone.ChangeIntegrazione || rec.Seal.Level != pades.LevelBLTA || rec.Seal.ArchiveTimestampTime == nil {
			t.Fatalf("extended record %+v", rec)
		}
		pdf, err := archive.PDF(ctx, rec.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		prev, _ := archive.Version(ctx, id, 1)
		old, _ := archive.PDF(ctx, prev.SHA256)
		if !bytes.HasPrefix(pdf, old) {
			t.Fatal("the new version does not extend the previous one")
		}
		sigs, err := pades.Inspect(pdf)
		if err != nil || len(sigs) != 2 || sigs[0].Level != pades.LevelBLTA || sigs[1].SubFilter != pades.SubFilterDocTimestamp {
			t.Fatalf("signatures %v %+v", err, sigs)
		}
		if a, err := pades.Analyse(pdf); err != nil || !a.OK() {
			t.Fatalf("analysis %v %+v", err, a)
		}
	}
}

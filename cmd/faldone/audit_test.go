package main_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"faldone/internal/audit"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/ledger"
	"faldone/internal/pdftest"
	"faldone/internal/postgres"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/tmpl/tmpltest"
)

// chain is an archive holding Banari's workflow: assessment (leaf 0),
// adesione (1), piano (2), approvazione (3) and the adesione countersigned
// by the comune (4), with a signed checkpoint after each.
type chain struct {
	data, store string
	ids         map[string]string
	recs        []*faldone.Record
	notes       [][]byte
}

// buildChain archives the chain in the store (sqlite:... or a postgres URL)
// under data, with the log key at data/keys/log.key.
func buildChain(t *testing.T, data, store string) *chain {
	t.Helper()
	ctx := context.Background()
	set := tmpltest.Set(t)
	set.Version = faldone.Version
	var err error
	var archive interface {
		faldone.Archive
		ledger.Store
	}
	if path, ok := strings.CutPrefix(store, "sqlite:"); ok {
		archive, err = sqlite.Open(ctx, filepath.Join(data, path), filepath.Join(data, "blobs"))
	} else {
		archive, err = postgres.Open(ctx, store)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	key, _, err := keys.DevSeal(filepath.Join(data, "keys"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	skey, _, err := ledger.LoadKey(filepath.Join(data, "keys", "log.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(archive, skey, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: faldone.Version}, Archive: archive,
		Sealer: &seal.Sealer{Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	c := &chain{data: data, store: store, ids: map[string]string{}}
	add := func(rec *faldone.Record) {
		c.recs = append(c.recs, rec)
		s, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c.notes = append(c.notes, s.Note)
	}
	for _, kind := range []string{"assessment", "adesione", "piano", "approvazione"} {
		var m map[string]any
		b, err := os.ReadFile(filepath.Join("..", "..", "samples", "banari", kind+".json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, &m)
		switch kind {
		case "piano":
			m["assessment"] = c.ids["assessment"]
		case "approvazione":
			m["piano"] = c.ids["piano"]
		}
		body, _ := json.Marshal(m)
		rec, err := svc.Create(ctx, faldone.Kind(kind), body, "it", "test")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		c.ids[kind] = rec.ID
		add(rec)
	}
	_, sealed, err := svc.PDF(ctx, c.ids["adesione"], 1)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := svc.ReturnSigned(ctx, c.ids["adesione"], pdftest.Countersign(t, sealed, pdftest.NewPKI(t, "Comune di Banari")), "it", "comune")
	if err != nil {
		t.Fatal(err)
	}
	add(rec)
	return c
}

// run runs the binary against the chain's archive and returns its output
// and exit status.
func (c *chain) run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FALDONE_DATA="+c.data, "FALDONE_STORE="+c.store)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// attacker edits the database directly, as someone with access to it
// would: dropping the append-only triggers first.
type attacker struct {
	exec func(q string, args ...any)
	blob func(sum string, f func([]byte) []byte)
}

func sqliteAttacker(t *testing.T, c *chain) *attacker {
	db, err := sql.Open("sqlite", filepath.Join(c.data, strings.TrimPrefix(c.store, "sqlite:")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := &attacker{
		exec: func(q string, args ...any) {
			t.Helper()
			if _, err := db.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
	}
	a.blob = func(sum string, f func([]byte) []byte) {
		t.Helper()
		var b []byte
		if err := db.QueryRow(`SELECT data FROM blobs WHERE sha256 = ?`, sum).Scan(&b); err != nil {
			t.Fatal(err)
		}
		a.exec(`UPDATE blobs SET data = ? WHERE sha256 = ?`, f(b), sum)
	}
	for _, tr := range []string{"records_no_update", "records_no_delete", "blobs_no_update"} {
		a.exec("DROP TRIGGER " + tr)
	}
	return a
}

func postgresAttacker(t *testing.T, c *chain) *attacker {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	a := &attacker{exec: func(q string, args ...any) {
		t.Helper()
		n := 0
		q = regexp.MustCompile(`\?`).ReplaceAllStringFunc(q, func(string) string { n++; return fmt.Sprintf("$%d", n) })
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}}
	a.blob = func(sum string, f func([]byte) []byte) {
		t.Helper()
		var b []byte
		if err := conn.QueryRow(ctx, `SELECT data FROM blobs WHERE sha256 = $1`, sum).Scan(&b); err != nil {
			t.Fatal(err)
		}
		a.exec(`UPDATE blobs SET data = ? WHERE sha256 = ?`, f(b), sum)
	}
	for _, tr := range []string{"records_append_only", "blobs_append_only"} {
		table := strings.TrimSuffix(tr, "_append_only")
		a.exec("DROP TRIGGER " + tr + " ON " + table)
	}
	return a
}

// TestAuditVerifySQLite and TestAuditVerifyPostgres tamper with an
// archive in every way an insider could and expect audit verify to name
// each change precisely, and audit rerender to reproduce the sealed files.
func TestAuditVerifySQLite(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	c := buildChain(t, data, "sqlite:faldone.db")
	testTampering(t, bin, c, func() *attacker { return sqliteAttacker(t, c) })
}

func TestAuditVerifyPostgres(t *testing.T) {
	url := testenv.Postgres(t)
	bin := buildBinary(t)
	c := buildChain(t, t.TempDir(), url)
	testTampering(t, bin, c, func() *attacker { return postgresAttacker(t, c) })
}

func testTampering(t *testing.T, bin string, c *chain, newAttacker func() *attacker) {
	out, code := c.run(t, bin, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit verify: 5 leaves, 5 records, 5 PDFs re-hashed, 5 checkpoints verified") || !strings.Contains(out, "OK") {
		t.Fatalf("clean archive: exit %d\n%s", code, out)
	}
	for _, tc := range []struct{ id, version string }{{c.ids["piano"], ""}, {c.ids["approvazione"], "1"}, {c.ids["adesione"], "2"}, {c.ids["assessment"], "1"}} {
		args := []string{"audit", "rerender", "--id", tc.id}
		if tc.version != "" {
			args = append(args, "--version", tc.version)
		}
		out, code := c.run(t, bin, args...)
		if code != 0 || !strings.HasPrefix(out, "OK: document "+tc.id) || !strings.Contains(out, "byte for byte the first revision") {
			t.Fatalf("rerender %s: exit %d\n%s", tc.id, code, out)
		}
	}
	if out, code := c.run(t, bin, "audit", "rerender", "--id", "aaaaaaaaaaaaaaaaaaaaaaaaaa"); code != 2 || !strings.Contains(out, "no document aaaaaaaaaaaaaaaaaaaaaaaaaa") {
		t.Errorf("rerender of an unknown id: exit %d\n%s", code, out)
	}

	att := newAttacker()
	step := func(name string, want ...string) {
		t.Helper()
		out, code := c.run(t, bin, "audit", "verify")
		if code != 1 || !strings.Contains(out, "FAILED") {
			t.Fatalf("%s: exit %d\n%s", name, code, out)
		}
		t.Logf("%s:\n%s", name, out)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the output lacks %q:\n%s", name, w, out)
			}
		}
	}

	// 1. One byte of the adesione's PDF changes.
	ad := c.recs[1]
	att.blob(ad.SHA256, func(b []byte) []byte { b[len(b)/2] ^= 0x20; return b })
	step("changed PDF byte", fmt.Sprintf("pdf-changed leaf 1: document %s version 1: the stored PDF does not hash to the archived SHA-256 (expected %s, got ", ad.ID, ad.SHA256))

	// 2. The archived input of the piano is edited.
	piano := c.recs[2]
	edited := *piano
	edited.Input = bytes.Replace(piano.Input, []byte("pagoPA"), []byte("pagoPB"), 1)
	if bytes.Equal(edited.Input, piano.Input) {
		t.Fatal("the piano's input lacks the text to edit")
	}
	att.exec(`UPDATE records SET body = ? WHERE leaf_index = 2`, faldone.CanonicalRecord(&edited))
	leaf2 := fmt.Sprintf("%x", audit.LeafHash(faldone.CanonicalRecord(piano)))
	step("edited row",
		fmt.Sprintf("leaf-changed leaf 2: document %s version 1: record hash differs from the stored leaf; the stored tree agrees with the stored leaf, so the record changed after it was logged (expected %s, got ", piano.ID, leaf2),
		"checkpoint-root-mismatch checkpoint #2: size 3: root differs from the tree rebuilt from the records; it matches the stored leaves, so records changed after logging")
	if out, code := c.run(t, bin, "audit", "rerender", "--id", piano.ID); code != 1 || !strings.Contains(out, "DIFFERS: document "+piano.ID+" version 1") {
		t.Errorf("rerender of the edited piano: exit %d\n%s", code, out)
	}

	// 3. Two records swap their leaves.
	att.exec(`UPDATE records SET leaf_index = 1000 WHERE leaf_index = 0`)
	att.exec(`UPDATE records SET leaf_index = 0 WHERE leaf_index = 3`)
	att.exec(`UPDATE records SET leaf_index = 3 WHERE leaf_index = 1000`)
	step("swapped leaves",
		fmt.Sprintf("leaf-reordered leaf 0: document %s version 1: record at leaf 0 has the hash of stored leaf 3", c.ids["approvazione"]),
		fmt.Sprintf("leaf-reordered leaf 3: document %s version 1: record at leaf 3 has the hash of stored leaf 0", c.ids["assessment"]))

	// 4. The first version of the adesione is deleted.
	att.exec(`DELETE FROM records WHERE leaf_index = 1`)
	step("deleted row",
		"leaf-missing leaf 1: no record for this leaf: a record was deleted",
		fmt.Sprintf("version-missing leaf 4: document %s: version 1 is missing (a record was deleted); version 2 is at leaf 4", ad.ID))

	// 5. Forged checkpoints: an altered root under the log's signature, a
	// note signed by another key, and a well-signed lie by a key holder.
	last := string(c.notes[4])
	lines := strings.SplitN(last, "\n", 4)
	root, _ := base64.StdEncoding.DecodeString(lines[2])
	root[0] ^= 1
	lines[2] = base64.StdEncoding.EncodeToString(root)
	insertCheckpoint(t, att, c, 5, []byte(strings.Join(lines, "\n")))
	otherKey, _, _ := audit.NewKey(ledger.KeyName)
	other, _ := audit.NewSigner(otherKey)
	forged, _ := audit.Sign(&audit.Checkpoint{Origin: ledger.KeyName, Size: 5, Root: root, Time: time.Now()}, other)
	insertCheckpoint(t, att, c, 5, forged)
	skey, _, _ := ledger.LoadKey(filepath.Join(c.data, "keys", "log.key"), false)
	own, _ := audit.NewSigner(skey)
	lie, _ := audit.Sign(&audit.Checkpoint{Origin: ledger.KeyName, Size: 5, Root: root, Time: time.Now()}, own)
	insertCheckpoint(t, att, c, 5, lie)
	step("forged checkpoints",
		"checkpoint-bad-signature checkpoint #5: open checkpoint: checkpoint signature does not verify",
		"checkpoint-unknown-key checkpoint #6: open checkpoint: checkpoint not signed by the log key",
		"checkpoint-root-mismatch checkpoint #7: size 5: root differs from the tree rebuilt from the records (expected ")
}

func insertCheckpoint(t *testing.T, att *attacker, c *chain, size int, note []byte) {
	t.Helper()
	if strings.HasPrefix(c.store, "sqlite:") {
		att.exec(`INSERT INTO checkpoints (size, note, created) VALUES (?, ?, ?)`, size, note, time.Now().UTC().Format(time.RFC3339Nano))
	} else {
		att.exec(`INSERT INTO checkpoints (size, note) VALUES (?, ?)`, size, note)
	}
}

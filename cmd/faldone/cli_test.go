package main_test

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runCLI runs the binary with env added and returns stdout, stderr and
// the exit status.
func runCLI(t *testing.T, bin, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FALDONE_LANG=", "LC_ALL=", "LC_MESSAGES=", "LANG=C")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// TestCLIConvention: every command answers --help on stdout with status
// 0; usage errors exit 2 with the message on stderr in the user's
// language and a pointer to the help; a failure of the store exits 3; a
// negative verdict or audit findings exit 1 (see audit_test.go and
// verify_test.go).
func TestCLIConvention(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	for _, cmd := range []string{"serve", "demo", "render", "verify", "audit", "keys", "dossier", "batch", "webhooks", "health", "openapi"} {
		out, errOut, code := runCLI(t, bin, dir, nil, cmd, "--help")
		if code != 0 || !strings.Contains(out, "faldone "+cmd) || errOut != "" {
			t.Errorf("faldone %s --help: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
		if out2, _, code := runCLI(t, bin, dir, nil, "help", cmd); code != 0 || out2 != out {
			t.Errorf("faldone help %s: exit %d, differs from --help", cmd, code)
		}
	}
	if out, _, code := runCLI(t, bin, dir, nil, "help"); code != 0 || !strings.Contains(out, "Exit status") {
		t.Errorf("faldone help: exit %d\n%s", code, out)
	}

	usage := []struct {
		args []string
		lang string
		want string
	}{
		{[]string{"bogus"}, "it_IT.UTF-8", `uso non corretto: comando sconosciuto "bogus"`},
		{[]string{}, "", "Usage:"},
		{[]string{"audit"}, "de_DE.UTF-8", "falscher Aufruf: audit braucht verify | rerender"},
		{[]string{"keys"}, "", "usage error: keys needs create | list | revoke"},
		{[]string{"render", "--kind", "adesione"}, "it_IT.UTF-8", "render richiede --kind, --in, --out"},
		{[]string{"render", "--nope"}, "", "bad flag: unknown flag --nope"},
		{[]string{"verify", "a.pdf", "b.pdf"}, "de_DE.UTF-8", "genau eine PDF-Datei angeben"},
		{[]string{"verify", "missing.pdf"}, "it_IT.UTF-8", "impossibile leggere missing.pdf"},
		{[]string{"audit", "rerender", "--data", "."}, "", "audit rerender needs --id"},
		{[]string{"keys", "create", "--data", "d", "--role", "nobody", "--name", "x"}, "it_IT.UTF-8", "uso non corretto"},
		{[]string{"serve", "--store", "mysql:x"}, "", "check the settings: "},
		{[]string{"demo", "--seal", "pem:a,b"}, "", "demo fills only a development instance"},
	}
	for _, u := range usage {
		_, errOut, code := runCLI(t, bin, dir, []string{"LANG=" + u.lang}, u.args...)
		if code != 2 || !strings.Contains(errOut, u.want) {
			t.Errorf("faldone %s (LANG=%s): exit %d, stderr %q, want 2 and %q", strings.Join(u.args, " "), u.lang, code, errOut, u.want)
		}
	}

	// A store that cannot be reached is a failure: 3.
	_, errOut, code := runCLI(t, bin, dir, []string{"LANG=it_IT.UTF-8"}, "keys", "list", "--store", "postgres://faldone@127.0.0.1:1/none")
	if code != 3 || !strings.Contains(errOut, "errore del servizio o dell'archivio") {
		t.Errorf("keys list on a closed port: exit %d, stderr %q", code, errOut)
	}
	_, _, code = runCLI(t, bin, dir, nil, "health", "--addr", "127.0.0.1:1")
	if code != 3 {
		t.Errorf("health of no server: exit %d, want 3", code)
	}
}

// TestDemo fills a fresh instance: every comune of the samples gets one
// document of every kind of the templates, each citing the one before it,
// and a key; a second run refuses the filled instance.
func TestDemo(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	out, errOut, code := runCLI(t, bin, dir, nil, "demo", "--json", "--data", filepath.Join(dir, "data"))
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, errOut)
	}
	var res struct {
		Keys   []struct{ Role, Key string }
		Comuni []struct {
			ISTAT, Name, Key string
			Documents        []struct{ Kind, ID, Cites, State, PDF string }
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	kindsOut, _, _ := runCLI(t, bin, dir, nil, "openapi")
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(kindsOut), &doc); err != nil {
		t.Fatal(err)
	}
	kinds := 0
	for p := range doc.Paths {
		if strings.HasPrefix(p, "/v1/documents/") && !strings.Contains(p, "{") {
			kinds++
		}
	}
	if len(res.Comuni) != 5 || len(res.Keys) != 8 {
		t.Fatalf("%d comuni, %d keys", len(res.Comuni), len(res.Keys))
	}
	for _, c := range res.Comuni {
		if len(c.Documents) != kinds || !strings.HasPrefix(c.Key, "fk_") || c.Name == "" {
			t.Errorf("%s (%s): %d documents of %d kinds, key %q", c.Name, c.ISTAT, len(c.Documents), kinds, c.Key)
		}
		for i, d := range c.Documents {
			if i > 0 && d.Cites != "" && d.Cites != c.Documents[i-1].ID {
				t.Errorf("%s %s cites %s, not the %s before it", c.Name, d.Kind, d.Cites, c.Documents[i-1].Kind)
			}
			if (d.State != "awaiting_comune" && d.State != "sealed") || !strings.HasSuffix(d.PDF, "/v1/documents/"+d.ID+"/pdf") {
				t.Errorf("%s %s: state %s, pdf %s", c.Name, d.Kind, d.State, d.PDF)
			}
		}
	}
	if out, _, code := runCLI(t, bin, dir, nil, "audit", "verify", "--json", "--data", filepath.Join(dir, "data")); code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Errorf("audit verify of the demo: exit %d\n%s", code, out)
	}
	if _, errOut, code := runCLI(t, bin, dir, nil, "demo", "--data", filepath.Join(dir, "data")); code != 2 || !strings.Contains(errOut, "fresh instance") {
		t.Errorf("second demo: exit %d, %s", code, errOut)
	}
}

// TestCLIErrorsInTheUserLanguage meets the errors a user meets on
// standard error - a usage error, a missing file, a service that does not
// answer, a negative verdict, a store that cannot be opened, a bad
// setting, an unknown id, invalid input - in Italian, German and English,
// and holds the Italian and German ones to containing no English: no word
// of the English message that is not a name (of a file, flag, host, id)
// shared by every language.
func TestCLIErrorsInTheUserLanguage(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// A PDF that is not valid: a draft, with no seal.
	sample, _ := filepath.Abs("../../samples/loiano/adesione.json")
	if _, errOut, code := runCLI(t, bin, dir, nil, "render", "--kind", "adesione", "--in", sample, "--out", "draft.pdf", "--unsigned"); code != 0 {
		t.Fatalf("render: %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, bin, dir, nil, "keys", "list", "--data", data); code != 0 {
		t.Fatalf("keys list: %d %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"comune":"037034","ambito":"Z"}`), 0o644)
	closed := closedPort(t)
	cases := []struct {
		name   string
		args   []string
		status int
	}{
		{"usage error", []string{"render", "--nope"}, 2},
		{"flag without its value", []string{"render", "--kind"}, 2},
		{"missing file", []string{"verify", "missing.pdf"}, 2},
		{"not a PDF", []string{"verify", "bad.json"}, 2},
		{"service unreachable", []string{"health", "--addr", closed}, 3},
		{"negative verdict", []string{"verify", "draft.pdf"}, 1},
		{"store unreachable", []string{"keys", "list", "--store", "postgres://faldone:secret@" + closed + "/none"}, 3},
		{"store cannot be made", []string{"keys", "list", "--store", "sqlite:" + filepath.Join(dir, "draft.pdf", "x.db")}, 3},
		{"no log key", []string{"audit", "verify", "--data", data}, 3},
		{"bad settings", []string{"serve", "--body-limit", "5", "--rate-window", "0s"}, 2},
		{"unknown id", []string{"keys", "revoke", "nope", "--data", data}, 2},
		{"invalid input", []string{"render", "--kind", "adesione", "--in", "bad.json", "--out", "x.pdf", "--unsigned"}, 2},
		{"unwritable output", []string{"render", "--kind", "adesione", "--in", sample, "--out", filepath.Join(dir, "draft.pdf", "x.pdf"), "--unsigned"}, 3},
	}
	// Words every language shares: names, and what the commands print
	// as they are.
	shared := map[string]bool{"faldone": true, "file": true, "pdf": true, "api": true, "json": true, "sqlite": true, "postgres": true,
		"audit": true, "keys": true, "health": true, "verify": true, "render": true, "serve": true, "help": true, "nope": true, "ambito": true,
		"body": true, "limit": true, "rate": true, "window": true, "kind": true, "production": true, "faldone_debug": true}
	word := regexp.MustCompile(`[A-Za-zÀ-ÿ_]{3,}`)
	// Paths, URLs and JSON paths are names, in any language.
	names := regexp.MustCompile(`\S*[/$@]\S*`)
	for _, c := range cases {
		out := map[string]string{}
		for _, l := range []string{"en", "it", "de"} {
			lang := map[string]string{"en": "C", "it": "it_IT.UTF-8", "de": "de_DE.UTF-8"}[l]
			_, errOut, code := runCLI(t, bin, dir, []string{"LANG=" + lang}, c.args...)
			if code != c.status || errOut == "" {
				t.Errorf("%s (%s): exit %d, want %d; stderr %q", c.name, l, code, c.status, errOut)
			}
			out[l] = errOut
		}
		args := map[string]bool{}
		for _, a := range c.args {
			for _, w := range word.FindAllString(a, -1) {
				args[strings.ToLower(w)] = true
			}
		}
		for _, l := range []string{"it", "de"} {
			if out[l] == out["en"] {
				t.Errorf("%s: the %s message is the English one: %q", c.name, l, out[l])
				continue
			}
			theirs := map[string]bool{}
			for _, w := range word.FindAllString(names.ReplaceAllString(out[l], " "), -1) {
				theirs[strings.ToLower(w)] = true
			}
			for _, w := range word.FindAllString(names.ReplaceAllString(out["en"], " "), -1) {
				lw := strings.ToLower(w)
				if theirs[lw] && !shared[lw] && !args[lw] {
					t.Errorf("%s: English %q in the %s message %q (en: %q)", c.name, w, l, out[l], out["en"])
				}
			}
		}
		t.Logf("%s:\n  en: %s  it: %s  de: %s", c.name, out["en"], out["it"], out["de"])
	}
}

// closedPort returns an address of 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

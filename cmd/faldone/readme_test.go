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
	"syscall"
	"testing"
	"time"

	"faldone/internal/testenv"
)

// readmeBlocks returns the lines of the README's indented code blocks, by
// the heading ("## ..." or "### ...") of the section they are in.
func readmeBlocks(t *testing.T) (lines []readmeLine) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section, blank, inFence, transcript := "", true, false, false
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			inFence = !inFence
		case strings.HasPrefix(l, "## "), strings.HasPrefix(l, "### "):
			section = strings.TrimLeft(l, "# ")
		case strings.HasPrefix(l, "    ") && !inFence:
			text := strings.TrimSpace(l)
			if blank {
				// A block that starts with "$ " is a transcript: a command
				// and its output, shown, not to be pasted.
				transcript = strings.HasPrefix(text, "$ ")
			}
			lines = append(lines, readmeLine{section: section, text: text, startsBlock: blank, transcript: transcript})
		}
		blank = strings.TrimSpace(l) == ""
	}
	return lines
}

type readmeLine struct {
	section, text string
	startsBlock   bool
	transcript    bool // in a block that shows a command and its output
}

// commandWords are the programs a README command line starts with; other
// lines of code blocks are answers, settings or file layouts.
var commandWords = regexp.MustCompile(`^(faldone|go|curl|bash|docker|openssl|certutil|pk12util|pdfsig|mkdir|jq|kill|until|[A-Z]+=\$\()\b`)

// TestReadmeFirstHour runs every command of the README's "Your first hour"
// in order, as a newcomer would paste them into a shell in the repository:
// the demo instance, the API, a test signature with openssl, NSS and
// poppler, the countersigned copy, offline verification with its evidence
// bundle, and the audit commands. Only "go install" is left out (the test
// runs the same binary, built from this tree) and "bash .ci/run" (the
// suite this test is part of).
func TestReadmeFirstHour(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "openssl", "certutil", "pk12util", "pdfsig"} {
		testenv.Tool(t, tool)
	}
	bin := buildBinary(t)
	var script []string
	n := 0
	for _, l := range readmeBlocks(t) {
		if l.section != "Your first hour" {
			continue
		}
		if strings.HasPrefix(l.text, "go install ./cmd/faldone") || l.text == "bash .ci/run" {
			continue
		}
		script = append(script, l.text)
		n++
	}
	if n < 20 {
		t.Fatalf("the first hour has %d commands; the README changed its shape", n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	body := strings.ReplaceAll(strings.Join(script, "\n"), "localhost:8080", addr)
	dir := t.TempDir()
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	if err := os.Symlink(filepath.Join(repo, "samples"), filepath.Join(dir, "samples")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", "set -euo pipefail\nset -x\n"+body+"\nwait\n")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"FALDONE_ADDR="+addr, "HOME="+dir, "LANG=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The group of the shell we started (and the serve it starts) ends
	// with the test, whatever happens.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(4 * time.Minute):
		t.Fatalf("the first hour did not end in 4 minutes\n%s\n%s", stdout.String(), stderr.String())
	}
	out := stdout.String()
	if err != nil {
		t.Fatalf("the first hour failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	var demo struct {
		Comuni []struct{ ISTAT string } `json:"comuni"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "demo.json")); err != nil || json.Unmarshal(b, &demo) != nil || len(demo.Comuni) < 5 {
		t.Errorf("demo.json: %d comuni (%v)", len(demo.Comuni), err)
	}
	for _, want := range []string{
		`"comune":"037034"`,                // the dossier
		`"comune":"049020"`,                // the new letter for Suvereto
		`"version":2`,                      // the countersigned copy, accepted
		`"state":"signed_comune"`,          //
		"adesione-v2.pdf: VALID",           // offline verification
		"inclusion  proved",                //
		"faldone-audit-log",                // the checkpoint
		`"proof":[`,                        // the consistency proof
		"OK: every record, PDF",            // audit verify
		"OK: document",                     // audit rerender
		"byte for byte the first revision", //
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the first hour's output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr.String())
	}
}

// TestReadmeCommands holds every other command line of the README to
// what it says: each faldone command answers its --help and knows every
// flag the line uses, each curl names a path of the API's OpenAPI
// document, each go test names packages and functions that exist. A
// command of another kind makes the test fail until it is run by a test
// or given a reason here.
func TestReadmeCommands(t *testing.T) {
	bin := buildBinary(t)
	openapi, err := exec.Command(bin, "openapi").Output()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openapi, &doc); err != nil {
		t.Fatal(err)
	}
	var paths []*regexp.Regexp
	for p := range doc.Paths {
		paths = append(paths, regexp.MustCompile("^"+regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/?]+`)+`(\?.*)?$`))
	}
	notRun := map[string]string{
		"bash .ci/run": "the CI suite itself, of which these tests are part",
	}
	checked := 0
	for _, l := range readmeBlocks(t) {
		if l.section == "Your first hour" || l.transcript || !commandWords.MatchString(l.text) {
			continue
		}
		checked++
		fields := strings.Fields(l.text)
		if len(fields) > 3 && fields[0] == "go" && fields[1] == "run" && fields[2] == "./cmd/faldone" {
			// the same command through go run: check it as faldone's
			fields = append([]string{"faldone"}, fields[3:]...)
		}
		switch {
		case notRun[l.text] != "":
		case fields[0] == "faldone":
			sub := fields[1]
			out, err := exec.Command(bin, sub, "--help").CombinedOutput()
			if err != nil {
				t.Errorf("%s: faldone %s --help: %v\n%s", l.text, sub, err, out)
				continue
			}
			for _, f := range regexp.MustCompile(`--[a-z][a-z-]+`).FindAllString(l.text, -1) {
				if f != "--help" && !strings.Contains(string(out), "-"+strings.TrimPrefix(f, "--")) {
					t.Errorf("%s: faldone %s has no flag %s", l.text, sub, f)
				}
			}
		case fields[0] == "curl":
			u := regexp.MustCompile(`localhost:8080(/[^ '"]*)`).FindStringSubmatch(l.text)
			if u == nil {
				t.Errorf("%s: no URL of the service", l.text)
				continue
			}
			found := false
			for _, p := range paths {
				found = found || p.MatchString(u[1])
			}
			if !found {
				t.Errorf("%s: %s is no path of openapi.json", l.text, u[1])
			}
		case fields[0] == "go" && len(fields) > 1 && fields[1] == "test":
			checkGoTest(t, l.text)
		case fields[0] == "docker":
			// No Docker engine here: .ci/dockerfile-replay replays the
			// Dockerfile's build stage in CI; the line must use the image's
			// volume and port.
			if !strings.Contains(l.text, "/data") && !strings.Contains(l.text, "build") {
				t.Errorf("%s: a docker run without the /data volume", l.text)
			}
		default:
			t.Errorf("%s (section %q): a README command that no test runs or checks", l.text, l.section)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d command lines outside the first hour: the parser lost them", checked)
	}
}

// checkGoTest checks a go test line: its packages exist, and the
// functions its -run, -bench and -fuzz name exist in them.
func checkGoTest(t *testing.T, line string) {
	t.Helper()
	fields := strings.Fields(line)
	var pkgs, names []string
	for i := 2; i < len(fields); i++ {
		f := fields[i]
		switch {
		case f == "-bench" || f == "-fuzz":
			if i+1 < len(fields) {
				names = append(names, strings.Trim(fields[i+1], "'"))
			}
			i++
		case strings.HasPrefix(f, "-") && !strings.Contains(f, "="):
			if f == "-race" || f == "-benchmem" || f == "-update" || f == "-v" {
				continue
			}
			i++ // a flag with a value
		case strings.HasPrefix(f, "./"):
			pkgs = append(pkgs, f)
		}
	}
	if len(pkgs) == 0 {
		t.Errorf("%s: no package", line)
	}
	var src strings.Builder
	for _, p := range pkgs {
		dir := filepath.Join("..", "..", strings.TrimSuffix(p, "/..."))
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		if len(files) == 0 {
			t.Errorf("%s: package %s has no tests", line, p)
		}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			src.Write(b)
		}
	}
	for _, n := range names {
		if n == "." {
			continue
		}
		re, err := regexp.Compile(n)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		found := false
		for _, m := range regexp.MustCompile(`func ((?:Benchmark|Fuzz)\w+)\(`).FindAllStringSubmatch(src.String(), -1) {
			found = found || re.MatchString(m[1])
		}
		if !found {
			t.Errorf("%s: no benchmark or fuzz function matches %q", line, n)
		}
	}
}

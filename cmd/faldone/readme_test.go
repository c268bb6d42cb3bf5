package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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
var commandWords = regexp.MustCompile(`^(faldone|go|curl|bash|docker|openssl|certutil|pk12util|pdfsig|mkdir|jq|kill|until|sqlite3|printf|export|[A-Z_]+=\$\(|(?:[A-Z_]+=\S+ )+go test)\b`)

// readmeBlock is one indented code block of the README.
type readmeBlock struct {
	section    string
	lines      []string
	transcript bool
}

// readmeCommandBlocks groups the README's lines into blocks and returns
// those that hold commands: a block whose first line that is not a
// comment starts with a command word, or a transcript.
func readmeCommandBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	for _, l := range readmeBlocks(t) {
		if l.startsBlock || len(blocks) == 0 {
			blocks = append(blocks, readmeBlock{section: l.section, transcript: l.transcript})
		}
		b := &blocks[len(blocks)-1]
		b.lines = append(b.lines, l.text)
	}
	var out []readmeBlock
	for _, b := range blocks {
		first := ""
		for _, l := range b.lines {
			if !strings.HasPrefix(l, "#") {
				first = l
				break
			}
		}
		if b.transcript || commandWords.MatchString(first) {
			out = append(out, b)
		}
	}
	return out
}

// notRun are the README's command lines that TestReadmeEveryCommand does
// not run, by a prefix of the line, and why; the README says the same.
var notRun = []struct{ prefix, why string }{
	{"bash .ci/run", "the CI suite itself, of which this test is part"},
	{"go install ./cmd/faldone", "the test runs the binary built from this tree, which is what it installs"},
	{"docker ", "no Docker engine on the build machine: .ci/dockerfile-replay replays the Dockerfile's build stage"},
	{"go test ./samples -update", "it rewrites the committed sample PDFs; TestSamples compares them"},
	{"go test ", "the suite CI runs (go test -race ./...) runs these tests; their packages and benchmarks are checked to exist"},
	{"(cd internal/third_party/gofpdf && go test ", "the tests of the vendored gofpdf, which the suite runs in that directory"},
	{"FALDONE_", "a test of the suite with a larger sample, behind its variable; checked to exist"},
	{"faldone audit extend", "it needs an RFC 3161 time-stamp authority, which the README's instance has not; TestAuditExtend runs it against one on 127.0.0.1; its flags are checked"},
}

// TestReadmeEveryCommand runs the README's commands as a newcomer would
// paste them into a shell in a fresh clone: first "go run ./cmd/faldone
// serve" of "Two commands" in an empty directory, until it answers
// health; then, in one shell, "Your first hour" in order (the demo
// instance, the API, a test signature with openssl, NSS and poppler, the
// countersigned copy, offline verification with its evidence bundle, the
// audit commands) and every command block of the sections after it, in
// the README's order, with the server, variables and files of the first
// hour, as the README says; then each transcript ("$ command" and what it
// prints), compared with what it prints. The lines of notRun are not run.
// "localhost:8080" is the test's server on 127.0.0.1, and "go run
// ./cmd/faldone" the binary built from this tree.
func TestReadmeEveryCommand(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "openssl", "certutil", "pk12util", "pdfsig", "sqlite3", "awk"} {
		testenv.Tool(t, tool)
	}
	bin := buildBinary(t)
	env := func(dir, addr string) []string {
		return append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
			"FALDONE_ADDR="+addr, "FALDONE_SERVER=http://"+addr, "HOME="+dir, "LANG=C", "FALDONE_LANG=", "LC_ALL=", "LC_MESSAGES=", "FALDONE_DEBUG=")
	}
	substitute := func(s, addr string) string {
		return strings.NewReplacer("localhost:8080", addr, "go run ./cmd/faldone", "faldone").Replace(s)
	}
	skipped := func(line string) string {
		for _, n := range notRun {
			if strings.HasPrefix(line, n.prefix) {
				return n.why
			}
		}
		return ""
	}

	var firstHour, rest []string
	var transcripts []readmeBlock
	serveLine := ""
	ran, skips := 0, 0
	for _, b := range readmeCommandBlocks(t) {
		if b.transcript {
			transcripts = append(transcripts, b)
			continue
		}
		for _, l := range b.lines {
			switch {
			case strings.HasPrefix(l, "#"):
				continue
			case skipped(l) != "":
				skips++
				if i := strings.Index(l, "go test "); i >= 0 && !strings.HasPrefix(l, "(cd ") {
					checkGoTest(t, l[i:])
				}
				if strings.HasPrefix(l, "docker run") && !strings.Contains(l, ":/data") {
					t.Errorf("%s: a docker run without the /data volume", l)
				}
				if strings.HasPrefix(l, "faldone ") {
					checkFlags(t, bin, l)
				}
				t.Logf("not run: %s (%s)", l, skipped(l))
				continue
			case b.section == "Two commands" && strings.HasPrefix(l, "go run ./cmd/faldone serve"):
				serveLine = l
			case b.section == "Your first hour":
				if l != "kill %1" {
					firstHour = append(firstHour, l)
				}
			default:
				rest = append(rest, l)
			}
			ran++
		}
	}
	if serveLine == "" || len(firstHour) < 20 || len(rest) < 20 || len(transcripts) < 2 {
		t.Fatalf("the README changed its shape: serve %q, %d lines in the first hour, %d after it, %d transcripts", serveLine, len(firstHour), len(rest), len(transcripts))
	}
	t.Logf("%d command lines run, %d not run, %d transcripts", ran, skips, len(transcripts))

	// "Two commands": the service on its embedded defaults, in an empty
	// directory.
	t.Run("two commands", func(t *testing.T) {
		dir, addr := t.TempDir(), freeAddr(t)
		out, err := runShell(t, dir, env(dir, addr), substitute(serveLine, addr)+" 2> serve.log &\nuntil faldone health > /dev/null 2>&1; do sleep 0.2; done\nkill %1\nwait", time.Minute)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "data", "keys")); err != nil {
			t.Errorf("serve made no development seal in ./data: %v", err)
		}
	})

	t.Run("first hour and after", func(t *testing.T) {
		dir, addr := t.TempDir(), freeAddr(t)
		repo, _ := filepath.Abs(filepath.Join("..", ".."))
		if err := os.Symlink(filepath.Join(repo, "samples"), filepath.Join(dir, "samples")); err != nil {
			t.Fatal(err)
		}
		script := "PS4='+ ${SECONDS}s '\nset -x\n" + substitute(strings.Join(firstHour, "\n")+"\n"+strings.Join(rest, "\n"), addr) + "\nkill %1\nwait\n"
		out, err := runShell(t, dir, env(dir, addr), script, 4*time.Minute)
		if err != nil {
			t.Fatalf("the README's commands failed: %v\n%s", err, out)
		}
		var demo struct {
			Comuni []struct {
				ISTAT     string
				Documents []struct{ Kind, ID string }
			} `json:"comuni"`
		}
		if b, err := os.ReadFile(filepath.Join(dir, "demo.json")); err != nil || json.Unmarshal(b, &demo) != nil || len(demo.Comuni) < 5 {
			t.Fatalf("demo.json: %d comuni (%v)", len(demo.Comuni), err)
		}
		id := ""
		for _, c := range demo.Comuni {
			for _, d := range c.Documents {
				if c.ISTAT == "037034" && d.Kind == "adesione" {
					id = d.ID
				}
			}
		}
		for _, want := range []string{
			`"comune":"037034"`,                        // the dossier
			`"comune":"049020"`,                        // the new letter for Suvereto
			`"version":2`,                              // the countersigned copy, accepted
			`"state":"signed_comune"`,                  //
			"adesione-v2.pdf: VALID",                   // offline verification
			"inclusion  proved",                        //
			"faldone-audit-log",                        // the checkpoint
			`"proof":[`,                                // the consistency proof
			"OK: every record, PDF",                    // audit verify
			"OK: document",                             // audit rerender
			"byte for byte the first revision",         //
			"\n" + id + "|2\n",                         // sqlite3: the version from a signer not trusted
			`"valid":true`,                             // POST /v1/verify of the sealed letter
			`"valid":false`,                            // and of the copy signed by a test certificate
			`"valid": true`,                            // faldone verify --json, offline, with the certificate trusted
			`"total":5`,                                // the batches: JSON array, NDJSON
			`"total":2`,                                // and CSV over a shared body
			"done: 2 done, 0 failed, 0 cancelled of 2", // faldone batch
			"created key",                              // keys create
			"Comune di Loiano",                         // keys list
			"revoked key",                              // keys revoke
			"subscription sub_",                        // webhooks create
			"https://report.example/hooks",             // webhooks list
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the README's commands did not print %q", want)
			}
		}
		for _, f := range []string{"letters.zip", "results.csv"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
				t.Errorf("faldone batch made no %s: %v", f, err)
			}
		}
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	})

	// Transcripts: each "$ command" prints what the README shows.
	t.Run("transcripts", func(t *testing.T) {
		dir := t.TempDir()
		for _, b := range transcripts {
			var cmd string
			var want []string
			flush := func() {
				if cmd == "" {
					return
				}
				out, _ := runShell(t, dir, env(dir, freeAddr(t)), cmd, time.Minute)
				if got := strings.TrimSpace(out); got != strings.Join(want, "\n") {
					t.Errorf("%s (section %q) prints\n%s\nthe README shows\n%s", cmd, b.section, got, strings.Join(want, "\n"))
				}
			}
			for _, l := range b.lines {
				if c, ok := strings.CutPrefix(l, "$ "); ok {
					flush()
					cmd, want = c, nil
					continue
				}
				want = append(want, l)
			}
			flush()
		}
	})
}

// runShell runs script with bash (-e, -u, pipefail) in dir and returns
// what it printed on both outputs; the process group ends with the test.
func runShell(t *testing.T, dir string, env []string, script string, limit time.Duration) (string, error) {
	t.Helper()
	// A failing line ends the script and the jobs it started in the
	// background (the server), which would hold its output open.
	cmd := exec.Command("bash", "-c", "set -euo pipefail\ntrap 'kill $(jobs -p) 2> /dev/null || true' EXIT\n"+script+"\n")
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(limit):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), fmt.Errorf("did not end in %s", limit)
	}
}

// checkFlags checks a faldone line that is not run: its command answers
// --help and names every flag the line uses.
func checkFlags(t *testing.T, bin, line string) {
	t.Helper()
	fields := strings.Fields(line)
	args := []string{fields[1]}
	if len(fields) > 2 && !strings.HasPrefix(fields[2], "-") {
		args = append(args, fields[2])
	}
	out, err := exec.Command(bin, append(args, "--help")...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: faldone %s --help: %v\n%s", line, strings.Join(args, " "), err, out)
		return
	}
	for _, f := range regexp.MustCompile(`--[a-z][a-z-]+`).FindAllString(line, -1) {
		if !strings.Contains(string(out), "-"+strings.TrimPrefix(f, "--")+" ") && !strings.Contains(string(out), f) {
			t.Errorf("%s: faldone %s has no flag %s", line, strings.Join(args, " "), f)
		}
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
		case f == "-bench" || f == "-fuzz" || f == "-run":
			if i+1 < len(fields) {
				if n := strings.Trim(fields[i+1], "'"); n != "XXX" && n != "^$" {
					names = append(names, n)
				}
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
		for _, m := range regexp.MustCompile(`func ((?:Test|Benchmark|Fuzz)\w+)\(`).FindAllStringSubmatch(src.String(), -1) {
			found = found || re.MatchString(m[1])
		}
		if !found {
			t.Errorf("%s: no test, benchmark or fuzz function matches %q", line, n)
		}
	}
}

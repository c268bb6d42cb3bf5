// Package pdftest reads PDFs the way a person would, with independent
// tools: poppler's pdftotext and pdfinfo, and qpdf --check. It also checks
// PDF signatures with three independent validators: poppler's pdfsig,
// pdfcpu, and openssl cms -verify.
package pdftest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"faldone/internal/testenv"
)

func write(tb testing.TB, pdf []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Text returns the text of a PDF, pages separated by form feeds.
func Text(tb testing.TB, pdf []byte) string {
	tb.Helper()
	bin := testenv.Tool(tb, "pdftotext")
	out, err := exec.Command(bin, "-enc", "UTF-8", write(tb, pdf), "-").Output()
	if err != nil {
		tb.Fatalf("pdftotext: %v", err)
	}
	return joinSoftHyphens(string(out))
}

// softHyphenBreak is a soft hyphen (U+00AD) with the line break after it.
var softHyphenBreak = regexp.MustCompile("\u00ad\\s*")

// joinSoftHyphens joins the words the renderer broke at a line end with a
// soft hyphen, as a reader does: pdftotext joins a word broken with U+002D
// but keeps U+00AD and the line break.
func joinSoftHyphens(s string) string {
	if !strings.Contains(s, "\u00ad") {
		return s
	}
	return softHyphenBreak.ReplaceAllString(s, "")
}

// RawText is the text of a PDF in the order its pages draw it (pdftotext
// -raw): the lines of one table cell stay together where the reading order
// of Text interleaves the cells of a row line by line.
func RawText(tb testing.TB, pdf []byte) string {
	tb.Helper()
	bin := testenv.Tool(tb, "pdftotext")
	out, err := exec.Command(bin, "-raw", "-enc", "UTF-8", write(tb, pdf), "-").Output()
	if err != nil {
		tb.Fatalf("pdftotext -raw: %v", err)
	}
	return joinSoftHyphens(string(out))
}

// Pages returns the page count pdfinfo reports.
func Pages(tb testing.TB, pdf []byte) int {
	tb.Helper()
	bin := testenv.Tool(tb, "pdfinfo")
	out, err := exec.Command(bin, write(tb, pdf)).Output()
	if err != nil {
		tb.Fatalf("pdfinfo: %v", err)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		tb.Fatalf("pdfinfo: no page count in %q", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// Info returns pdfinfo's output.
func Info(tb testing.TB, pdf []byte) string {
	tb.Helper()
	bin := testenv.Tool(tb, "pdfinfo")
	out, err := exec.Command(bin, "-isodates", write(tb, pdf)).Output()
	if err != nil {
		tb.Fatalf("pdfinfo: %v", err)
	}
	return string(out)
}

// QPDFCheck fails the test unless qpdf --check finds the file sound, with
// no warnings.
func QPDFCheck(tb testing.TB, pdf []byte) {
	tb.Helper()
	bin := testenv.Tool(tb, "qpdf")
	out, err := exec.Command(bin, "--check", write(tb, pdf)).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("WARNING")) {
		tb.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}

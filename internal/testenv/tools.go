// Package testenv starts and finds the real programs the tests use: PDF
// validators (poppler, mupdf, qpdf, openssl), the RFC 3161 timestamp server,
// SoftHSM2 tokens and PostgreSQL. A missing program skips the test, except
// under CI=true, where it fails it: CI must install everything.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of an executable on PATH. When it is missing the
// test is skipped, or failed under CI=true.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, name+" is not installed (Debian: poppler-utils, qpdf, openssl, libnss3-tools, mupdf-tools)")
	}
	return p
}

// Missing skips the test, or fails it when CI=true.
func Missing(tb testing.TB, what string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("missing under CI: %s", what)
	}
	tb.Skipf("skipped: %s", what)
}

//go:build !linux

package testenv

import "testing"

// Tmpfs skips the test: mounting a tmpfs is Linux's.
func Tmpfs(tb testing.TB, size string) string {
	tb.Helper()
	tb.Skip("a tmpfs is mounted on Linux only")
	return ""
}

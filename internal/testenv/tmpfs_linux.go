package testenv

import (
	"errors"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size (as mount takes it: "6m") on a fresh
// directory, for the tests of a full disk, and unmounts it when tb ends.
// It needs root (CAP_SYS_ADMIN): without it the test is skipped, or
// failed under CI=true.
func Tmpfs(tb testing.TB, size string) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := syscall.Mount("faldone-test", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		if errors.Is(err, syscall.EPERM) {
			Missing(tb, "mount tmpfs: "+err.Error()+" (needs root with CAP_SYS_ADMIN)")
		}
		tb.Fatalf("mount tmpfs: %v", err)
	}
	tb.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

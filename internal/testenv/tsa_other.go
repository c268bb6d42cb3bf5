//go:build !linux

package testenv

import (
	"os/exec"
	"syscall"
)

// tsaSupported tells whether timestamp-server can run in a network
// namespace of its own here: network namespaces are Linux only.
const tsaSupported = false

func tsaSysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

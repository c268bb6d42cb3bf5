package testenv

import (
	"os/exec"
	"syscall"
)

// tsaSupported tells whether timestamp-server can run in a network
// namespace of its own here.
const tsaSupported = true

// tsaSysProcAttr puts unshare and everything it starts in a process group
// of their own, for killGroup, and kills unshare (and through its
// --kill-child, timestamp-server and socat) if the test process dies
// without cleaning up.
func tsaSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group cmd leads: unshare, timestamp-server,
// socat and socat's per-connection children.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

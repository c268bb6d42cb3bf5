package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PostgresBinEnv names the environment variable holding the directory of
// initdb and pg_ctl; if unset, the newest /usr/lib/postgresql/*/bin and
// then $PATH are searched.
const PostgresBinEnv = "FALDONE_TEST_PGBIN"

// startCluster starts a throwaway PostgreSQL cluster on 127.0.0.1 and
// returns its superuser URL. A watchdog process stops the cluster and
// removes its files when this process exits, however it exits.
func startCluster() (string, error) {
	bin, err := pgBin()
	if err != nil {
		return "", err
	}
	// As root, the server runs as the postgres user.
	var asUser []string
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root and no postgres user to run the server as: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return "", fmt.Errorf("running as root: %w", err)
		}
		asUser = []string{runuser, "-u", "postgres", "--"}
	}
	root, err := os.MkdirTemp("", "faldone-pg-")
	if err != nil {
		return "", err
	}
	if uid >= 0 {
		if err := os.Chown(root, uid, gid); err != nil {
			os.RemoveAll(root)
			return "", err
		}
	}
	data, sock, logf := filepath.Join(root, "data"), filepath.Join(root, "sock"), filepath.Join(root, "log")
	run := func(name string, args ...string) error {
		argv := append(append(append([]string{}, asUser...), filepath.Join(bin, name)), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	if err := os.Mkdir(sock, 0o700); err != nil {
		os.RemoveAll(root)
		return "", err
	}
	if uid >= 0 {
		if err := os.Chown(sock, uid, gid); err != nil {
			os.RemoveAll(root)
			return "", err
		}
	}
	if err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"); err != nil {
		os.RemoveAll(root)
		return "", err
	}
	var port int
	for attempt := 0; ; attempt++ {
		if port, err = pgFreePort(); err != nil {
			break
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c max_connections=200", port, sock)
		if err = run("pg_ctl", "-D", data, "-l", logf, "-o", opts, "-w", "-t", "60", "start"); err == nil || attempt == 2 {
			break
		}
	}
	if err != nil {
		log, _ := os.ReadFile(logf)
		os.RemoveAll(root)
		return "", fmt.Errorf("%w\n%s", err, log)
	}
	if err := watchdog(asUser, bin, data, root); err != nil {
		run("pg_ctl", "-D", data, "-m", "immediate", "stop")
		os.RemoveAll(root)
		return "", err
	}
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, url, "SELECT 1"); err != nil {
		return "", fmt.Errorf("connect to the test cluster: %w", err)
	}
	return url, nil
}

// watchdog starts a detached shell that waits for this process to exit,
// then stops the cluster and removes root.
func watchdog(asUser []string, bin, data, root string) error {
	stop := append(append([]string{}, asUser...), filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
	script := fmt.Sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; %s >/dev/null 2>&1; rm -rf %s",
		os.Getpid(), shellJoin(stop), shellQuote(root))
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start cluster watchdog: %w", err)
	}
	return cmd.Process.Release()
}

// pgBin finds the directory of initdb and pg_ctl.
func pgBin() (string, error) {
	if d := os.Getenv(PostgresBinEnv); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found in /usr/lib/postgresql/*/bin or $PATH (set " + PostgresBinEnv + ")")
}

// pgVersion returns the major version in a /usr/lib/postgresql/N/bin path.
func pgVersion(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// pgFreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func pgFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

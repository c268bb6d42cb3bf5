package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// PGServer is a PostgreSQL server of one test, which the test may stop
// and start again (to see what the service does while its database is
// down).
type PGServer struct {
	URL string // superuser URL of the postgres database

	tb   testing.TB
	run  func(name string, args ...string) error
	data string
	logf string
	opts string
}

// OwnPostgres starts a PostgreSQL server for tb alone, on 127.0.0.1, and
// stops it and removes its files when tb ends (or, through a watchdog,
// when the process exits). It is skipped, or fails under CI, when the
// server binaries are missing.
func OwnPostgres(tb testing.TB) *PGServer {
	tb.Helper()
	skip := func(err error) {
		msg := fmt.Sprintf("PostgreSQL not available (apt-get install postgresql): %v", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	bin, err := pgBin()
	if err != nil {
		skip(err)
	}
	var asUser []string
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skip(err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			skip(err)
		}
		asUser = []string{runuser, "-u", "postgres", "--"}
	}
	root, err := os.MkdirTemp("", "faldone-pg-own-")
	if err != nil {
		tb.Fatal(err)
	}
	sock := filepath.Join(root, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		tb.Fatal(err)
	}
	if uid >= 0 {
		for _, d := range []string{root, sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				tb.Fatal(err)
			}
		}
	}
	s := &PGServer{tb: tb, data: filepath.Join(root, "data"), logf: filepath.Join(root, "log")}
	s.run = func(name string, args ...string) error {
		argv := append(append(append([]string{}, asUser...), filepath.Join(bin, name)), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	if err := s.run("initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"); err != nil {
		os.RemoveAll(root)
		skip(err)
	}
	port, err := pgFreePort()
	if err != nil {
		tb.Fatal(err)
	}
	s.opts = fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s", port, sock)
	if err := watchdog(asUser, bin, s.data, root); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(root)
	})
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	s.Start()
	return s
}

// Start starts the server and waits until it accepts connections.
func (s *PGServer) Start() {
	s.tb.Helper()
	if err := s.run("pg_ctl", "-D", s.data, "-l", s.logf, "-o", s.opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(s.logf)
		s.tb.Fatalf("start postgres: %v\n%s", err, log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, s.URL, "SELECT 1"); err != nil {
		s.tb.Fatalf("connect to postgres: %v", err)
	}
}

// Stop stops the server at once (pg_ctl stop -m immediate: connections
// are cut, as when the server crashes).
func (s *PGServer) Stop() {
	s.tb.Helper()
	if err := s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop"); err != nil {
		s.tb.Fatalf("stop postgres: %v", err)
	}
}

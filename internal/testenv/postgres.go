package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the environment variable holding the URL of a
// PostgreSQL server the tests may create databases on, for instance
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. The role
// needs CREATEDB.
const PostgresEnv = "FALDONE_TEST_POSTGRES"

var cluster struct {
	once sync.Once
	url  string
	err  error
}

// Postgres returns the URL of a fresh, empty database, dropped when tb
// ends. The server is the one named by $FALDONE_TEST_POSTGRES, or else a
// throwaway cluster this process starts once with the local PostgreSQL
// binaries (initdb, pg_ctl; run as the postgres user when the tests run as
// root) and stops when it exits.
//
// When neither is possible the test is skipped, unless the environment
// variable CI is "true", where it fails.
func Postgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		cluster.once.Do(func() { cluster.url, cluster.err = startCluster() })
		if cluster.err != nil {
			msg := fmt.Sprintf("PostgreSQL not available: set %s or install the server (apt-get install postgresql): %v", PostgresEnv, cluster.err)
			if os.Getenv("CI") == "true" {
				tb.Fatal(msg)
			}
			tb.Skip(msg)
		}
		base = cluster.url
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		tb.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, base, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on its own connection to base.
func adminExec(ctx context.Context, base, sql string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

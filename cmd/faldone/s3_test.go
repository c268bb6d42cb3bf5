package main_test

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"faldone/internal/testenv"
)

// TestCrashS3SQLite and TestCrashS3Postgres run the SIGKILL test with the
// PDFs in a real S3 server (versitygw) on 127.0.0.1: every acknowledged
// document survives byte for byte, and `faldone audit verify` re-hashes
// every PDF from the object store.
func TestCrashS3SQLite(t *testing.T) {
	srv := testenv.S3(t)
	testCrash(t, "sqlite:faldone.db", srv.Env("archive/pdfs")...)
	checkObjects(t, srv, "archive/pdfs")
}

func TestCrashS3Postgres(t *testing.T) {
	srv := testenv.S3(t)
	testCrash(t, testenv.Postgres(t), srv.Env("archive")...)
	checkObjects(t, srv, "archive")
}

// checkObjects fails unless the PDFs went to the object store.
func checkObjects(t *testing.T, srv *testenv.S3Server, prefix string) {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(srv.Dir, srv.Bucket, prefix), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pdf") {
			n++
		}
		return nil
	})
	if n < 10 {
		t.Errorf("%d PDFs in the object store", n)
	}
	t.Logf("%d PDFs in the object store", n)
}

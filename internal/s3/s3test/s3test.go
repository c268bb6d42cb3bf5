// Package s3test opens object stores on the S3 server of the tests and
// tampers with their objects behind their back.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"testing"

	"faldone/internal/s3"
	"faldone/internal/testenv"
)

// Open returns a store under a fresh prefix of srv's bucket.
func Open(tb testing.TB, srv *testenv.S3Server) *s3.Store {
	tb.Helper()
	var rnd [6]byte
	rand.Read(rnd[:])
	st, err := s3.Open(context.Background(), s3.Config{URL: "s3://" + srv.Bucket + "/t" + hex.EncodeToString(rnd[:]),
		Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Insecure: true})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// Tamper overwrites the object of sum in st with data, on the server's
// disk.
func Tamper(srv *testenv.S3Server, st *s3.Store, sum string, data []byte) error {
	return os.WriteFile(filepath.Join(srv.Dir, srv.Bucket, filepath.FromSlash(path.Clean(st.Key(sum)))), data, 0o600)
}

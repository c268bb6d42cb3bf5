package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Server is a real S3 server on 127.0.0.1: versitygw
// (github.com/versity/versitygw, Apache-2.0) with its posix backend in a
// temporary directory.
type S3Server struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string
	Bucket    string // created empty
	Dir       string // the backend's directory: object KEY of the bucket is Dir/Bucket/KEY

	cmd  *exec.Cmd
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// S3 starts versitygw on a free loopback port with a fresh bucket; it is
// stopped when tb ends. Without versitygw (go install
// github.com/versity/versitygw/cmd/versitygw) the test is skipped, or
// failed under CI=true.
func S3(tb testing.TB) *S3Server {
	tb.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		Missing(tb, "versitygw is not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var rnd [8]byte
	rand.Read(rnd[:])
	s := &S3Server{Endpoint: addr, AccessKey: "faldonetest", SecretKey: hex.EncodeToString(rnd[:]), Bucket: "faldone-test", logs: &syncBuffer{}}
	dir := filepath.Join(tb.TempDir(), "s3")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		tb.Fatal(err)
	}
	s.Dir = dir
	s.cmd = exec.Command(bin, "--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "posix", dir)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	})
	c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err = c.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("versitygw on %s: %v\n%s", addr, err, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Env returns the settings of faldone for PDFs under prefix in the
// server's bucket.
func (s *S3Server) Env(prefix string) []string {
	return []string{
		"FALDONE_BLOBS=s3://" + s.Bucket + "/" + prefix,
		"FALDONE_S3_ENDPOINT=http://" + s.Endpoint,
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
	}
}

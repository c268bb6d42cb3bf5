package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"faldone/internal/faldone"
	"faldone/internal/s3"
	"faldone/internal/testenv"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func open(t *testing.T, srv *testenv.S3Server, url string) (*s3.Store, error) {
	return s3.Open(context.Background(), s3.Config{URL: url, Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Insecure: true})
}

// TestStore puts and gets PDFs on a real S3 server on 127.0.0.1.
func TestStore(t *testing.T) {
	srv := testenv.S3(t)
	ctx := context.Background()
	st, err := open(t, srv, "s3://"+srv.Bucket+"/archive/pdfs")
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.7 a sealed letter")
	if _, err := st.Get(ctx, sum(pdf)); faldone.ErrorCode(err) != faldone.ENOTFOUND {
		t.Fatalf("absent object: %v", err)
	}
	if err := st.Put(ctx, sum(pdf), pdf); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, sum(pdf), pdf); err != nil {
		t.Fatalf("put twice: %v", err)
	}
	got, err := st.Get(ctx, sum(pdf))
	if err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("get: %q %v", got, err)
	}
	if err := st.Put(ctx, sum([]byte("other")), pdf); err == nil {
		t.Error("put under another hash succeeded")
	}
	for _, url := range []string{"s3://", "http://bucket/x", "s3://nosuchbucket/p"} {
		if _, err := open(t, srv, url); err == nil {
			t.Errorf("open %s succeeded", url)
		}
	}
	bad := *srv
	bad.SecretKey = "wrong"
	if _, err := open(t, &bad, "s3://"+srv.Bucket); err == nil {
		t.Error("open with a wrong secret succeeded")
	}
}

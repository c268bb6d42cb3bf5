// Package s3 keeps the archive's PDFs in an S3-compatible object store
// (minio-go), content-addressed as the file store keeps them: the object
// PREFIX/ab/cd/<sha256>.pdf holds the PDF whose SHA-256 is <sha256>, and
// is never changed once written.
//
// The engines write a PDF here before the transaction that records it
// commits, so no record ever names an absent object; an S3 PUT is atomic
// (the object appears whole or not at all), and a crash between the PUT
// and the commit leaves an orphan object, which is harmless.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// Config is where the PDFs go.
type Config struct {
	// URL is s3://bucket/prefix. Required.
	URL string
	// Endpoint is the server's host:port. Optional: s3.amazonaws.com.
	Endpoint string
	// Region. Optional.
	Region string
	// AccessKey and SecretKey sign the requests. Required.
	AccessKey, SecretKey string
	// Insecure talks plain HTTP to the endpoint (a server on loopback).
	Insecure bool
}

// Store is a content-addressed PDF store in one bucket.
type Store struct {
	client *minio.Client
	bucket string
	prefix string
	name   string // s3://bucket/prefix, for messages
}

// Parse splits s3://bucket/prefix.
func Parse(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("blobs %q: want s3://bucket/prefix", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// Open connects to the store and checks that the bucket exists. It
// returns EUNAVAILABLE when the server cannot be reached.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	bucket, prefix, err := Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, fmt.Errorf("blobs %s: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", cfg.URL)
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blobs %s: %w", cfg.URL, err)
	}
	s := &Store{client: c, bucket: bucket, prefix: prefix, name: cfg.URL}
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, Message: fmt.Sprintf("blobs %s: cannot reach %s (is the server up, and are the endpoint and keys right?)", cfg.URL, endpoint), Err: err}
	}
	if !ok {
		return nil, fmt.Errorf("blobs %s: the bucket %q does not exist: create it first", cfg.URL, bucket)
	}
	return s, nil
}

// Key returns the object name of a lowercase hex SHA-256.
func (s *Store) Key(sum string) string {
	return path.Join(s.prefix, sum[:2], sum[2:4], sum+".pdf")
}

// String returns s3://bucket/prefix.
func (s *Store) String() string { return s.name }

// Put stores data under its SHA-256 sum. When the object exists it checks
// its content instead of writing it again.
func (s *Store) Put(ctx context.Context, sum string, data []byte) error {
	old, err := s.Get(ctx, sum)
	switch {
	case err == nil:
		return archive.CheckBlob(s.name+"/"+s.Key(sum), sum, old)
	case faldone.ErrorCode(err) != faldone.ENOTFOUND:
		return err
	}
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != sum {
		return fmt.Errorf("put blob %s: the data does not hash to its name", sum)
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.Key(sum), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:    "application/pdf",
		SendContentMd5: true, // the server checks the body it received
	})
	if err != nil {
		return &faldone.Error{Code: faldone.EUNAVAILABLE, Message: fmt.Sprintf("put blob %s to %s failed", sum, s.name), Err: err}
	}
	return nil
}

// Get returns the bytes of an object as stored, ENOTFOUND when it is
// absent.
func (s *Store) Get(ctx context.Context, sum string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.Key(sum), minio.GetObjectOptions{})
	if err == nil {
		var b []byte
		b, err = io.ReadAll(obj)
		obj.Close()
		if err == nil {
			return b, nil
		}
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && (er.Code == "NoSuchKey" || er.StatusCode == 404) {
		return nil, &faldone.Error{Code: faldone.ENOTFOUND, Message: fmt.Sprintf("blob %s not found in %s", sum, s.name), Err: err}
	}
	return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, Message: fmt.Sprintf("get blob %s from %s failed", sum, s.name), Err: err}
}

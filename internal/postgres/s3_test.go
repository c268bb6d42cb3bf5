package postgres_test

import (
	"context"
	"testing"

	"faldone/internal/archivetest"
	"faldone/internal/faldone"
	"faldone/internal/postgres"
	"faldone/internal/s3"
	"faldone/internal/s3/s3test"
	"faldone/internal/testenv"
)

// objects is an archive whose PDFs are in an S3 server, with the hooks
// of the suite reaching into the server.
type objects struct {
	*postgres.Archive
	srv   *testenv.S3Server
	store *s3.Store
}

func (o objects) TamperBlob(_ context.Context, sum string, data []byte) error {
	return s3test.Tamper(o.srv, o.store, sum, data)
}

// TestConformanceS3 runs the conformance suite with the PDFs in a real
// S3 server (versitygw) on 127.0.0.1.
func TestConformanceS3(t *testing.T) {
	srv := testenv.S3(t)
	archivetest.Run(t, func(t *testing.T) faldone.Archive {
		a := MustOpen(t, testenv.Postgres(t))
		st := s3test.Open(t, srv)
		a.Objects = st
		return objects{a, srv, st}
	})
}

package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"faldone/internal/faldone"
)

// classify gives an error of the database the code of what happened to
// the service: EUNAVAILABLE when the server cannot be reached, is
// shutting down or is out of resources (the request may be retried as
// is), ESTORAGE when its disk is full. Other errors are returned as they
// are.
func classify(err error) error {
	if err == nil || faldone.ErrorCode(err) != faldone.EINTERNAL {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return &faldone.Error{Code: faldone.ESTORAGE, MessageID: "error.storage_full",
				Message: "the archive database's disk is full; nothing was archived", Err: err}
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources
			strings.HasPrefix(pe.Code, "57P"),      // operator intervention: shutdown, cannot connect now
			pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retry
			return unavailable(err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		strings.Contains(err.Error(), "conn closed"), strings.Contains(err.Error(), "failed to connect"):
		return unavailable(err)
	}
	return err
}

func unavailable(err error) error {
	return &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.database_unavailable",
		Message: "the archive database cannot be reached; nothing was archived", Err: err}
}

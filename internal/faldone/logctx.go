package faldone

import (
	"context"
	"log/slog"
)

type loggerKey struct{}

// WithLogger returns a context carrying l, the logger of the request or
// job the context belongs to (with its request id, for instance).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger ctx carries, else fallback, else
// slog.Default(). Code that logs while serving a request takes its logger
// from here, so that every line names the request.
func Logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	if fallback != nil {
		return fallback
	}
	return slog.Default()
}

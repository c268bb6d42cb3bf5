package main

import (
	"context"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/auth"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/metrics"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/internal/web"
)

// webAuthenticate resolves a comune's API key for the web pages with the
// service's key store: a revoked or unknown key is refused, and a key of
// another role signs in to no comune. Without a key store signing in to
// /comune answers that comune access is not configured.
func webAuthenticate(keys *auth.Service) func(ctx context.Context, key string) (comune, name string, err error) {
	if keys == nil {
		return nil
	}
	return func(ctx context.Context, key string) (string, string, error) {
		k, err := keys.Authenticate(ctx, key)
		if err != nil {
			return "", "", err
		}
		if k.Role != auth.RoleComune {
			return "", k.Actor(), nil
		}
		return k.Comune, k.Actor(), nil
	}
}

// webAuthenticateHash is webAuthenticate by the SHA-256 of the key, for
// the sessions, which keep only the hash.
func webAuthenticateHash(keys *auth.Service) func(ctx context.Context, h []byte) (comune, name string, err error) {
	if keys == nil {
		return nil
	}
	return func(ctx context.Context, h []byte) (string, string, error) {
		k, err := keys.AuthenticateHash(ctx, h)
		if err != nil {
			return "", "", err
		}
		if k.Role != auth.RoleComune {
			return "", k.Actor(), nil
		}
		return k.Comune, k.Actor(), nil
	}
}

// webPages builds the web pages of serve, verifying with the service's
// verifier (its trust anchors and audit log).
// The verification page takes a PDF as large as POST /v1/verify (the API
// gives the page's route that limit and room for the form), and the
// comune's page a signed copy as large as POST /v1/documents/{id}/signed
// less the form's envelope. Errors on the pages' paths (a body over the
// limit, a path that does not exist) are pages too (the second result,
// for fhttp.Config.PageError).
func webPages(cfg *Config, set *tmpl.Set, archive faldone.Archive, svc *docs.Service, v *verify.Verifier, keys *auth.Service, log *slog.Logger, m *metrics.Metrics) (func(fiber.Router), func(*fiber.Ctx, int, string) error, error) {
	signed := int64(cfg.BodyLimit) - 64<<10 // room for the multipart envelope
	if signed < 1024 {
		signed = int64(cfg.BodyLimit) / 2
	}
	store, _ := archive.(web.Store) // sessions and the CSRF secret in the archive's database
	pages, err := web.New(web.Config{
		Documents: svc, Archive: archive, Verifier: v,
		Authenticate: webAuthenticate(keys), AuthenticateHash: webAuthenticateHash(keys),
		Store: store, SecureCookies: cfg.SecureCookies,
		Comuni: set.Registry(), MaxUpload: int64(cfg.VerifyLimit), MaxSigned: signed, Logger: log,
		Verified: func(valid bool) { m.Verified(metrics.DoorWeb, valid) },
	})
	if err != nil {
		return nil, nil, err
	}
	return pages.Mount, pages.Error, nil
}

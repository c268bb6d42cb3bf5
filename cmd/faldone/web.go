package main

import (
	"context"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/audit"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/internal/web"
)

// webAuthenticate resolves a comune's API key for the web pages. It is nil
// until the service has an API key store: signing in to /comune then
// answers that comune access is not configured.
var webAuthenticate func(ctx context.Context, key string) (comune, name string, err error)

// webPages builds the web pages of serve. Their verifier trusts the CA of
// the seal and proves inclusion against checkpoints signed with a log key
// made for this process.
func webPages(cfg *Config, set *tmpl.Set, archive faldone.Archive, svc *docs.Service, seal *keys.Seal, log *slog.Logger) (func(fiber.Router), error) {
	anchors := &verify.Anchors{}
	if n := len(seal.Chain); n > 0 {
		anchors.Add(seal.Chain[n-1], "service")
	}
	v := &verify.Verifier{Anchors: anchors, Archive: archive, Messages: set}
	if store, ok := archive.(verify.LogStore); ok {
		skey, vkey, err := audit.NewKey("faldone/web-log")
		if err != nil {
			return nil, err
		}
		signer, err := audit.NewSigner(skey)
		if err != nil {
			return nil, err
		}
		v.Log = &verify.TreeLog{Store: store, Signer: signer, VKey: vkey}
	}
	max := int64(cfg.BodyLimit) - 64<<10 // room for the multipart envelope
	if max < 1024 {
		max = int64(cfg.BodyLimit) / 2
	}
	pages, err := web.New(web.Config{
		Documents: svc, Archive: archive, Verifier: v, Authenticate: webAuthenticate,
		Comuni: set.Registry(), MaxUpload: max, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return pages.Mount, nil
}

// Package web serves faldone's pages for people, beside the REST API:
//
//   - /verifica, public: upload a PDF and read, in plain words, whether it
//     is valid, who sealed and signed it and when, which comune's archived
//     document it is, whether its registration in the audit log is proved,
//     what changed after the seal, and why it is not valid;
//   - /comune: a comune signs in with its API key, sees its dossier (its
//     documents in workflow order, their versions and states), downloads
//     each PDF and sends back the copy it signed.
//
// Pages are rendered on the server with html/template in Italian (the
// default) or English, styled with Bootstrap Italia served from files
// embedded in the binary; every form works without JavaScript. Every POST
// form carries a CSRF token bound to the visitor (an anonymous cookie, or
// the session). A session is an opaque random id in an HttpOnly,
// SameSite=Strict cookie (Secure over TLS) that maps to a server-side
// record of the key; the key is checked again on every request, so
// revoking it ends the session.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"faldone/internal/comuni"
	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/verify"
)

// Documents is the part of the document service the pages use;
// *docs.Service implements it.
type Documents interface {
	// Latest returns the newest version of a document, or ENOTFOUND.
	Latest(ctx context.Context, id string) (*faldone.Record, error)
	// PDF returns one version (0: the newest) and its PDF, or ENOTFOUND.
	PDF(ctx context.Context, id string, version int) (*faldone.Record, []byte, error)
	// ReturnSigned archives the comune's signed copy as the next version,
	// or refuses it with EINVALID and the report naming the reasons.
	ReturnSigned(ctx context.Context, id string, signed []byte, lang, actor string) (*faldone.Record, *pades.CounterReport, error)
}

// Dossiers lists a comune's documents; faldone.Archive implements it.
type Dossiers interface {
	// Dossier lists every version of every document of a comune, oldest first.
	Dossier(ctx context.Context, istat string) ([]*faldone.Record, error)
}

// Config configures the pages.
type Config struct {
	Documents Documents // Required.
	Archive   Dossiers  // Required.
	// Verifier checks uploaded PDFs. Optional: without it /verifica says
	// verification is not available.
	Verifier *verify.Verifier
	// Authenticate resolves a comune's API key to its ISTAT code and the
	// name of the key's holder (recorded as the actor of an upload). It
	// returns an error for an unknown, expired or revoked key (any code
	// but EUNAVAILABLE is shown as a refused key), and comune "" for a
	// valid key that is not a comune's. Optional: without it signing in
	// answers that comune access is not configured.
	Authenticate func(ctx context.Context, key string) (comune, name string, err error)
	// AuthenticateHash is Authenticate by the SHA-256 of the key: a
	// session keeps only the hash, and every request of a signed-in
	// comune checks the key again through it, so revoking the key ends
	// the session. Required with Authenticate: without it sessions end
	// at their first request.
	AuthenticateHash func(ctx context.Context, keySHA256 []byte) (comune, name string, err error)
	// Comuni names the comuni on the pages. Optional: without it the
	// ISTAT code is shown.
	Comuni *comuni.Registry
	// MaxUpload is the largest PDF /verifica accepts, in bytes; default
	// 20 MiB, the limit of POST /v1/verify. The Fiber app's limit of the
	// route must be larger by the form's envelope.
	MaxUpload int64
	// MaxSigned is the largest signed copy /comune accepts, in bytes;
	// default MaxUpload.
	MaxSigned int64
	// Store keeps the sessions and the CSRF secret: the archive's
	// database, so that a restart keeps the sessions and any instance
	// serves any session. Optional: a MemoryStore of this process.
	Store Store
	// Secret keys the CSRF tokens. Optional: the one in Store, made on
	// first use and shared by every instance.
	Secret []byte
	// SecureCookies marks every cookie Secure even when the request did
	// not come over TLS (behind a TLS proxy that is not among the trusted
	// proxies, whose X-Forwarded-Proto is not believed).
	SecureCookies bool
	// SessionIdle and SessionMax end a session after this long without a
	// request, or this long after signing in; defaults 30 min and 8 h.
	SessionIdle, SessionMax time.Duration
	// Timeout is the deadline of one verification or upload; default 60 s.
	Timeout time.Duration
	// LoginLimit is how many failed sign-ins one address may make per
	// minute; default 10.
	LoginLimit int
	Logger     *slog.Logger     // Optional. Default slog.Default().
	Now        func() time.Time // Optional. The clock of sessions; default time.Now.
	// Verified is told the verdict of each verification. Optional.
	Verified func(valid bool)
}

// Pages serves the web pages.
type Pages struct {
	cfg      Config
	secret   []byte
	tmpl     *templates
	sessions *sessions
	msgs     *catalog
}

// New builds the pages; it fails when the embedded templates or messages
// are broken or a required field is missing.
func New(cfg Config) (*Pages, error) {
	if cfg.Documents == nil || cfg.Archive == nil {
		return nil, faldone.Errorf(faldone.EINVALID, "web: Documents and Archive are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Store == nil {
		cfg.Store = &MemoryStore{Now: cfg.Now}
	}
	secret := cfg.Secret
	if len(secret) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if secret, err = loadSecret(ctx, cfg.Store); err != nil {
			return nil, fmt.Errorf("web: CSRF secret: %w", err)
		}
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 20 << 20
	}
	if cfg.MaxSigned <= 0 {
		cfg.MaxSigned = cfg.MaxUpload
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 8 * time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.LoginLimit <= 0 {
		cfg.LoginLimit = 10
	}
	msgs, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Pages{cfg: cfg, secret: secret, tmpl: t, msgs: msgs,
		sessions: newSessions(storeAdapter{cfg.Store}, cfg.SessionIdle, cfg.SessionMax, cfg.Now, cfg.Logger)}, nil
}

// Mount adds the pages and their static files to r. Call it before any
// catch-all handler.
func (p *Pages) Mount(r fiber.Router) {
	r.Use("/static", staticFiles())
	r.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/verifica", fiber.StatusSeeOther) })
	r.Get("/verifica", p.verifyForm)
	r.Post("/verifica", p.verifyPost)
	r.Get("/comune", p.comune)
	r.Post("/comune/accesso", limiter.New(limiter.Config{
		Max: p.cfg.LoginLimit, Expiration: time.Minute, SkipSuccessfulRequests: true,
		LimitReached: func(c *fiber.Ctx) error {
			return p.render(c, fiber.StatusTooManyRequests, "login", &loginData{Error: "login.too_many"})
		},
	}), p.login)
	r.Post("/comune/uscita", p.logout)
	r.Get("/comune/documenti/:id/pdf", p.download)
	r.Post("/comune/documenti/:id/firmato", p.upload)
}

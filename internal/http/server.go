// Package http is faldone's REST API on Fiber: routes, handlers, the
// central mapping of errors to RFC 9457 problems, and metrics.
package http

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"faldone/internal/auth"
	"faldone/internal/batch"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/ledger"
	fmetrics "faldone/internal/metrics"
	"faldone/internal/queue"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/internal/webhook"
)

// Config configures the API.
type Config struct {
	Templates     *tmpl.Set                       // Required.
	Documents     *docs.Service                   // Required.
	Version       string                          // Optional. Reported by /healthz and in the OpenAPI document.
	BodyLimit     int                             // Optional. Maximum request body in bytes; default 1 MiB.
	RenderTimeout time.Duration                   // Optional. Deadline of one render and seal; default 30 s.
	Logger        *slog.Logger                    // Optional. Default slog.Default().
	Ready         func(ctx context.Context) error // Optional. Readiness check of dependencies.
	Verifier      *verify.Verifier                // Optional. Verifies PDFs (POST /v1/verify) and exports evidence; nil answers 503.
	VerifyLimit   int                             // Optional. Maximum PDF to verify in bytes; default 20 MiB.
	Ledger        *ledger.Ledger                  // Optional. The audit log; nil answers its routes with 503.
	Metrics       *fmetrics.Metrics               // Optional. The service's metrics, shared with the parts that report into them; default a new set.
	Batches       *batch.Service                  // Optional. Batches; nil answers their routes with 503.
	BatchLimit    int                             // Optional. Maximum body of POST /v1/batches in bytes; default 32 MiB.
	Webhooks      *webhook.Service                // Optional. Webhook subscriptions; nil answers their routes with 503.
	Events        Events                          // Optional. Receives document.refused_copy.
	Idempotency   *queue.Idempotency              // Optional. Keeps the answers of POST /v1/documents/{kind} sent with an Idempotency-Key; nil ignores the header.

	Keys            *auth.Service // API keys. Without it only public routes answer.
	CORSOrigins     []string      // Optional. Origins allowed by CORS; none: CORS off.
	HSTSMaxAge      time.Duration // Optional. Strict-Transport-Security max-age; 0: no header.
	RateWindow      time.Duration // Optional. Window of the rate limits; default 1 minute.
	VerifyRate      int           // Optional. POST /v1/verify per client IP and window; default 30, negative: no limit.
	AuthFailureRate int           // Optional. Failed authentications per client IP and window; default 10, negative: no limit.
	ProxyHeader     string        // Optional. Header naming the client IP (X-Real-IP), believed only from TrustedProxies.
	TrustedProxies  []string      // Optional. IPs or CIDRs of the reverse proxies.
	MaxConnsPerIP   int           // Optional. Open connections per client address (proxies excepted); default 64, negative: no cap.
	// Mount adds more routes (the web pages) after the API's and before
	// the 404 fallback. Optional.
	Mount []func(fiber.Router)
	// PageError answers an error on a path of the web pages (/, /verifica,
	// /comune, /static) as a page for people, with the status and the
	// problem code the API would answer, instead of problem+json: a body
	// over the limit, a refused request, a route that does not exist.
	// Optional: without it those paths answer problem+json too.
	PageError func(c *fiber.Ctx, status int, code string) error
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	app     *fiber.App
	metrics *metrics
	limits  map[string]int // body limits by route, see limitBody
	apiDocState
}

// New builds the API.
func New(cfg Config) *Server {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.RenderTimeout <= 0 {
		cfg.RenderTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.VerifyLimit <= 0 {
		cfg.VerifyLimit = 20 << 20
	}
	if cfg.BatchLimit <= 0 {
		cfg.BatchLimit = BatchLimitDefault
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	// Signed copies are judged as POST /v1/verify judges them.
	if cfg.Documents != nil && cfg.Documents.Trust == nil && cfg.Verifier != nil {
		cfg.Documents.Trust = cfg.Verifier.Policy()
	}
	s := &Server{cfg: cfg, metrics: newMetrics(cfg.Metrics, cfg.Templates.Kinds(), cfg.Ledger)}
	s.limits = s.routeLimits()
	s.app = fiber.New(fiber.Config{
		AppName:   "faldone",
		BodyLimit: s.maxBody(),
		// Bodies are read by authorize, under the route's limit, as they
		// arrive (see limits.go): not allocated from Content-Length.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadBufferSize:               8 << 10, // headers; more is a 431
		ErrorHandler:                 s.errorHandler,
		DisableStartupMessage:        true,
		ReadTimeout:                  60 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  120 * time.Second,

		// The client IP of the rate limits: ProxyHeader only from TrustedProxies.
		ProxyHeader:             cfg.ProxyHeader,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.TrustedProxies,
		EnableIPValidation:      true,
	})
	s.app.Use(recover.New()) // the last resort, should observe itself fail
	s.app.Use(requestid.New())
	s.app.Use(s.observe)
	s.app.Use(s.recoverPanic)
	s.app.Use(s.limitBody)
	s.secure()
	s.routes()
	return s
}

// App returns the Fiber application, for Listen and tests.
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until the app is shut down.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve serves on ln, holding each client address to
// Config.MaxConnsPerIP open connections, until the app is shut down.
func (s *Server) Serve(ln net.Listener) error {
	return s.app.Listener(limitConns(ln, s.cfg.MaxConnsPerIP, s.cfg.TrustedProxies))
}

// Shutdown stops accepting connections and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

func (s *Server) routes() {
	a := s.app
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", s.metrics.handler())
	a.Get("/openapi.json", s.openapi)
	a.Get("/docs", s.docsPage)
	a.Get("/docs/:file", s.docsPage)
	v1 := a.Group("/v1")
	v1.Get("/templates", s.listTemplates)
	v1.Get("/templates/:kind", s.getTemplate)
	v1.Get("/comuni", s.searchComuni)
	v1.Get("/comuni/:istat", s.getComune)
	v1.Post("/documents/:kind", s.createDocument)
	v1.Get("/documents/:id", s.getDocument)
	v1.Get("/documents/:id/pdf", s.getPDF)
	v1.Post("/documents/:id/signed", s.idempotent, s.returnSigned)
	v1.Post("/verify", s.verifyPDF)
	v1.Get("/documents/:id/evidence", s.evidence)
	s.auditRoutes(v1)
	s.batchRoutes(v1)
	s.webhookRoutes(v1)
	v1.Get("/keys", s.listKeys)
	v1.Post("/keys", s.createKey)
	v1.Delete("/keys/:id", s.revokeKey)
	for _, m := range s.cfg.Mount {
		m(a)
	}
	a.Use(func(c *fiber.Ctx) error {
		return faldone.Errorf(faldone.ENOTFOUND, "no route %s %s", c.Method(), c.Path())
	})
}

// lang returns the language of a request: ?lang=, else Accept-Language.
func lang(c *fiber.Ctx) string {
	return tmpl.MatchLanguage(c.Query("lang"), c.Get(fiber.HeaderAcceptLanguage))
}

func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	route := c.Route().Path
	if c.Route().Method == "USE" || route == "" || route == "/" {
		route = "unmatched"
	}
	status := c.Response().StatusCode()
	s.metrics.observe(c.Method(), route, status, time.Since(start))
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).Log(c.UserContext(), level, "request",
		"method", c.Method(), "route", route, "status", status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
	return nil
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, Health{Status: "ok", Version: s.cfg.Version})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			faldone.Logger(c.UserContext(), s.cfg.Logger).WarnContext(c.UserContext(), "not ready", "error", err.Error())
			return &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "not ready: " + faldone.ErrorMessage(err), Err: err}
		}
	}
	return sendJSON(c, fiber.StatusOK, Readiness{Status: "ready"})
}

func isJSON(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return ct == "application/json" || (strings.HasPrefix(ct, "application/") && strings.HasSuffix(ct, "+json"))
}

// Package http is faldone's REST API on Fiber: routes, handlers, the
// central mapping of errors to RFC 9457 problems, and metrics.
package http

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/tmpl"
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
	// Mount adds more routes (the web pages) after the API's and before
	// the 404 fallback. Optional.
	Mount []func(fiber.Router)
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	app     *fiber.App
	metrics *metrics
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
	s := &Server{cfg: cfg, metrics: newMetrics(cfg.Templates.Kinds())}
	s.app = fiber.New(fiber.Config{
		AppName:               "faldone",
		BodyLimit:             cfg.BodyLimit,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
	})
	s.app.Use(recover.New())
	s.app.Use(requestid.New())
	s.app.Use(s.observe)
	s.routes()
	return s
}

// App returns the Fiber application, for Listen and tests.
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until the app is shut down.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Shutdown stops accepting connections and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

func (s *Server) routes() {
	a := s.app
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", s.metrics.handler())
	a.Get("/openapi.json", s.openapi)
	v1 := a.Group("/v1")
	v1.Get("/templates", s.listTemplates)
	v1.Get("/templates/:kind", s.getTemplate)
	v1.Get("/comuni", s.searchComuni)
	v1.Get("/comuni/:istat", s.getComune)
	v1.Post("/documents/:kind", s.createDocument)
	v1.Get("/documents/:id", s.getDocument)
	v1.Get("/documents/:id/pdf", s.getPDF)
	v1.Post("/documents/:id/signed", s.returnSigned)
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
	s.cfg.Logger.Log(c.UserContext(), level, "request",
		"request_id", c.Locals(requestid.ConfigDefault.ContextKey),
		"method", c.Method(), "route", route, "status", status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
	return nil
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			return &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "not ready: " + err.Error()}
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

func isJSON(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return ct == "application/json" || (strings.HasPrefix(ct, "application/") && strings.HasSuffix(ct, "+json"))
}

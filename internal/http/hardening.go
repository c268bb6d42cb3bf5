package http

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/gofiber/fiber/v2/utils"

	"faldone/internal/auth"
	"faldone/internal/faldone"
)

// contentSecurityPolicy suits server-rendered pages whose scripts, styles,
// fonts and images are all served by faldone itself.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Defaults of the hardening settings.
const (
	DefaultRateWindow      = time.Minute
	DefaultVerifyRate      = 30 // POST /v1/verify and POST /verifica together, per client IP and window
	DefaultAuthFailureRate = 10 // failed authentications per client IP and window
)

var errTooMany = &faldone.Error{Code: faldone.ETOOMANY, MessageID: "error.rate_limited", Message: "too many requests: try again later"}

// secure installs, in order: the request-scoped logger, the security
// headers, CORS when configured, the rate limit of verification, and
// authentication, the rate limit of failed authentications and
// authorization (see auth.go).
func (s *Server) secure() {
	c := &s.cfg
	if c.RateWindow <= 0 {
		c.RateWindow = DefaultRateWindow
	}
	if c.VerifyRate == 0 {
		c.VerifyRate = DefaultVerifyRate
	}
	if c.AuthFailureRate == 0 {
		c.AuthFailureRate = DefaultAuthFailureRate
	}
	a := s.app
	a.Use(s.requestLogger)
	a.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy,
		ReferrerPolicy:        "no-referrer",
		XFrameOptions:         "DENY",
	}))
	if c.HSTSMaxAge > 0 {
		hsts := "max-age=" + strconv.Itoa(int(c.HSTSMaxAge/time.Second)) + "; includeSubDomains"
		a.Use(func(ctx *fiber.Ctx) error {
			ctx.Set(fiber.HeaderStrictTransportSecurity, hsts)
			return ctx.Next()
		})
	}
	if len(c.CORSOrigins) > 0 {
		a.Use(cors.New(cors.Config{
			AllowOrigins:  strings.Join(c.CORSOrigins, ","),
			AllowMethods:  "GET,POST,DELETE",
			AllowHeaders:  "Authorization,X-API-Key,Content-Type,Accept-Language",
			ExposeHeaders: "Location,Retry-After,X-Document-Version,X-Request-ID",
			MaxAge:        600,
		}))
	}
	if c.VerifyRate > 0 {
		// One limit, one counter per client, for every door that verifies
		// a PDF: the API and the page.
		doors := [][]string{pattern("/v1/verify"), pattern("/verifica")}
		a.Use(limiter.New(limiter.Config{
			Next: func(ctx *fiber.Ctx) bool {
				if ctx.Method() != fiber.MethodPost {
					return true
				}
				p := pattern(ctx.Path())
				for _, d := range doors {
					if ok, _ := matches(d, p); ok {
						return false
					}
				}
				return true
			},
			Max:          c.VerifyRate,
			Expiration:   c.RateWindow,
			LimitReached: func(*fiber.Ctx) error { return errTooMany },
		}))
	}
	a.Use(s.authenticate)
	if c.AuthFailureRate > 0 {
		a.Use(limiter.New(limiter.Config{
			Next:         func(ctx *fiber.Ctx) bool { return ctx.Locals(localAuthErr) == nil },
			Max:          c.AuthFailureRate,
			Expiration:   c.RateWindow,
			LimitReached: func(*fiber.Ctx) error { return errTooMany },
		}))
	}
	a.Use(s.authorize)
}

// requestLogger puts in the request's context a logger that names the
// request on every line: handlers and the services they call log through
// faldone.Logger(ctx, ...).
//
// A request id the client sent is kept only if it looks like one (up to
// 64 letters, digits, dots, dashes and underscores, and not a key), so
// that nothing else a client sends reaches the logs through it.
func (s *Server) requestLogger(c *fiber.Ctx) error {
	rid, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	if !safeRequestID(rid) {
		rid = utils.UUIDv4()
		c.Locals(requestid.ConfigDefault.ContextKey, rid)
		c.Set(fiber.HeaderXRequestID, rid)
	}
	c.SetUserContext(faldone.WithLogger(c.UserContext(), s.cfg.Logger.With("request_id", rid)))
	return c.Next()
}

func safeRequestID(id string) bool {
	if id == "" || len(id) > 64 || strings.HasPrefix(id, auth.Prefix) {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

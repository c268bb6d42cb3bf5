package http

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
)

// Request bodies are limited per route. The HTTP server reads at most the
// largest limit of any route (fiber.Config.BodyLimit, so a body beyond it
// is refused before it is read); limitBody then holds every other route to
// its own limit: Config.BodyLimit by default, Config.VerifyLimit on the
// routes that take a PDF to verify.

// routeLimits returns the routes whose limit is not Config.BodyLimit, by
// path as limitFor normalises it.
func (s *Server) routeLimits() map[string]int {
	return map[string]int{
		"/v1/verify":  s.cfg.VerifyLimit,
		"/v1/batches": s.cfg.BatchLimit,
	}
}

// limitFor returns the body limit of a request path.
func (s *Server) limitFor(path string) int {
	p := strings.ToLower(strings.TrimRight(path, "/"))
	if n, ok := s.limits[p]; ok {
		return n
	}
	return s.cfg.BodyLimit
}

// maxBody returns the largest body limit of any route.
func (s *Server) maxBody() int {
	n := s.cfg.BodyLimit
	for _, l := range s.limits {
		n = max(n, l)
	}
	return n
}

// limitBody refuses a request whose body is over its route's limit, by
// its declared length before the handler runs and by its actual length.
// It also refuses compressed bodies (Content-Encoding other than
// identity): fiber.Ctx.Body would inflate them with no limit.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if enc := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)); enc != "" && !strings.EqualFold(enc, "identity") {
		return &faldone.Error{Code: faldone.EUNSUPPORTED, MessageID: "error.unsupported_encoding", Params: map[string]any{"Encoding": enc},
			Message: fmt.Sprintf("compressed request bodies (Content-Encoding %q) are not accepted", enc)}
	}
	limit := s.limitFor(c.Path())
	if n := c.Request().Header.ContentLength(); n > limit || len(c.Request().Body()) > limit {
		return tooLarge(limit)
	}
	return c.Next()
}

// tooLarge is the error of a body over limit bytes.
func tooLarge(limit int) error {
	return &faldone.Error{Code: faldone.ETOOLARGE, MessageID: "error.too_large_limit", Params: map[string]any{"Limit": limit},
		Message: fmt.Sprintf("the request body is over the limit of %d bytes", limit)}
}

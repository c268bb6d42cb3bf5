package http

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
)

// Request bodies are limited per route, and memory follows what a client
// actually sent, not what it declared.
//
// The server streams request bodies (fiber.Config.StreamRequestBody): it
// reads the headers and at most 8 KiB of the body before the handlers
// run, whatever the Content-Length says. limitBody refuses, from the
// headers alone, ambiguous framing, compressed bodies and a declared
// length over the route's limit; authorize then, once the caller is
// known to be allowed on the route, reads the body under the route's own
// limit (bodyLimitOf) into a buffer that grows with what arrives. So an
// unauthenticated client reaches no body buffer at all on a route that
// needs a key, and on a public route holds at most what it has sent.
//
// The route's limit is, from the policy: Config.BodyLimit by default,
// none for routes that take no body, a route's own (POST /v1/keys), and
// Config.VerifyLimit for POST /v1/verify (the routes of limitFor).

// routeLimits returns the routes whose limit is not Config.BodyLimit, by
// path as limitFor normalises it.
func (s *Server) routeLimits() map[string]int {
	return map[string]int{
		"/v1/verify":  s.cfg.VerifyLimit,
		"/v1/batches": s.cfg.BatchLimit,
		// The verification page takes a PDF as large as POST /v1/verify,
		// in a multipart form.
		"/verifica": s.cfg.VerifyLimit + pageEnvelope,
	}
}

// pageEnvelope is the room a page's multipart form needs beside its file:
// the boundaries, the part headers and the CSRF field.
const pageEnvelope = 64 << 10

// limitFor returns the body limit of a request path for the routes whose
// policy says they enforce their own (ownLimit).
func (s *Server) limitFor(path string) int {
	p := strings.ToLower(strings.TrimRight(path, "/"))
	if n, ok := s.limits[p]; ok {
		return n
	}
	return s.cfg.BodyLimit
}

// bodyLimitOf returns the largest body a request to method and path may
// carry: 0 when the route takes none.
func (s *Server) bodyLimitOf(method, path string) int {
	a, ok := policyFor(method, path)
	if !ok {
		return s.cfg.BodyLimit
	}
	switch {
	case a.body == 0:
		return s.cfg.BodyLimit
	case a.body < 0:
		return 0
	case a.body == ownLimit:
		return s.limitFor(path)
	}
	return a.body
}

// maxBody returns the largest body limit of any route.
func (s *Server) maxBody() int {
	n := s.cfg.BodyLimit
	for _, l := range s.limits {
		n = max(n, l)
	}
	return n
}

// errFraming answers a request whose body length is ambiguous.
var errFraming = &faldone.Error{Code: EBADREQUEST, MessageID: "error.framing",
	Message: "the request has both Content-Length and Transfer-Encoding, or a transfer coding other than chunked: its length is ambiguous (RFC 9112, section 6.3)"}

// limitBody refuses, before anything reads the body: ambiguous framing
// (Content-Length with Transfer-Encoding, a Transfer-Encoding other than
// chunked; the fasthttp parser already refuses two Content-Lengths and
// unknown codings), compressed bodies (Content-Encoding other than
// identity: fiber.Ctx.Body would inflate them with no limit) and a
// declared length over the route's limit.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if framingAmbiguous(c.Request().Header.RawHeaders()) {
		c.Set(fiber.HeaderConnection, "close")
		c.Context().SetConnectionClose()
		return errFraming
	}
	if enc := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)); enc != "" && !strings.EqualFold(enc, "identity") {
		return &faldone.Error{Code: faldone.EUNSUPPORTED, MessageID: "error.unsupported_encoding", Params: map[string]any{"Encoding": enc},
			Message: fmt.Sprintf("compressed request bodies (Content-Encoding %q) are not accepted", enc)}
	}
	limit := s.bodyLimitOf(c.Method(), c.Path())
	if n := c.Request().Header.ContentLength(); n > limit {
		return s.tooLargeFor(limit)
	}
	return c.Next()
}

// framingAmbiguous reports whether raw request headers carry both a
// Content-Length and a Transfer-Encoding, or a Transfer-Encoding that is
// not exactly "chunked".
func framingAmbiguous(raw []byte) bool {
	var cl, te bool
	for _, line := range bytes.Split(raw, []byte("\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		switch {
		case bytes.EqualFold(name, []byte(fiber.HeaderContentLength)):
			cl = true
		case bytes.EqualFold(name, []byte(fiber.HeaderTransferEncoding)):
			if te || !bytes.EqualFold(bytes.TrimSpace(value), []byte("chunked")) {
				return true
			}
			te = true
		}
	}
	return cl && te
}

// readBody reads the body of a request under limit bytes, into memory
// that grows with what arrives, and makes it the request's body for the
// handlers. A body over the limit is a 413 naming the route's limit.
func (s *Server) readBody(c *fiber.Ctx, limit int) error {
	req := c.Request()
	if !req.IsBodyStream() {
		if len(req.Body()) > limit {
			return s.tooLargeFor(limit)
		}
		return nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(req.BodyStream(), int64(limit)+1))
	if n > int64(limit) {
		return s.tooLargeFor(limit)
	}
	if err != nil {
		return &faldone.Error{Code: EBADREQUEST, MessageID: "error.body_unreadable", Message: "the request body could not be read to its end", Err: err}
	}
	req.SetBodyRaw(buf.Bytes())
	return nil
}

// tooLargeFor is the error of a body over a route's limit: limit bytes,
// or none at all.
func (s *Server) tooLargeFor(limit int) error {
	if limit <= 0 {
		return errBodyRefuse
	}
	return tooLarge(limit)
}

// tooLarge is the error of a body over limit bytes.
func tooLarge(limit int) error {
	return &faldone.Error{Code: faldone.ETOOLARGE, MessageID: "error.too_large_limit", Params: map[string]any{"Limit": limit},
		Message: fmt.Sprintf("the request body is over the limit of %d bytes", limit)}
}

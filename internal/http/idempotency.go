package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/queue"
)

// checkIdempotencyKey refuses keys that are empty, long or not printable.
func checkIdempotencyKey(key string) error {
	if len(key) == 0 || len(key) > 255 {
		return faldone.Errorf(faldone.EINVALID, "the Idempotency-Key must have 1 to 255 characters")
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return faldone.Errorf(faldone.EINVALID, "the Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return nil
}

// idempotentCreate is createDocument for a request with an
// Idempotency-Key: the first request with the key makes the document, and
// a retry with the same key and body gets the same answer (with
// Idempotent-Replayed: true) instead of a second document, even when the
// first request's server died before answering.
func (s *Server) idempotentCreate(c *fiber.Ctx, kind faldone.Kind, body []byte, key string) error {
	if err := checkIdempotencyKey(key); err != nil {
		return err
	}
	l := lang(c)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", kind, l)
	h.Write(body)
	sum := hex.EncodeToString(h.Sum(nil))
	scope := actor(c) + " POST /v1/documents/" + string(kind)
	ctx := c.UserContext()
	e, answered, err := s.reserveKey(c, scope, key, sum, docs.NewID())
	if answered || err != nil {
		return err
	}
	id := e.Location
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RenderTimeout)
	defer cancel()
	rec, err := s.cfg.Documents.CreateID(rctx, id, kind, body, l, actor(c))
	if faldone.ErrorCode(err) == faldone.ECONFLICT {
		// The request that reserved the key archived it and died.
		if got, _, lerr := s.cfg.Documents.PDF(ctx, id, 1); lerr == nil {
			rec, err = got, nil
		}
	}
	if err != nil {
		s.releaseKey(ctx, scope, key)
		if code := faldone.ErrorCode(err); code == faldone.EINTERNAL || code == faldone.EUNAVAILABLE {
			s.metrics.renderFailures.WithLabelValues(string(kind)).Inc()
		}
		return err
	}
	s.metrics.rendered.WithLabelValues(string(kind)).Inc()
	b, err := jsonMarshal(documentResponse(rec))
	if err != nil {
		return err
	}
	loc := "/v1/documents/" + rec.ID
	if err := s.cfg.Idempotency.Complete(context.WithoutCancel(ctx), scope, key, fiber.StatusCreated, loc, b); err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, loc)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(fiber.StatusCreated).Send(b)
}

// idempotent is the middleware of the POSTs whose retry would otherwise
// be refused or repeated (a signed copy, a subscription): with an
// Idempotency-Key, a success is stored and a retry with the same key and
// body gets it again (Idempotent-Replayed: true); a failure leaves the key
// free.
func (s *Server) idempotent(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if key == "" || s.cfg.Idempotency == nil {
		return c.Next()
	}
	key = strings.Clone(key)
	if err := checkIdempotencyKey(key); err != nil {
		return err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", c.Path(), lang(c), c.Get(fiber.HeaderContentType))
	h.Write(c.Body())
	sum := hex.EncodeToString(h.Sum(nil))
	scope := actor(c) + " POST " + c.Route().Path
	ctx := c.UserContext()
	if _, answered, err := s.reserveKey(c, scope, key, sum, ""); answered || err != nil {
		return err
	}
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil || status < 200 || status > 299 {
		s.releaseKey(ctx, scope, key)
		return err
	}
	body := bytes.Clone(c.Response().Body())
	if cerr := s.cfg.Idempotency.Complete(context.WithoutCancel(ctx), scope, key, status, string(c.Response().Header.Peek(fiber.HeaderLocation)), body); cerr != nil {
		faldone.Logger(ctx, s.cfg.Logger).ErrorContext(ctx, "store idempotency key", "error", cerr.Error())
	}
	return nil
}

// reserveKey reserves key in scope for a request whose body hashes to sum,
// remembering ref with it. answered is true when the request needs no
// further work: a key used for another body or still being answered is
// refused (err), and a key already answered replays the stored answer
// (Idempotent-Replayed: true).
func (s *Server) reserveKey(c *fiber.Ctx, scope, key, sum, ref string) (e *queue.IdempotencyEntry, answered bool, err error) {
	e, reserved, err := s.cfg.Idempotency.Reserve(c.UserContext(), scope, key, sum, ref, 2*s.cfg.RenderTimeout)
	if err != nil {
		return nil, true, err
	}
	switch {
	case e.RequestSHA256 != sum:
		return e, true, &faldone.Error{Code: faldone.ECONFLICT, MessageID: "error.idempotency_mismatch",
			Message: fmt.Sprintf("the Idempotency-Key %q was used for another request: use a new key for a new request", key)}
	case !reserved && e.Status == 0:
		return e, true, faldone.Errorf(faldone.ECONFLICT, "a request with the Idempotency-Key %q is being answered: retry in a moment", key)
	case !reserved:
		c.Set("Idempotent-Replayed", "true")
		if e.Location != "" {
			c.Set(fiber.HeaderLocation, e.Location)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return e, true, c.Status(e.Status).Send(e.Body)
	}
	return e, false, nil
}

// releaseKey frees key after a failed request, so that a retry may try
// again; a failure to free it is logged.
func (s *Server) releaseKey(ctx context.Context, scope, key string) {
	if err := s.cfg.Idempotency.Release(context.WithoutCancel(ctx), scope, key); err != nil {
		faldone.Logger(ctx, s.cfg.Logger).ErrorContext(ctx, "release idempotency key", "error", err.Error())
	}
}

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
	e, reserved, err := s.cfg.Idempotency.Reserve(ctx, scope, key, sum, docs.NewID(), 2*s.cfg.RenderTimeout)
	if err != nil {
		return err
	}
	switch {
	case e.RequestSHA256 != sum:
		return &faldone.Error{Code: faldone.ECONFLICT, MessageID: "error.idempotency_mismatch",
			Message: fmt.Sprintf("the Idempotency-Key %q was used for another request: use a new key for a new request", key)}
	case !reserved && e.Status == 0:
		return faldone.Errorf(faldone.ECONFLICT, "a request with the Idempotency-Key %q is being answered: retry in a moment", key)
	case !reserved:
		c.Set("Idempotent-Replayed", "true")
		c.Set(fiber.HeaderLocation, e.Location)
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Status(e.Status).Send(e.Body)
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
		if rerr := s.cfg.Idempotency.Release(context.WithoutCancel(ctx), scope, key); rerr != nil {
			faldone.Logger(ctx, s.cfg.Logger).ErrorContext(ctx, "release idempotency key", "error", rerr.Error())
		}
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
	e, reserved, err := s.cfg.Idempotency.Reserve(ctx, scope, key, sum, "", 2*s.cfg.RenderTimeout)
	if err != nil {
		return err
	}
	switch {
	case e.RequestSHA256 != sum:
		return &faldone.Error{Code: faldone.ECONFLICT, MessageID: "error.idempotency_mismatch",
			Message: fmt.Sprintf("the Idempotency-Key %q was used for another request: use a new key for a new request", key)}
	case !reserved && e.Status == 0:
		return faldone.Errorf(faldone.ECONFLICT, "a request with the Idempotency-Key %q is being answered: retry in a moment", key)
	case !reserved:
		c.Set("Idempotent-Replayed", "true")
		if e.Location != "" {
			c.Set(fiber.HeaderLocation, e.Location)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Status(e.Status).Send(e.Body)
	}
	err = c.Next()
	status := c.Response().StatusCode()
	if err != nil || status < 200 || status > 299 {
		if rerr := s.cfg.Idempotency.Release(context.WithoutCancel(ctx), scope, key); rerr != nil {
			faldone.Logger(ctx, s.cfg.Logger).ErrorContext(ctx, "release idempotency key", "error", rerr.Error())
		}
		return err
	}
	body := bytes.Clone(c.Response().Body())
	if cerr := s.cfg.Idempotency.Complete(context.WithoutCancel(ctx), scope, key, status, string(c.Response().Header.Peek(fiber.HeaderLocation)), body); cerr != nil {
		faldone.Logger(ctx, s.cfg.Logger).ErrorContext(ctx, "store idempotency key", "error", cerr.Error())
	}
	return nil
}

package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
	"faldone/internal/pades"
	"faldone/internal/webhook"
)

// Events is where the API reports what the archive does not record (a
// refused copy). Implemented by webhook.Service.
type Events interface {
	Emit(ctx context.Context, typ string, data any) error
}

// webhookRoutes adds the admin API of webhook subscriptions.
func (s *Server) webhookRoutes(v1 fiber.Router) {
	v1.Get("/webhooks", s.listWebhooks)
	v1.Post("/webhooks", s.createWebhook)
	v1.Get("/webhooks/:id", s.getWebhook)
	v1.Delete("/webhooks/:id", s.disableWebhook)
	v1.Get("/webhooks/:id/deliveries", s.webhookDeliveries)
	v1.Post("/webhooks/:id/deliveries/:delivery/redeliver", s.redeliver)
}

func (s *Server) webhooks() (*webhook.Service, error) {
	if s.cfg.Webhooks == nil {
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "webhooks are not configured on this server"}
	}
	return s.cfg.Webhooks, nil
}

// WebhookRequest is the body of POST /v1/webhooks.
type WebhookRequest struct {
	URL         string   `json:"url"`                   // Required.
	Events      []string `json:"events"`                // Required: event types, or ["*"].
	Description string   `json:"description,omitempty"` // Optional.
}

// WebhookCreated is the answer to POST /v1/webhooks: the subscription and
// its signing secret, shown this once.
type WebhookCreated struct {
	Subscription *webhook.Subscription `json:"subscription"`
	Secret       string                `json:"secret"`
}

func (s *Server) createWebhook(c *fiber.Ctx) error {
	ws, err := s.webhooks()
	if err != nil {
		return err
	}
	if !isJSON(c.Get(fiber.HeaderContentType)) {
		return faldone.Errorf(faldone.EUNSUPPORTED, "the body must be application/json, not %q", c.Get(fiber.HeaderContentType))
	}
	var req WebhookRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return faldone.Errorf(faldone.EMALFORMED, "the body must be a JSON object with url, events and, optionally, description")
	}
	sub, secret, err := ws.Subscribe(c.UserContext(), req.URL, req.Events, req.Description)
	if err != nil {
		return err
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).InfoContext(c.UserContext(), "webhook subscribed", "subscription", sub.ID, "url", sub.URL, "events", sub.Events, "by", actor(c))
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderLocation, "/v1/webhooks/"+sub.ID)
	return sendJSON(c, fiber.StatusCreated, WebhookCreated{Subscription: sub, Secret: secret})
}

func (s *Server) listWebhooks(c *fiber.Ctx) error {
	ws, err := s.webhooks()
	if err != nil {
		return err
	}
	subs, err := ws.Subscriptions(c.UserContext())
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": subs})
}

func (s *Server) getWebhook(c *fiber.Ctx) error {
	ws, err := s.webhooks()
	if err != nil {
		return err
	}
	sub, err := ws.Subscription(c.UserContext(), strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, sub)
}

func (s *Server) disableWebhook(c *fiber.Ctx) error {
	ws, err := s.webhooks()
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	if err := ws.Disable(c.UserContext(), id); err != nil {
		return err
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).InfoContext(c.UserContext(), "webhook disabled", "subscription", id, "by", actor(c))
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) webhookDeliveries(c *fiber.Ctx) error {
	ws, err := s.webhooks()
	if err != nil {
		return err
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return faldone.Errorf(faldone.EINVALID, "limit must be a number from 1 to 1000")
		}
		limit = n
	}
	ds, err := ws.Deliveries(c.UserContext(), strings.Clone(c.Params("id")), limit)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": ds})
}

func (s *Server) redeliver(c *fiber.Ctx) error {
	ws, err := s.webhooks()
	if err != nil {
		return err
	}
	id, d := strings.Clone(c.Params("id")), strings.Clone(c.Params("delivery"))
	if err := ws.Redeliver(c.UserContext(), id, d); err != nil {
		return err
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).InfoContext(c.UserContext(), "webhook redelivery", "subscription", id, "delivery", d, "by", actor(c))
	return sendJSON(c, fiber.StatusAccepted, fiber.Map{"delivery": d, "state": webhook.Pending})
}

// refusedCopy reports a copy returned as signed that was refused
// (EINVALID) as document.refused_copy. A failure to report it is logged:
// the refusal itself stands.
func (s *Server) refusedCopy(c *fiber.Ctx, doc *faldone.Record, pdf []byte, report *pades.CounterReport, err error) {
	if s.cfg.Events == nil || faldone.ErrorCode(err) != faldone.EINVALID {
		return
	}
	reasons := []string{}
	if report != nil {
		for _, p := range report.Problems {
			reasons = append(reasons, p.Reason)
		}
	}
	if len(reasons) == 0 {
		reasons = append(reasons, faldone.ErrorMessage(err))
	}
	sum := sha256.Sum256(pdf)
	data := map[string]any{
		"id": doc.ID, "version": doc.Version, "kind": doc.Kind, "comune": doc.Comune,
		"copy_sha256": hex.EncodeToString(sum[:]), "size": len(pdf), "reasons": reasons, "actor": actor(c),
	}
	if eerr := s.cfg.Events.Emit(c.UserContext(), webhook.DocumentRefusedCopy, data); eerr != nil {
		faldone.Logger(c.UserContext(), s.cfg.Logger).ErrorContext(c.UserContext(), "could not queue document.refused_copy", "id", doc.ID, "error", eerr.Error())
	}
}

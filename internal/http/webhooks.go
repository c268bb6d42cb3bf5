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
	v1.Post("/webhooks", s.idempotent, s.createWebhook)
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

// queueOperations are the OpenAPI operations of batches and webhooks.
func queueOperations() []op {
	batchBody := map[string]any{"oneOf": []any{
		map[string]any{"type": "array", "items": map[string]any{"type": "object"}, "description": "inputs of ?kind="},
		map[string]any{"type": "object", "properties": map[string]any{
			"kind": map[string]any{"type": "string"}, "lang": map[string]any{"type": "string"},
			"shared": map[string]any{"type": "object"}, "items": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
			"csv": map[string]any{"type": "string", "description": "a header of field names (a.b nests), a row per item, merged over shared"}}},
	}}
	pBatch := param{name: "id", in: "path", required: true, description: "batch id", schema: map[string]any{"type": "string"}}
	pHook := param{name: "id", in: "path", required: true, description: "subscription id", schema: map[string]any{"type": "string"}}
	pDelivery := param{name: "delivery", in: "path", required: true, description: "delivery id", schema: map[string]any{"type": "string"}}
	qKind := param{name: "kind", in: "query", description: "document kind of a JSON array, NDJSON or CSV body", schema: map[string]any{"type": "string"}}
	qItems := param{name: "items", in: "query", description: "false: progress only", schema: map[string]any{"type": "boolean"}}
	object := map[string]any{}
	return []op{
		{method: "POST", path: "/v1/batches", id: "createBatch", tag: "batches", summary: "Make many documents of one kind; 202 at once",
			description: "A JSON array or envelope, NDJSON (application/x-ndjson) or CSV (text/csv). Idempotency-Key makes a retry answer the same batch.",
			params:      []param{qKind, qLang}, body: "json", requestSchema: batchBody, ok: 202, okType: BatchResponse{}, problems: []int{404, 409, 503}},
		{method: "GET", path: "/v1/batches/{id}", id: "getBatch", tag: "batches", summary: "A batch's progress and per-item results", params: []param{pBatch, qItems}, ok: 200, okType: BatchResponse{}, problems: []int{404, 503}},
		{method: "GET", path: "/v1/batches/{id}/events", id: "getBatchEvents", tag: "batches", summary: "A batch's progress as Server-Sent Events (progress, then done)", params: []param{pBatch}, ok: 200, media: "text/event-stream", problems: []int{404, 503}},
		{method: "GET", path: "/v1/batches/{id}/zip", id: "getBatchZIP", tag: "batches", summary: "The PDFs of a finished batch and results.csv, as a ZIP", params: []param{pBatch}, ok: 200, media: "application/zip", problems: []int{404, 409, 503}},
		{method: "GET", path: "/v1/batches/{id}/results.csv", id: "getBatchResults", tag: "batches", summary: "The per-item results of a batch as CSV", params: []param{pBatch}, ok: 200, media: "text/csv", problems: []int{404, 503}},
		{method: "POST", path: "/v1/batches/{id}/cancel", id: "cancelBatch", tag: "batches", summary: "Cancel a running batch: its queued items are not done", params: []param{pBatch}, ok: 200, okType: BatchResponse{}, problems: []int{404, 409, 503}},
		{method: "GET", path: "/v1/webhooks", id: "listWebhooks", tag: "webhooks", summary: "Webhook subscriptions", ok: 200, okType: object, problems: []int{503}},
		{method: "POST", path: "/v1/webhooks", id: "createWebhook", tag: "webhooks", summary: "Subscribe a URL to events; the signing secret is in this answer only", body: "json", request: WebhookRequest{}, ok: 201, okType: WebhookCreated{}, problems: []int{503}},
		{method: "GET", path: "/v1/webhooks/{id}", id: "getWebhook", tag: "webhooks", summary: "One subscription", params: []param{pHook}, ok: 200, okType: webhook.Subscription{}, problems: []int{404, 503}},
		{method: "DELETE", path: "/v1/webhooks/{id}", id: "disableWebhook", tag: "webhooks", summary: "Disable a subscription; its log stays", params: []param{pHook}, ok: 204, problems: []int{404, 503}},
		{method: "GET", path: "/v1/webhooks/{id}/deliveries", id: "listWebhookDeliveries", tag: "webhooks", summary: "The delivery log of a subscription, newest first, with every attempt", params: []param{pHook, qLimit}, ok: 200, okType: object, problems: []int{404, 422, 503}},
		{method: "POST", path: "/v1/webhooks/{id}/deliveries/{delivery}/redeliver", id: "redeliverWebhook", tag: "webhooks", summary: "Send a delivery again, with the same webhook-id", params: []param{pHook, pDelivery}, ok: 202, okType: object, problems: []int{404, 503}},
	}
}

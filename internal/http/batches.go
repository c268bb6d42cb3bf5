package http

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"faldone/internal/batch"
	"faldone/internal/faldone"
)

// BatchLimitDefault is the largest body of POST /v1/batches when
// Config.BatchLimit is 0.
const BatchLimitDefault = 32 << 20

// batchRoutes adds the routes of batches.
func (s *Server) batchRoutes(v1 fiber.Router) {
	v1.Post("/batches", s.createBatch)
	v1.Get("/batches/:id", s.getBatch)
	v1.Get("/batches/:id/events", s.batchEvents)
	v1.Get("/batches/:id/zip", s.batchZIP)
	v1.Get("/batches/:id/results.csv", s.batchCSV)
	v1.Post("/batches/:id/cancel", s.cancelBatch)
}

func (s *Server) batches() (*batch.Service, error) {
	if s.cfg.Batches == nil {
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "batches are not configured on this server"}
	}
	return s.cfg.Batches, nil
}

// BatchResponse is a batch, its progress and, when asked, its items.
type BatchResponse struct {
	*batch.Batch
	Items []batch.Item      `json:"items,omitempty"`
	Links map[string]string `json:"links"`
}

func batchResponse(b *batch.Batch, items []batch.Item) BatchResponse {
	base := "/v1/batches/" + b.ID
	return BatchResponse{Batch: b, Items: items, Links: map[string]string{
		"self": base, "events": base + "/events", "zip": base + "/zip", "results": base + "/results.csv", "cancel": base + "/cancel",
	}}
}

// createBatch takes many inputs of one kind (?kind= or the envelope's
// kind) and answers 202 with the batch at once.
func (s *Server) createBatch(c *fiber.Ctx) error {
	bs, err := s.batches()
	if err != nil {
		return err
	}
	kind, blang, items, err := batch.Parse(c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	if q := c.Query("kind"); q != "" {
		if kind != "" && kind != q {
			return faldone.Errorf(faldone.EMALFORMED, "the body's kind %q and ?kind=%s differ", kind, q)
		}
		kind = q
	}
	if kind == "" {
		return faldone.Errorf(faldone.EMALFORMED, "name the kind of the batch's documents: ?kind= or the body's kind")
	}
	l := lang(c)
	if blang != "" {
		l = blang
	}
	b, created, err := bs.Create(c.UserContext(), batch.Request{
		Kind: strings.Clone(kind), Lang: l, Actor: actor(c),
		IdempotencyKey: strings.Clone(c.Get("Idempotency-Key")), Items: items,
	})
	if err != nil {
		return err
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).InfoContext(c.UserContext(), "batch accepted",
		"batch_id", b.ID, "kind", b.Kind, "items", b.Total, "replayed", !created)
	c.Set(fiber.HeaderLocation, "/v1/batches/"+b.ID)
	if !created {
		c.Set("Idempotent-Replayed", "true")
	}
	return sendJSON(c, fiber.StatusAccepted, batchResponse(b, nil))
}

func (s *Server) getBatch(c *fiber.Ctx) error {
	bs, err := s.batches()
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	b, err := bs.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	var items []batch.Item
	if c.Query("items") != "false" {
		if items, err = bs.Items(c.UserContext(), id); err != nil {
			return err
		}
	}
	return sendJSON(c, fiber.StatusOK, batchResponse(b, items))
}

func (s *Server) cancelBatch(c *fiber.Ctx) error {
	bs, err := s.batches()
	if err != nil {
		return err
	}
	b, err := bs.Cancel(c.UserContext(), strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).InfoContext(c.UserContext(), "batch cancelled", "batch_id", b.ID, "by", actor(c))
	return sendJSON(c, fiber.StatusOK, batchResponse(b, nil))
}

func (s *Server) batchCSV(c *fiber.Ctx) error {
	bs, err := s.batches()
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	if _, err := bs.Get(c.UserContext(), id); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := bs.WriteCSV(c.UserContext(), id, &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="batch-%s.csv"`, id))
	return c.Send(buf.Bytes())
}

func (s *Server) batchZIP(c *fiber.Ctx) error {
	bs, err := s.batches()
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	b, err := bs.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	if !b.Over() {
		return faldone.Errorf(faldone.ECONFLICT, "batch %s is still running (%d of %d items left): the ZIP is ready when it is done", id, b.Queued, b.Total)
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="batch-%s.zip"`, id))
	log := faldone.Logger(c.UserContext(), s.cfg.Logger)
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := bs.WriteZIP(ctx, id, w); err != nil {
			// The status is sent: a broken ZIP tells the client.
			log.Error("batch zip failed", "batch_id", id, "error", err.Error())
		}
		w.Flush()
	}))
	return nil
}

// batchEvents streams the progress of a batch as Server-Sent Events: a
// "progress" event when it changes, and "done" with the final counts.
func (s *Server) batchEvents(c *fiber.Ctx) error {
	bs, err := s.batches()
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	if _, err := bs.Get(c.UserContext(), id); err != nil {
		return err
	}
	every := 500 * time.Millisecond
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		var last string
		for n := 0; ; n++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			b, err := bs.Get(ctx, id)
			cancel()
			if err != nil {
				fmt.Fprintf(w, "event: error\ndata: %q\n\n", err.Error())
				w.Flush()
				return
			}
			data, _ := json.Marshal(batchResponse(b, nil))
			event := "progress"
			if b.Over() {
				event = "done"
			}
			if string(data) != last || n%30 == 0 {
				fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", n, event, data)
				if err := w.Flush(); err != nil {
					return // the client went away
				}
				last = string(data)
			}
			if b.Over() {
				return
			}
			time.Sleep(every)
		}
	}))
	return nil
}

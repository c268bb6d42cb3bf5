package http

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/comuni"
	"faldone/internal/faldone"
)

func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func sendJSON(c *fiber.Ctx, status int, v any) error {
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(b)
}

// DocumentResponse is the answer to a document creation or lookup.
type DocumentResponse struct {
	ID       string              `json:"id"`
	Kind     faldone.Kind        `json:"kind"`
	Comune   string              `json:"comune"`
	Oggetto  string              `json:"oggetto"`
	Lang     string              `json:"lang"`
	SHA256   string              `json:"sha256"`
	Size     int64               `json:"size"`
	Template faldone.TemplateRef `json:"template"`
	InputSHA string              `json:"input_sha256"`
	Created  string              `json:"created"`
	Seal     *faldone.SealFacts  `json:"seal,omitempty"`
	Links    map[string]string   `json:"links"`
}

func documentResponse(d *faldone.Document) DocumentResponse {
	return DocumentResponse{
		ID: d.ID, Kind: d.Kind, Comune: d.Comune, Oggetto: d.Oggetto, Lang: d.Lang,
		SHA256: d.SHA256, Size: d.Size, Template: d.Template, InputSHA: d.InputSHA,
		Created: d.Created.UTC().Format("2006-01-02T15:04:05Z"), Seal: d.Seal,
		Links: map[string]string{
			"self": "/v1/documents/" + d.ID,
			"pdf":  "/v1/documents/" + d.ID + "/pdf",
		},
	}
}

func (s *Server) createDocument(c *fiber.Ctx) error {
	kind := faldone.Kind(strings.Clone(c.Params("kind")))
	if _, ok := s.cfg.Templates.Template(string(kind)); !ok {
		return &faldone.Error{Code: faldone.ENOTFOUND, MessageID: "error.unknown_kind", Params: map[string]any{"Kind": string(kind)}, Message: "unknown document kind"}
	}
	if !isJSON(c.Get(fiber.HeaderContentType)) {
		return faldone.Errorf(faldone.EUNSUPPORTED, "the body must be application/json, not %q", c.Get(fiber.HeaderContentType))
	}
	body := bytes.Clone(c.Body())
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RenderTimeout)
	defer cancel()
	d, err := s.cfg.Documents.Create(ctx, kind, body, lang(c))
	if err != nil {
		if code := faldone.ErrorCode(err); code == faldone.EINTERNAL || code == faldone.EUNAVAILABLE {
			s.metrics.renderFailures.WithLabelValues(string(kind)).Inc()
		}
		return err
	}
	s.metrics.rendered.WithLabelValues(string(kind)).Inc()
	c.Set(fiber.HeaderLocation, "/v1/documents/"+d.ID)
	return sendJSON(c, fiber.StatusCreated, documentResponse(d))
}

func (s *Server) getDocument(c *fiber.Ctx) error {
	d, err := s.cfg.Documents.Store.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, documentResponse(d))
}

func (s *Server) getPDF(c *fiber.Ctx) error {
	id := c.Params("id")
	d, err := s.cfg.Documents.Store.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	pdf, err := s.cfg.Documents.Store.PDF(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+string(d.Kind)+"-"+d.Comune+"-"+d.ID+`.pdf"`)
	c.Set(fiber.HeaderETag, `"`+d.SHA256+`"`)
	c.Set("Digest", "sha-256="+d.SHA256)
	return c.Send(pdf)
}

// TemplateInfo describes a document kind and its input.
type TemplateInfo struct {
	Kind    string         `json:"kind"`
	Version string         `json:"version"`
	SHA256  string         `json:"sha256"`
	Title   string         `json:"title"`
	Schema  map[string]any `json:"schema"`
}

func (s *Server) templateInfo(kind, l string) (TemplateInfo, bool) {
	t, ok := s.cfg.Templates.Template(kind)
	if !ok {
		return TemplateInfo{}, false
	}
	sc, _ := s.cfg.Templates.Schema(kind)
	return TemplateInfo{Kind: t.ID, Version: t.Version, SHA256: t.SHA256, Title: s.cfg.Templates.Localize(l, t.Title, nil), Schema: sc}, true
}

func (s *Server) listTemplates(c *fiber.Ctx) error {
	out := []TemplateInfo{}
	for _, k := range s.cfg.Templates.Kinds() {
		ti, _ := s.templateInfo(k, lang(c))
		out = append(out, ti)
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"templates": out})
}

func (s *Server) getTemplate(c *fiber.Ctx) error {
	ti, ok := s.templateInfo(c.Params("kind"), lang(c))
	if !ok {
		return &faldone.Error{Code: faldone.ENOTFOUND, MessageID: "error.unknown_kind", Params: map[string]any{"Kind": c.Params("kind")}, Message: "unknown document kind"}
	}
	return sendJSON(c, fiber.StatusOK, ti)
}

// ComuneInfo is a comune as the API shows it.
type ComuneInfo struct {
	comuni.Comune
	IPA      string `json:"ipa"`
	Eligible bool   `json:"eligible"` // at most 5,000 inhabitants
}

func comuneInfo(c comuni.Comune) ComuneInfo {
	return ComuneInfo{Comune: c, IPA: c.IPA(), Eligible: c.Small()}
}

func (s *Server) searchComuni(c *fiber.Ctx) error {
	q := c.Query("q")
	if len(q) > 100 {
		return faldone.Errorf(faldone.EINVALID, "the query is too long")
	}
	limit := 20
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return faldone.Errorf(faldone.EINVALID, "limit must be a number from 1 to 100")
		}
		limit = n
	}
	items := []ComuneInfo{}
	for _, cm := range s.cfg.Templates.Registry().Search(q, limit) {
		items = append(items, comuneInfo(cm))
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": items, "attribution": comuni.Attribution})
}

func (s *Server) getComune(c *fiber.Ctx) error {
	cm, ok := s.cfg.Templates.Registry().Lookup(c.Params("istat"))
	if !ok {
		return faldone.Errorf(faldone.ENOTFOUND, "no comune has ISTAT code %q", c.Params("istat"))
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"comune": comuneInfo(cm), "attribution": comuni.Attribution})
}

package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

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

// DocumentResponse describes one version of a document.
type DocumentResponse struct {
	ID       string              `json:"id"`
	Version  int                 `json:"version"`
	Kind     faldone.Kind        `json:"kind"`
	Comune   string              `json:"comune"`
	Oggetto  string              `json:"oggetto"`
	Lang     string              `json:"lang"`
	SHA256   string              `json:"sha256"`
	Size     int64               `json:"size"`
	Template faldone.TemplateRef `json:"template"`
	InputSHA string              `json:"input_sha256"`
	Created  string              `json:"created"`
	Seal     faldone.SealFacts   `json:"seal"`
	State    string              `json:"state"`
	PrevSHA  string              `json:"prev_sha256,omitempty"`
	Reason   string              `json:"change_reason,omitempty"`
	Cites    string              `json:"cites,omitempty"`
	CitesSHA string              `json:"cites_sha256,omitempty"`
	Links    map[string]string   `json:"links"`
	// Conformance names the standards the PDF meets ("PDF/A-2b"); empty
	// for a received copy, which the service does not claim.
	Conformance []string `json:"conformance,omitempty"`
}

func documentResponse(r *faldone.Record) DocumentResponse {
	return DocumentResponse{
		ID: r.ID, Version: r.Version, Kind: r.Kind, Comune: r.Comune, Oggetto: r.Oggetto, Lang: r.Lang,
		SHA256: r.SHA256, Size: r.Size, Template: r.Template, InputSHA: r.InputSHA,
		Created: r.Created.UTC().Format(time.RFC3339), Seal: r.Seal, State: faldone.State(r),
		PrevSHA: r.PrevSHA, Reason: r.Reason, Cites: r.Cites, CitesSHA: r.CitesSHA,
		Conformance: r.Conformance,
		Links: map[string]string{
			"self":   "/v1/documents/" + r.ID,
			"pdf":    "/v1/documents/" + r.ID + "/pdf?version=" + strconv.Itoa(r.Version),
			"signed": "/v1/documents/" + r.ID + "/signed",
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
	if key := c.Get("Idempotency-Key"); key != "" && s.cfg.Idempotency != nil {
		return s.idempotentCreate(c, kind, body, strings.Clone(key))
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RenderTimeout)
	defer cancel()
	rec, err := s.cfg.Documents.Create(ctx, kind, body, lang(c), actor(c))
	if err != nil {
		if code := faldone.ErrorCode(err); code == faldone.EINTERNAL || code == faldone.EUNAVAILABLE {
			s.metrics.renderFailures.WithLabelValues(string(kind)).Inc()
		}
		return err
	}
	s.metrics.rendered.WithLabelValues(string(kind)).Inc()
	c.Set(fiber.HeaderLocation, "/v1/documents/"+rec.ID)
	return sendJSON(c, fiber.StatusCreated, documentResponse(rec))
}

func (s *Server) getDocument(c *fiber.Ctx) error {
	rec, err := s.documentFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, documentResponse(rec))
}

func (s *Server) getPDF(c *fiber.Ctx) error {
	if _, err := s.documentFor(c, c.Params("id")); err != nil {
		return err
	}
	version := 0
	if v := c.Query("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return faldone.Errorf(faldone.EINVALID, "version must be a positive number")
		}
		version = n
	}
	rec, pdf, err := s.cfg.Documents.PDF(c.UserContext(), c.Params("id"), version)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s-%s-v%d.pdf"`, rec.Kind, rec.Comune, rec.ID, rec.Version))
	c.Set(fiber.HeaderETag, `"`+rec.SHA256+`"`)
	c.Set("X-Document-Version", strconv.Itoa(rec.Version))
	return c.Send(pdf)
}

// returnSigned takes the copy of a document the comune signed, as the raw
// PDF (application/pdf) or as the "file" part of a multipart form.
func (s *Server) returnSigned(c *fiber.Ctx) error {
	doc, err := s.documentFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	var pdf []byte
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	switch {
	case strings.HasPrefix(ct, "application/pdf"), strings.HasPrefix(ct, "application/octet-stream"):
		pdf = bytes.Clone(c.Body())
	case strings.HasPrefix(ct, "multipart/form-data"):
		fh, err := c.FormFile("file")
		if err != nil {
			return faldone.Errorf(faldone.EINVALID, "the form has no file part named \"file\"")
		}
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("read upload: %w", err)
		}
		defer f.Close()
		if pdf, err = io.ReadAll(io.LimitReader(f, int64(s.cfg.BodyLimit)+1)); err != nil {
			return fmt.Errorf("read upload: %w", err)
		}
	default:
		return faldone.Errorf(faldone.EUNSUPPORTED, "send the signed PDF as application/pdf or multipart/form-data, not %q", ct)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RenderTimeout)
	defer cancel()
	rec, report, err := s.cfg.Documents.ReturnSigned(ctx, strings.Clone(c.Params("id")), pdf, lang(c), actor(c))
	if err != nil {
		s.refusedCopy(c, doc, pdf, report, err)
		return err
	}
	c.Set(fiber.HeaderLocation, "/v1/documents/"+rec.ID)
	return sendJSON(c, fiber.StatusCreated, documentResponse(rec))
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
	return sendJSON(c, fiber.StatusOK, TemplateList{Templates: out})
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
	return sendJSON(c, fiber.StatusOK, ComuneList{Items: items, Attribution: comuni.Attribution})
}

func (s *Server) getComune(c *fiber.Ctx) error {
	cm, ok := s.cfg.Templates.Registry().Lookup(c.Params("istat"))
	if !ok {
		return faldone.Errorf(faldone.ENOTFOUND, "no comune has ISTAT code %q", c.Params("istat"))
	}
	return sendJSON(c, fiber.StatusOK, ComuneResponse{Comune: comuneInfo(cm), Attribution: comuni.Attribution})
}

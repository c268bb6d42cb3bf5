package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
	fmetrics "faldone/internal/metrics"
)

// errNoVerifier answers the verification routes of a server without a
// verifier.
var errNoVerifier = &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.verify_unavailable", Message: "verification is not configured"}

// verifyPDF verifies a PDF sent raw (application/pdf) or as the "file"
// part of a multipart form, and answers the report: 200 whether the file
// is valid or not, 422 when it is not a readable PDF.
func (s *Server) verifyPDF(c *fiber.Ctx) error {
	if s.cfg.Verifier == nil {
		return errNoVerifier
	}
	pdf, err := uploadedPDF(c, s.cfg.VerifyLimit)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RenderTimeout)
	defer cancel()
	report, err := s.cfg.Verifier.Verify(ctx, pdf, lang(c))
	if err == nil {
		s.metrics.Verified(fmetrics.DoorAPI, report.Valid)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentLanguage, report.Lang)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, report)
}

// uploadedPDF returns the PDF of a request: its body when the content type
// is application/pdf (or application/octet-stream), or the part "file" of
// a multipart form, of at most limit bytes. The bytes are a copy.
func uploadedPDF(c *fiber.Ctx, limit int) ([]byte, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	switch ct {
	case "application/pdf", "application/octet-stream":
		if len(c.Body()) > limit {
			return nil, tooLarge(limit)
		}
		return bytes.Clone(c.Body()), nil
	case "multipart/form-data":
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, &faldone.Error{Code: faldone.EINVALID, MessageID: "error.no_file_part", Message: `the form has no file part named "file"`}
		}
		if fh.Size > int64(limit) {
			return nil, tooLarge(limit)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		defer f.Close()
		pdf, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		if len(pdf) > limit {
			return nil, tooLarge(limit)
		}
		return pdf, nil
	}
	return nil, &faldone.Error{Code: faldone.EUNSUPPORTED, MessageID: "error.unsupported_pdf", Params: map[string]any{"Type": ct},
		Message: fmt.Sprintf("send the PDF as application/pdf or multipart/form-data, not %q", ct)}
}

// evidence answers the evidence bundle of a document version (the newest,
// or ?version=N) as a JSON download, for offline verification.
func (s *Server) evidence(c *fiber.Ctx) error {
	if s.cfg.Verifier == nil {
		return errNoVerifier
	}
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	rec, err := s.fetch(c, c.Params("id"), version)
	if err != nil {
		return err
	}
	pdf, err := s.cfg.Documents.Archive.PDF(c.UserContext(), rec.SHA256)
	if err != nil {
		return err
	}
	b, err := s.cfg.Verifier.Evidence(c.UserContext(), rec, pdf)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-v%d-evidence.json"`, rec.ID, rec.Version))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, b)
}

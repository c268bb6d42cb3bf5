package web

import (
	"context"
	"io"
	"mime/multipart"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
	"faldone/internal/verify"
)

// verifyData is the data of the verification page.
type verifyData struct {
	MaxMB  string
	Error  string // message id of a refused upload
	Result *verifyResult
}

// verifyResult is a verification report in plain words.
type verifyResult struct {
	FileName   string
	Valid      bool
	Summary    string
	Problems   []string // the reasons with severity error
	Notes      []string // warnings and information
	Signatures []signatureView
	Changes    string   // what was appended after the seal
	ChangeList []string // the forbidden changes found
	Archived   []archivedView
	// NotArchived says why no archived version is shown.
	NotArchived string
	Size        int64
	SHA256      string
	Checked     string
}

type signatureView struct {
	Headline string
	Lines    []string
}

type archivedView struct {
	Document, Coverage, Inclusion string
	Conformance                   string // "" when the version claims none
}

func (p *Pages) verifyData() *verifyData {
	return &verifyData{MaxMB: megabytes(p.cfg.MaxUpload)}
}

func (p *Pages) verifyForm(c *fiber.Ctx) error {
	return p.render(c, fiber.StatusOK, "verifica", p.verifyData())
}

// readUpload returns the PDF of the form's file field "pdf", or the
// status and message id of why it is refused.
func (p *Pages) readUpload(c *fiber.Ctx, limit int64) ([]byte, string, int, string) {
	fh, err := c.FormFile("pdf")
	if err != nil || fh.Size == 0 {
		return nil, "", fiber.StatusUnprocessableEntity, "upload.no_file"
	}
	if fh.Size > limit {
		return nil, "", fiber.StatusRequestEntityTooLarge, "upload.over_limit"
	}
	b, err := readFile(fh, limit)
	if err != nil {
		return nil, "", fiber.StatusUnprocessableEntity, "upload.no_file"
	}
	return b, fh.Filename, 0, ""
}

func readFile(fh *multipart.FileHeader, limit int64) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

func (p *Pages) verifyPost(c *fiber.Ctx) error {
	data := p.verifyData()
	if !p.checkCSRF(c) {
		data.Error = "error.csrf"
		return p.render(c, fiber.StatusForbidden, "verifica", data)
	}
	pdf, name, status, msg := p.readUpload(c, p.cfg.MaxUpload)
	if msg != "" {
		data.Error = msg
		return p.render(c, status, "verifica", data)
	}
	if p.cfg.Verifier == nil {
		data.Error = "verify.unavailable"
		return p.render(c, fiber.StatusServiceUnavailable, "verifica", data)
	}
	lang := p.pageLang(c)
	ctx, cancel := context.WithTimeout(c.UserContext(), p.cfg.Timeout)
	defer cancel()
	rep, err := p.cfg.Verifier.Verify(ctx, pdf, lang)
	switch {
	case faldone.ErrorCode(err) == faldone.EINVALID:
		data.Error = "upload.not_pdf"
		return p.render(c, fiber.StatusUnprocessableEntity, "verifica", data)
	case err != nil:
		p.cfg.Logger.Error("web verification", "err", err)
		data.Error = "verify.unavailable"
		return p.render(c, fiber.StatusServiceUnavailable, "verifica", data)
	}
	if p.cfg.Verified != nil {
		p.cfg.Verified(rep.Valid)
	}
	data.Result = p.describe(lang, rep)
	data.Result.FileName = strings.Clone(name)
	return p.render(c, fiber.StatusOK, "verifica", data)
}

// describe turns a report into sentences.
func (p *Pages) describe(lang string, r *verify.Report) *verifyResult {
	t := func(id string, args ...any) string { return p.msgs.T(lang, id, args...) }
	out := &verifyResult{Valid: r.Valid, Summary: r.Summary, Size: r.Size, SHA256: r.SHA256, Checked: longTime(lang, r.Checked)}
	for _, x := range r.Reasons {
		if x.Severity == verify.SeverityError {
			out.Problems = append(out.Problems, x.Message)
		} else {
			out.Notes = append(out.Notes, x.Message)
		}
	}
	seal := -1 // the certification signature: the service's seal
	for i, s := range r.Signatures {
		if s.DocMDP > 0 && seal < 0 {
			seal = i
		}
		s.IntegrityError = integrityWords(s, r.Reasons)
		out.Signatures = append(out.Signatures, p.describeSignature(lang, s))
	}
	switch {
	case len(r.Signatures) == 0:
		out.Changes = t("changes.no_seal")
	case seal < 0:
		out.Changes = t("changes.no_certification")
	default:
		s := r.Signatures[seal]
		switch {
		case !s.Intact && s.IntegrityReason != verify.CodeSignatureRestated:
			out.Changes = t("changes.seal_broken")
		case !s.Intact: // its dictionary written again by an update
			out.Changes = t("changes.forbidden", "bytes", s.Appended.Bytes)
		case s.Appended.Bytes == 0:
			out.Changes = t("changes.none")
		case s.Appended.Allowed != nil && *s.Appended.Allowed:
			out.Changes = t("changes.allowed", "signatures", s.Appended.Signatures, "bytes", s.Appended.Bytes)
		default:
			out.Changes = t("changes.forbidden", "bytes", s.Appended.Bytes)
		}
	}
	for _, x := range r.Reasons {
		// every change or ambiguity the analysis found, in the page's
		// language, naming the object
		if _, ok := x.Params["Object"]; ok && x.Severity == verify.SeverityError {
			out.ChangeList = append(out.ChangeList, x.Message)
		}
	}

	for _, a := range r.Archived {
		v := archivedView{Document: t("archive.document", "kind", t("kind."+a.Kind), "oggetto", a.Oggetto,
			"comune", p.comuneName(a.Comune), "istat", a.Comune, "id", a.ID, "version", a.Version, "date", longTime(lang, a.Created))}
		if a.WholeFile {
			v.Coverage = t("archive.whole")
		} else {
			v.Coverage = t("archive.prefix", "revision", a.Revision, "bytes", a.Bytes)
		}
		if len(a.Conformance) > 0 {
			v.Conformance = t("archive.conformance", "levels", strings.Join(a.Conformance, ", "))
		}
		switch in := a.Inclusion; {
		case in == nil:
			v.Inclusion = t("archive.no_proof")
		case in.Verified:
			v.Inclusion = t("archive.proved", "leaf", in.LeafIndex+1, "size", in.TreeSize, "date", longTime(lang, in.Time))
		default:
			v.Inclusion = t("archive.not_proved", "error", in.Error)
		}
		out.Archived = append(out.Archived, v)
	}
	if len(r.Archived) == 0 {
		out.NotArchived = t("archive.none")
	}
	return out
}

func (p *Pages) describeSignature(lang string, s verify.SignatureReport) signatureView {
	t := func(id string, args ...any) string { return p.msgs.T(lang, id, args...) }
	who := t("signature.unknown")
	if s.Signer != nil {
		who = commonName(s.Signer.Subject)
	}
	head := "signature.headline"
	if s.DocMDP > 0 {
		head = "signature.headline_seal"
	}
	v := signatureView{Headline: t(head, "n", s.Index+1, "who", who)}
	if s.SigningTime != nil {
		v.Lines = append(v.Lines, t("signature.when", "date", longTime(lang, *s.SigningTime)))
	}
	switch ts := s.Timestamp; {
	case ts == nil:
		v.Lines = append(v.Lines, t("signature.no_timestamp"))
	case ts.Valid:
		v.Lines = append(v.Lines, t("signature.timestamp", "date", longTime(lang, ts.Time), "authority", commonName(ts.Authority)))
	default:
		v.Lines = append(v.Lines, t("signature.timestamp_invalid", "error", ts.Error))
	}
	if s.Intact {
		v.Lines = append(v.Lines, t("signature.intact"))
	} else {
		v.Lines = append(v.Lines, t("signature.broken", "error", s.IntegrityError))
	}
	if id := s.Identity; id != nil {
		if id.SerialNumber != "" {
			v.Lines = append(v.Lines, t("signature.serial_number", "serial", id.SerialNumber))
		}
		v.Lines = append(v.Lines, t("signature.issuer", "issuer", commonName(id.Issuer)))
		if id.Qualified {
			v.Lines = append(v.Lines, t("signature.qualified"))
		} else {
			v.Lines = append(v.Lines, t("signature.not_qualified"))
		}
		if id.QualifiedService {
			v.Lines = append(v.Lines, t("signature.qualified_service"))
		}
	}
	switch {
	case s.Trusted && len(s.Chain) > 0:
		v.Lines = append(v.Lines, t("signature.trusted", "anchor", commonName(s.Chain[len(s.Chain)-1].Subject)))
	case s.Trusted:
		v.Lines = append(v.Lines, t("signature.trusted", "anchor", who))
	default:
		v.Lines = append(v.Lines, t("signature.untrusted"))
	}
	if s.Signer != nil {
		if s.TrustTimeSource == "timestamp" {
			v.Lines = append(v.Lines, t("signature.trust_at_timestamp", "date", longTime(lang, s.TrustTime)))
		} else {
			v.Lines = append(v.Lines, t("signature.trust_at_now", "date", longTime(lang, s.TrustTime)))
		}
	}
	if s.Level != "" {
		v.Lines = append(v.Lines, t("signature.level", "level", s.Level))
	}
	return v
}

// integrityWords returns the report's localised reason why signature s
// is not intact, never the library's English of IntegrityError (the
// page's texts for time-stamps and proofs leave their English error out
// too).
func integrityWords(s verify.SignatureReport, reasons []verify.Reason) string {
	for _, x := range reasons {
		if s.IntegrityReason != "" && x.Code == s.IntegrityReason && x.Signature != nil && *x.Signature == s.Index {
			return x.Message
		}
	}
	return ""
}

// commonName returns the CN of an RFC 2253 subject, else the subject.
func commonName(subject string) string {
	for _, part := range strings.Split(subject, ",") {
		if cn, ok := strings.CutPrefix(strings.TrimSpace(part), "CN="); ok {
			return cn
		}
	}
	return subject
}

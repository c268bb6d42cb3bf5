package web

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
)

// loginData is the data of the sign-in page.
type loginData struct {
	Error string // message id of a refused sign-in
	Info  string // message id of a notice (signed out, session ended)
}

// dossierData is the data of a comune's page.
type dossierData struct {
	Documents []documentView
	Accepted  string   // an accepted upload, in words
	Refused   string   // a refused upload's headline
	Reasons   []string // why it was refused
}

// documentView is one document of the dossier with its versions.
type documentView struct {
	ID, Kind, Oggetto, State string
	CanUpload                bool
	Versions                 []versionView
}

type versionView struct {
	Version          int
	Created, State   string
	Signer           string // who signed for the comune, and whether trusted
	SignerTrusted    bool
	Change, SHA256   string
	Size             int64
	Download, Anchor string
}

// workflow is the order of the kinds in a dossier.
var workflow = []faldone.Kind{faldone.KindAdesione, faldone.KindAssessment, faldone.KindPiano, faldone.KindApprovazione, faldone.KindChiusura}

// current returns the live session of the request, without checking its
// key again; nil when there is none.
func (p *Pages) current(c *fiber.Ctx) *session {
	return p.sessions.get(c.UserContext(), c.Cookies(sessionCookie))
}

// auth returns the request's session after checking its key again: a
// revoked key, or one now bound to another comune, ends the session.
func (p *Pages) auth(c *fiber.Ctx) *session {
	id := c.Cookies(sessionCookie)
	s := p.sessions.get(c.UserContext(), id)
	if s == nil {
		return nil
	}
	if p.cfg.AuthenticateHash != nil {
		if h, err := hex.DecodeString(s.KeyHash); err == nil {
			comune, _, err := p.cfg.AuthenticateHash(c.UserContext(), h)
			if err == nil && comune == s.Comune {
				return s
			}
		}
	}
	p.endSession(c, id)
	return nil
}

func (p *Pages) endSession(c *fiber.Ctx, id string) {
	p.sessions.delete(c.UserContext(), id)
	p.setCookie(c, &fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HTTPOnly: true})
	c.Request().Header.DelCookie(sessionCookie)
}

// signIn renders the sign-in page; a stale session cookie says the
// session ended.
func (p *Pages) signIn(c *fiber.Ctx, status int) error {
	d := &loginData{}
	switch {
	case c.Query("uscita") != "":
		d.Info = "login.signed_out"
	case c.Cookies(sessionCookie) != "":
		d.Info = "login.expired"
		p.endSession(c, c.Cookies(sessionCookie))
	}
	return p.render(c, status, "login", d)
}

func (p *Pages) comune(c *fiber.Ctx) error {
	s := p.auth(c)
	if s == nil {
		return p.signIn(c, fiber.StatusOK)
	}
	d := &dossierData{}
	if f := p.sessions.takeFlash(c.UserContext(), c.Cookies(sessionCookie)); f != nil {
		d.Accepted = p.msgs.T(p.pageLang(c), "upload.accepted", "id", f.ID, "version", f.Version)
	}
	return p.showDossier(c, s, fiber.StatusOK, d)
}

func (p *Pages) showDossier(c *fiber.Ctx, s *session, status int, d *dossierData) error {
	recs, err := p.cfg.Archive.Dossier(c.UserContext(), s.Comune)
	if err != nil {
		p.cfg.Logger.Error("web dossier", "err", err)
		return p.fail(c, fiber.StatusServiceUnavailable, "error.unavailable")
	}
	d.Documents = p.documents(p.pageLang(c), recs)
	return p.render(c, status, "comune", d)
}

// documents groups a dossier's versions by document, in workflow order.
func (p *Pages) documents(lang string, recs []*faldone.Record) []documentView {
	t := func(id string, args ...any) string { return p.msgs.T(lang, id, args...) }
	byID := map[string]*documentView{}
	var order []string
	kindOf := map[string]faldone.Kind{}
	for _, r := range recs {
		d, ok := byID[r.ID]
		if !ok {
			d = &documentView{ID: r.ID, Kind: t("kind." + string(r.Kind))}
			byID[r.ID] = d
			order = append(order, r.ID)
			kindOf[r.ID] = r.Kind
		}
		state := faldone.State(r)
		change := t("change.first")
		if r.Reason != "" {
			change = t("change." + r.Reason)
		}
		d.Versions = append(d.Versions, versionView{
			Version: r.Version, Created: longTime(lang, r.Created), State: t("state." + state), Change: change,
			SHA256: r.SHA256, Size: r.Size, Anchor: fmt.Sprintf("doc-%s-v%d", r.ID, r.Version),
			Download: fmt.Sprintf("/comune/documenti/%s/pdf?version=%d", r.ID, r.Version),
		})
		if sg := r.Seal.ComuneSigner; sg != nil {
			v := &d.Versions[len(d.Versions)-1]
			v.Signer, v.SignerTrusted = p.describeSigner(lang, sg), sg.Trusted && len(sg.Reasons) == 0
		}
		d.Oggetto, d.State, d.CanUpload = r.Oggetto, t("state."+state), state == faldone.StateAwaitComune
	}
	slices.SortStableFunc(order, func(a, b string) int {
		return slices.Index(workflow, kindOf[a]) - slices.Index(workflow, kindOf[b])
	})
	out := make([]documentView, 0, len(order))
	for _, id := range order {
		d := byID[id]
		slices.SortFunc(d.Versions, func(a, b versionView) int { return a.Version - b.Version })
		out = append(out, *d)
	}
	return out
}

func (p *Pages) login(c *fiber.Ctx) error {
	if !p.checkCSRF(c) {
		return p.render(c, fiber.StatusForbidden, "login", &loginData{Error: "error.csrf"})
	}
	if p.cfg.Authenticate == nil {
		return p.render(c, fiber.StatusServiceUnavailable, "login", &loginData{Error: "login.not_configured"})
	}
	key := strings.TrimSpace(c.FormValue("key"))
	if key == "" {
		return p.render(c, fiber.StatusUnprocessableEntity, "login", &loginData{Error: "login.empty"})
	}
	key = strings.Clone(key)
	comune, name, err := p.cfg.Authenticate(c.UserContext(), key)
	switch {
	case faldone.ErrorCode(err) == faldone.EUNAVAILABLE:
		return p.render(c, fiber.StatusServiceUnavailable, "login", &loginData{Error: "error.unavailable"})
	case err != nil:
		return p.render(c, fiber.StatusUnauthorized, "login", &loginData{Error: "login.refused"})
	case comune == "":
		return p.render(c, fiber.StatusForbidden, "login", &loginData{Error: "login.not_comune"})
	}
	if old := c.Cookies(sessionCookie); old != "" {
		p.sessions.delete(c.UserContext(), old)
	}
	id, err := p.sessions.create(c.UserContext(), key, comune, name)
	if err != nil {
		p.cfg.Logger.Error("web sign-in: session store", "error", err.Error())
		return p.render(c, fiber.StatusServiceUnavailable, "login", &loginData{Error: "error.unavailable"})
	}
	p.setCookie(c, &fiber.Cookie{Name: sessionCookie, Value: id, Path: "/", HTTPOnly: true})
	p.cfg.Logger.Info("web sign-in", "comune", comune, "holder", name)
	return c.Redirect("/comune", fiber.StatusSeeOther)
}

func (p *Pages) logout(c *fiber.Ctx) error {
	if !p.checkCSRF(c) {
		return p.fail(c, fiber.StatusForbidden, "error.csrf")
	}
	p.endSession(c, c.Cookies(sessionCookie))
	return c.Redirect("/comune?uscita=1", fiber.StatusSeeOther)
}

// document returns a version (0: the newest) of the comune's document id
// and its PDF; ENOTFOUND when it does not exist or is another comune's.
func (p *Pages) document(ctx context.Context, s *session, id string, version int) (*faldone.Record, []byte, error) {
	if err := p.ownDocument(ctx, s, id); err != nil {
		return nil, nil, err
	}
	rec, pdf, err := p.cfg.Documents.PDF(ctx, id, version)
	if err != nil {
		return nil, nil, err
	}
	if rec.Comune != s.Comune {
		return nil, nil, faldone.Errorf(faldone.ENOTFOUND, "no document %s", id)
	}
	return rec, pdf, nil
}

func (p *Pages) download(c *fiber.Ctx) error {
	s := p.auth(c)
	if s == nil {
		return p.signIn(c, fiber.StatusUnauthorized)
	}
	version := 0
	if v := c.Query("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p.fail(c, fiber.StatusNotFound, "comune.not_found")
		}
		version = n
	}
	rec, pdf, err := p.document(c.UserContext(), s, c.Params("id"), version)
	switch {
	case faldone.ErrorCode(err) == faldone.ENOTFOUND:
		return p.fail(c, fiber.StatusNotFound, "comune.not_found")
	case err != nil:
		p.cfg.Logger.Error("web download", "err", err)
		return p.fail(c, fiber.StatusServiceUnavailable, "error.unavailable")
	}
	pageHeaders(c)
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s-v%d.pdf"`, rec.Kind, rec.ID, rec.Version))
	return c.Send(pdf)
}

func (p *Pages) upload(c *fiber.Ctx) error {
	s := p.auth(c)
	if s == nil {
		return p.signIn(c, fiber.StatusUnauthorized)
	}
	if !p.checkCSRF(c) {
		return p.fail(c, fiber.StatusForbidden, "error.csrf")
	}
	lang := p.pageLang(c)
	id := strings.Clone(c.Params("id"))
	if err := p.ownDocument(c.UserContext(), s, id); faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return p.fail(c, fiber.StatusNotFound, "comune.not_found")
	} else if err != nil {
		p.cfg.Logger.Error("web upload", "err", err)
		return p.fail(c, fiber.StatusServiceUnavailable, "error.unavailable")
	}
	if rec, err := p.cfg.Documents.Latest(c.UserContext(), id); faldone.ErrorCode(err) == faldone.ENOTFOUND || err == nil && rec.Comune != s.Comune {
		return p.fail(c, fiber.StatusNotFound, "comune.not_found")
	} else if err != nil {
		p.cfg.Logger.Error("web upload", "err", err)
		return p.fail(c, fiber.StatusServiceUnavailable, "error.unavailable")
	}
	refuse := func(status int, reasons ...string) error {
		return p.showDossier(c, s, status, &dossierData{Refused: p.msgs.T(lang, "upload.refused", "id", id), Reasons: reasons})
	}
	signed, _, status, msg := p.readUpload(c, p.cfg.MaxSigned)
	if msg != "" {
		return refuse(status, p.msgs.T(lang, msg, "mb", megabytes(p.cfg.MaxSigned)))
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), p.cfg.Timeout)
	defer cancel()
	actor := s.Name
	if actor == "" {
		actor = "comune " + s.Comune
	}
	rec, report, err := p.cfg.Documents.ReturnSigned(ctx, id, signed, lang, actor)
	switch faldone.ErrorCode(err) {
	case "":
	case faldone.EINVALID:
		if report == nil || len(report.Problems) == 0 {
			return refuse(fiber.StatusUnprocessableEntity, p.msgs.T(lang, "upload.not_pdf"))
		}
		var fe *faldone.Error
		errors.As(err, &fe)
		var reasons []string
		for i, pr := range report.Problems {
			if pr.Params != nil && fe != nil && i < len(fe.Fields) {
				// a forged or ambiguous file: the analysis's reason,
				// localised, naming the object changed
				reasons = append(reasons, fe.Fields[i].Message)
				continue
			}
			reasons = append(reasons, p.msgs.T(lang, "refusal."+pr.Reason))
		}
		return refuse(fiber.StatusUnprocessableEntity, reasons...)
	case faldone.EUNTRUSTED:
		var de *faldone.Error
		var reasons []string
		if errors.As(err, &de) {
			reasons = append(reasons, de.Message)
			for _, f := range de.Fields {
				reasons = append(reasons, f.Message)
			}
		}
		return refuse(fiber.StatusUnprocessableEntity, reasons...)
	case faldone.ECONFLICT:
		return refuse(fiber.StatusConflict, p.msgs.T(lang, "upload.conflict"))
	default:
		p.cfg.Logger.Error("web upload", "err", err)
		return refuse(fiber.StatusServiceUnavailable, p.msgs.T(lang, "error.unavailable"))
	}
	p.sessions.setFlash(c.UserContext(), c.Cookies(sessionCookie), &flash{ID: rec.ID, Version: rec.Version})
	p.cfg.Logger.Info("web signed copy", "comune", s.Comune, "id", rec.ID, "version", rec.Version)
	return c.Redirect("/comune", fiber.StatusSeeOther)
}

// ownDocument returns ENOTFOUND when document id is not the session's
// comune's, from the one column it needs when the archive can tell
// (before any record or PDF is read), so that another comune's document
// is refused as fast as a missing one.
func (p *Pages) ownDocument(ctx context.Context, s *session, id string) error {
	co, ok := p.cfg.Archive.(interface {
		ComuneOf(ctx context.Context, id string) (string, error)
	})
	if !ok {
		return nil
	}
	comune, err := co.ComuneOf(ctx, id)
	if err == nil && comune != s.Comune {
		return faldone.Errorf(faldone.ENOTFOUND, "no document %s", id)
	}
	return err
}

// describeSigner says who signed for the comune and whether the signer was
// trusted when the copy was received.
func (p *Pages) describeSigner(lang string, sg *faldone.Signer) string {
	t := func(id string, args ...any) string { return p.msgs.T(lang, id, args...) }
	who, serial, qualified := sg.CommonName, "", ""
	if who == "" {
		who = sg.Subject
	}
	if sg.SerialNumber != "" {
		serial = " (" + sg.SerialNumber + ")"
	}
	if sg.Qualified {
		qualified = t("comune.signer_qualified")
	}
	if sg.Trusted && len(sg.Reasons) == 0 {
		return t("comune.signer_trusted", "who", who, "serial", serial, "issuer", commonName(sg.Issuer), "qualified", qualified)
	}
	var reasons []string
	for _, r := range sg.Reasons {
		reasons = append(reasons, t("trustreason."+r))
	}
	if len(reasons) == 0 {
		reasons = []string{t("trustreason.untrusted_signer")}
	}
	return t("comune.signer_untrusted", "who", who, "serial", serial, "issuer", commonName(sg.Issuer), "qualified", qualified, "reasons", strings.Join(reasons, "; "))
}

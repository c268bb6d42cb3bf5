package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed templates/*.html
var templateFS embed.FS

// templates are the parsed pages; each page template ("verifica",
// "comune", "login", "error") uses the layout's "head" and "foot".
type templates struct{ t *template.Template }

func parseTemplates() (*templates, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"add": func(a, b int) int { return a + b },
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &templates{t: t}, nil
}

// view is what every page template gets: the page's data and the
// per-request helpers of the layout.
type view struct {
	p      *Pages
	Lang   string
	Title  string // message id of the page's title
	Path   string // the page's path, for the language switch
	CSRF   string
	Comune *sessionView // the signed-in comune, if any
	Static string       // the static files' version
	Data   any
}

// sessionView is the signed-in comune as the layout shows it.
type sessionView struct {
	ISTAT, Name, Holder string
}

// T returns a text of the page's language.
func (v *view) T(id string, args ...any) string { return v.p.msgs.T(v.Lang, id, args...) }

// Others are the languages the switch offers: all but the page's.
func (v *view) Others() []string {
	var out []string
	for _, l := range Languages {
		if l != v.Lang {
			out = append(out, l)
		}
	}
	return out
}

// MaxMB is the largest signed copy in MB, as the help texts say it.
func (v *view) MaxMB() string { return megabytes(v.p.cfg.MaxSigned) }

// megabytes writes n bytes in MB (MiB), as the help texts say a limit:
// "20", "0.9" or "0.02".
func megabytes(n int64) string {
	s := fmt.Sprintf("%.1f", float64(n)/(1<<20))
	if s == "0.0" {
		s = fmt.Sprintf("%.2f", float64(n)/(1<<20))
	}
	return strings.TrimSuffix(s, ".0")
}

// render writes page with data and status.
func (p *Pages) render(c *fiber.Ctx, status int, page string, data any) error {
	lang := p.pageLang(c)
	v := &view{p: p, Lang: lang, Path: c.Path(), CSRF: p.csrfToken(c), Static: staticVersion(), Data: data,
		Title: map[string]string{"verifica": "verify.title", "comune": "comune.title", "login": "comune.title", "error": "error.title"}[page]}
	if s := p.current(c); s != nil {
		v.Comune = &sessionView{ISTAT: s.Comune, Name: p.comuneName(s.Comune), Holder: s.Name}
	}
	var buf bytes.Buffer
	if err := p.tmpl.t.ExecuteTemplate(&buf, page, v); err != nil {
		return err
	}
	pageHeaders(c)
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// pageHeaders sets the security headers of every page: nothing loaded
// from elsewhere, no framing, no caching of what a comune sees.
func pageHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
}

// errorData is the data of the error page.
type errorData struct {
	Status  int
	Message string // message id
	MB      string // the upload limit the message may name, {mb}
	Back    string // where to go back to
}

// fail renders the error page with status and the text message.
func (p *Pages) fail(c *fiber.Ctx, status int, message string) error {
	return p.render(c, status, "error", &errorData{Status: status, Message: message, Back: p.back(c)})
}

// back is the page to go back to from an error: the comune's pages or
// the verification page.
func (p *Pages) back(c *fiber.Ctx) string {
	if strings.HasPrefix(strings.ToLower(c.Path()), "/comune") {
		return "/comune"
	}
	return "/verifica"
}

// Error answers a request to a page that failed before a page's handler
// ran, or with an error no page handled: a body over the route's limit, a
// path that does not exist, a refused request. It renders the error page
// in the visitor's language with status, never problem+json (the third
// argument, the API's problem code, is not shown to people). An upload over the limit of
// /verifica shows the form again with the limit in words.
func (p *Pages) Error(c *fiber.Ctx, status int, _ string) error {
	if status == fiber.StatusRequestEntityTooLarge {
		if strings.EqualFold(strings.TrimRight(c.Path(), "/"), "/verifica") {
			data := p.verifyData()
			data.Error = "upload.over_limit"
			return p.render(c, status, "verifica", data)
		}
		return p.render(c, status, "error", &errorData{Status: status, Message: "upload.signed_over_limit", MB: megabytes(p.cfg.MaxSigned), Back: p.back(c)})
	}
	msg := map[int]string{
		fiber.StatusNotFound:            "error.not_found",
		fiber.StatusTooManyRequests:     "error.too_many",
		fiber.StatusServiceUnavailable:  "error.unavailable",
		fiber.StatusInsufficientStorage: "error.unavailable",
	}[status]
	switch {
	case msg != "":
	case status >= 500:
		msg = "error.internal"
	default:
		msg = "error.bad_request"
	}
	return p.fail(c, status, msg)
}

// comuneName returns "Name (ISTAT)" or the code alone.
func (p *Pages) comuneName(istat string) string {
	if p.cfg.Comuni != nil {
		if c, ok := p.cfg.Comuni.Lookup(istat); ok {
			return c.Name
		}
	}
	return istat
}

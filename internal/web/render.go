package web

import (
	"bytes"
	"embed"
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

// Other is the language the switch offers.
func (v *view) Other() string {
	if v.Lang == "it" {
		return "en"
	}
	return "it"
}

// render writes page with data and status.
func (p *Pages) render(c *fiber.Ctx, status int, page string, data any) error {
	lang := p.pageLang(c)
	v := &view{p: p, Lang: lang, Path: c.Path(), CSRF: p.csrfToken(c), Static: staticVersion, Data: data,
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
	Back    string // where to go back to
}

// fail renders the error page with status and the text message.
func (p *Pages) fail(c *fiber.Ctx, status int, message string) error {
	back := "/verifica"
	if strings.HasPrefix(c.Path(), "/comune") {
		back = "/comune"
	}
	return p.render(c, status, "error", &errorData{Status: status, Message: message, Back: back})
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

package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"mime/multipart"
	nethttp "net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/audit"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/internal/web"
	"faldone/templates"
)

var (
	setOnce sync.Once
	theSet  *tmpl.Set
	setErr  error
)

func templateSet(tb testing.TB) *tmpl.Set {
	tb.Helper()
	setOnce.Do(func() {
		reg, err := comuni.Default()
		if err != nil {
			setErr = err
			return
		}
		theSet, setErr = tmpl.Load(templates.FS, reg)
	})
	if setErr != nil {
		tb.Fatal(setErr)
	}
	return theSet
}

// clock is a settable clock for sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the service as serve wires it: a SQLite archive, the development
// seal, a verifier trusting its CA with an audit log, the API and the
// pages mounted on it. Its comuni sign in with the keys of keyTable.
type env struct {
	set     *tmpl.Set
	archive *sqlite.Archive
	svc     *docs.Service
	server  *fhttp.Server
	clock   *clock
	// keys maps API keys to comuni; it stands in for the API key store.
	keys map[string]string
}

// Comuni of the samples used by the tests.
const (
	loiano = "037034"
	banari = "090007"
)

func newEnv(tb testing.TB, opts ...func(*web.Config)) *env {
	tb.Helper()
	e := &env{set: templateSet(tb), clock: &clock{t: time.Now()}, keys: map[string]string{
		"loiano-key-0123456789abcdef0123456789abcdef": loiano,
		"banari-key-0123456789abcdef0123456789abcdef": banari,
		"staff-key-0123456789abcdef0123456789abcdef":  "",
	}}
	dir := tb.TempDir()
	var err error
	if e.archive, err = sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.archive.Close() })
	sealKey, _, err := keys.DevSeal(filepath.Join(dir, "keys"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	devCA, err := keys.DevCA(filepath.Join(dir, "keys"))
	if err != nil {
		tb.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	e.svc = &docs.Service{
		Renderer: &docs.Renderer{Templates: e.set, Version: "test"},
		Sealer:   &seal.Sealer{Key: sealKey, Logger: quiet},
		Archive:  e.archive,
	}
	skey, vkey, err := audit.NewKey("faldone.test/log")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	anchors := &verify.Anchors{}
	anchors.Add(devCA, "service")
	cfg := web.Config{
		Documents: e.svc, Archive: e.archive, Comuni: e.set.Registry(), Logger: quiet, Now: e.clock.Now,
		Verifier: &verify.Verifier{Anchors: anchors, Archive: e.archive, Messages: e.set,
			Log: &verify.TreeLog{Store: e.archive, Signer: signer, VKey: vkey}},
		Authenticate: e.authenticate, AuthenticateHash: e.authenticateHash,
	}
	for _, o := range opts {
		o(&cfg)
	}
	pages, err := web.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	// As serve: the verification page's limit is the API's.
	verifyLimit := 0
	if cfg.MaxUpload > 0 {
		verifyLimit = int(cfg.MaxUpload)
	}
	e.server = fhttp.New(fhttp.Config{
		Templates: e.set, Documents: e.svc, Version: "test", BodyLimit: 8 << 20, Logger: quiet,
		VerifyLimit: verifyLimit,
		VerifyRate:  200, // the hostile corpus is verified from one address
		Mount:       []func(fiber.Router){pages.Mount}, PageError: pages.Error,
	})
	return e
}

// authenticate resolves the keys of e.keys; it must be replaced by the
// API key store where the service has one.
func (e *env) authenticate(_ context.Context, key string) (string, string, error) {
	comune, ok := e.keys[key]
	if !ok {
		return "", "", faldone.Errorf(faldone.EUNAUTHORIZED, "unknown key")
	}
	return comune, "sindaco " + comune, nil
}

// authenticateHash resolves the keys of e.keys by their SHA-256.
func (e *env) authenticateHash(ctx context.Context, h []byte) (string, string, error) {
	for k := range e.keys {
		if s := sha256.Sum256([]byte(k)); bytes.Equal(s[:], h) {
			return e.authenticate(ctx, k)
		}
	}
	return "", "", faldone.Errorf(faldone.EUNAUTHORIZED, "unknown key")
}

// keyOf returns the API key of a comune.
func (e *env) keyOf(comune string) string {
	for k, c := range e.keys {
		if c == comune {
			return k
		}
	}
	panic("no key for " + comune)
}

// create archives a sealed document of a sample.
func (e *env) create(tb testing.TB, sample, kind string) (*faldone.Record, []byte) {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "samples", sample, kind+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := e.svc.Create(context.Background(), faldone.Kind(kind), body, "it", "test")
	if err != nil {
		tb.Fatal(err)
	}
	_, pdf, err := e.svc.PDF(context.Background(), rec.ID, rec.Version)
	if err != nil {
		tb.Fatal(err)
	}
	return rec, pdf
}

// client is a browser without JavaScript on the app: it keeps cookies and
// does not follow redirects.
type client struct {
	tb  testing.TB
	app *fiber.App
	jar *cookiejar.Jar
}

var base, _ = url.Parse("http://faldone.test/")

func (e *env) client(tb testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, app: e.server.App(), jar: jar}
}

// page is a response with its body.
type page struct {
	*nethttp.Response
	Body string
}

func (c *client) do(req *nethttp.Request) page {
	c.tb.Helper()
	for _, ck := range c.jar.Cookies(base) {
		req.AddCookie(ck)
	}
	resp, err := c.app.Test(req, 120_000)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.jar.SetCookies(base, resp.Cookies())
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return page{resp, string(b)}
}

func (c *client) get(path string) page {
	return c.do(httptest.NewRequest("GET", path, nil))
}

// postForm posts fields urlencoded.
func (c *client) postForm(path string, fields url.Values) page {
	req := httptest.NewRequest("POST", path, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// postFile posts a multipart form with the file field "pdf".
func (c *client) postFile(path, csrf string, pdf []byte) page {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if csrf != "" {
		_ = w.WriteField("csrf", csrf)
	}
	fw, _ := w.CreateFormFile("pdf", "document.pdf")
	fw.Write(pdf)
	w.Close()
	req := httptest.NewRequest("POST", path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the token of the first form of a page.
func csrf(tb testing.TB, p page) string {
	tb.Helper()
	m := csrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no CSRF token on the page: %s", p.Body)
	}
	return m[1]
}

// signIn signs c in with key and returns the dossier page.
func (c *client) signIn(key string) page {
	c.tb.Helper()
	tok := csrf(c.tb, c.get("/comune"))
	p := c.postForm("/comune/accesso", url.Values{"csrf": {tok}, "key": {key}})
	if p.StatusCode != 303 || p.Header.Get("Location") != "/comune" {
		c.tb.Fatalf("sign in: %d %s", p.StatusCode, p.Body)
	}
	return c.get("/comune")
}

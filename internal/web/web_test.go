package web_test

import (
	"bytes"
	"context"
	nethttp "net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"faldone/internal/web"
)

func TestHomeAndStaticFiles(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	if p := c.get("/"); p.StatusCode != 303 || p.Header.Get("Location") != "/verifica" {
		t.Fatalf("/: %d to %q", p.StatusCode, p.Header.Get("Location"))
	}
	p := c.get("/verifica")
	if p.StatusCode != 200 || !strings.Contains(p.Body, `<html lang="it">`) || !strings.Contains(p.Body, "<h1>Verifica un documento</h1>") {
		t.Fatalf("/verifica: %d %s", p.StatusCode, p.Body)
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	links := regexp.MustCompile(`href="(/static/[^"]+)"`).FindAllStringSubmatch(p.Body, -1)
	if len(links) != 3 {
		t.Fatalf("stylesheets %v", links)
	}
	for _, l := range links {
		s := c.get(l[1])
		if s.StatusCode != 200 || !strings.HasPrefix(s.Header.Get("Content-Type"), "text/css") || len(s.Body) < 100 {
			t.Errorf("%s: %d %q %d bytes", l[1], s.StatusCode, s.Header.Get("Content-Type"), len(s.Body))
		}
		if cc := s.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q", l[1], cc)
		}
	}
	for _, u := range regexp.MustCompile(`url\(([^)]+)\)`).FindAllStringSubmatch(c.get("/static/css/fonts.css").Body, -1) {
		ref := strings.Trim(u[1], `"'`)
		if strings.HasPrefix(ref, "data:") {
			continue
		}
		if f := c.get(path.Join("/static/css", ref)); f.StatusCode != 200 || len(f.Body) < 1000 {
			t.Errorf("font %s: %d", ref, f.StatusCode)
		}
	}
	if s := c.get("/static/nothing.css"); s.StatusCode != 404 {
		t.Errorf("missing static file: %d", s.StatusCode)
	}
	// English is remembered in a cookie.
	if p := c.get("/verifica?lang=en"); !strings.Contains(p.Body, `<html lang="en">`) || !strings.Contains(p.Body, "<h1>Verify a document</h1>") {
		t.Fatalf("English: %s", p.Body)
	}
	if p := c.get("/comune"); !strings.Contains(p.Body, `<html lang="en">`) {
		t.Errorf("the language was not remembered")
	}
}

func TestPagesShowNoMessageIDs(t *testing.T) {
	e := newEnv(t)
	_, pdf := e.create(t, "loiano", "adesione")
	ids := regexp.MustCompile(`\b(layout|lang|error|verify|upload|changes|archive|kind|signature|comune|login|change|state|refusal|trustreason)\.[a-z_A-Z]+\b`)
	for _, lang := range []string{"it", "en", "de"} {
		c := e.client(t)
		check := func(name string, p page) {
			t.Helper()
			text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(p.Body, " ")
			if m := ids.FindString(text); m != "" {
				t.Errorf("%s %s: message id %q shown", lang, name, m)
			}
		}
		check("verifica", c.get("/verifica?lang="+lang))
		check("report", c.postFile("/verifica", csrf(t, c.get("/verifica")), pdf))
		check("login", c.get("/comune"))
		check("dossier", c.signIn(e.keyOf(loiano)))
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	rec, pdf := e.create(t, "loiano", "adesione")
	c := e.client(t)
	c.get("/verifica")
	if p := c.postFile("/verifica", "", pdf); p.StatusCode != 403 || !strings.Contains(p.Body, "Il modulo è scaduto") || strings.Contains(p.Body, `id="result"`) {
		t.Errorf("verify without token: %d", p.StatusCode)
	}
	if p := c.postFile("/verifica", "forged", pdf); p.StatusCode != 403 {
		t.Errorf("verify with a forged token: %d", p.StatusCode)
	}
	// A token of another visitor is refused too.
	other := e.client(t)
	if p := c.postFile("/verifica", csrf(t, other.get("/verifica")), pdf); p.StatusCode != 403 {
		t.Errorf("verify with another visitor's token: %d", p.StatusCode)
	}
	if p := c.postForm("/comune/accesso", url.Values{"key": {e.keyOf(loiano)}}); p.StatusCode != 403 || p.Header.Get("Location") != "" {
		t.Errorf("sign in without token: %d", p.StatusCode)
	}
	c.signIn(e.keyOf(loiano))
	if p := c.postFile("/comune/documenti/"+rec.ID+"/firmato", "", pdf); p.StatusCode != 403 {
		t.Errorf("upload without token: %d", p.StatusCode)
	}
	if p := c.postForm("/comune/uscita", nil); p.StatusCode != 403 {
		t.Errorf("sign out without token: %d", p.StatusCode)
	}
	if p := c.get("/comune"); !strings.Contains(p.Body, rec.ID) {
		t.Errorf("the session did not survive refused posts")
	}
	if latest, _ := e.svc.Latest(context.Background(), rec.ID); latest.Version != 1 {
		t.Errorf("version %d archived without a token", latest.Version)
	}
}

func TestSessionExpiryAndSignOut(t *testing.T) {
	e := newEnv(t)
	rec, _ := e.create(t, "loiano", "adesione")
	c := e.client(t)
	p := c.signIn(e.keyOf(loiano))
	if !strings.Contains(p.Body, rec.ID) || !strings.Contains(p.Body, "Loiano") {
		t.Fatalf("dossier: %s", p.Body)
	}
	for _, ck := range c.jar.Cookies(base) {
		if strings.Contains(ck.Value, e.keyOf(loiano)) {
			t.Fatalf("cookie %s holds the key", ck.Name)
		}
	}
	e.clock.Add(29 * time.Minute)
	if p := c.get("/comune"); !strings.Contains(p.Body, rec.ID) {
		t.Fatal("session ended before the idle timeout")
	}
	e.clock.Add(31 * time.Minute)
	p = c.get("/comune")
	if strings.Contains(p.Body, rec.ID) || !strings.Contains(p.Body, "La sessione è scaduta") {
		t.Fatalf("idle session still open: %s", p.Body)
	}
	if p := c.get("/comune/documenti/" + rec.ID + "/pdf"); p.StatusCode != 401 || strings.HasPrefix(p.Body, "%PDF") {
		t.Errorf("download after expiry: %d", p.StatusCode)
	}

	// Sign out ends the session on the server: the old cookie is dead.
	p = c.signIn(e.keyOf(loiano))
	var old string
	for _, ck := range c.jar.Cookies(base) {
		if ck.Name == "faldone_session" {
			old = ck.Value
		}
	}
	out := c.postForm("/comune/uscita", url.Values{"csrf": {csrf(t, p)}})
	if out.StatusCode != 303 {
		t.Fatalf("sign out: %d", out.StatusCode)
	}
	if p := c.get("/comune?uscita=1"); !strings.Contains(p.Body, "Uscita effettuata") || strings.Contains(p.Body, rec.ID) {
		t.Errorf("after sign out: %s", p.Body)
	}
	replay := e.client(t)
	replay.jar.SetCookies(base, []*nethttp.Cookie{{Name: "faldone_session", Value: old}})
	if p := replay.get("/comune/documenti/" + rec.ID + "/pdf"); p.StatusCode != 401 {
		t.Errorf("old session cookie after sign out: %d", p.StatusCode)
	}

	// A revoked key ends the session at the next request.
	c.signIn(e.keyOf(loiano))
	delete(e.keys, e.keyOf(loiano))
	if p := c.get("/comune"); strings.Contains(p.Body, rec.ID) {
		t.Error("a revoked key still sees the dossier")
	}
	// The session's hard limit ends it even when used.
	e.keys["loiano-key-2"] = loiano
	c.signIn("loiano-key-2")
	for range 17 {
		e.clock.Add(29 * time.Minute)
		c.get("/comune")
	}
	if p := c.get("/comune"); strings.Contains(p.Body, rec.ID) {
		t.Error("session outlived its maximum")
	}
}

func TestSignInRefusals(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	for _, tc := range []struct {
		key    string
		status int
		text   string
	}{
		{"", 422, "Inserire la chiave"},
		{"wrong-key", 401, "Chiave di accesso non riconosciuta"},
		{e.keyOf(""), 403, "non appartiene a un Comune"},
	} {
		p := c.postForm("/comune/accesso", url.Values{"csrf": {csrf(t, c.get("/comune"))}, "key": {tc.key}})
		if p.StatusCode != tc.status || !strings.Contains(p.Body, tc.text) || !strings.Contains(p.Body, `role="alert"`) {
			t.Errorf("key %q: %d %s", tc.key, p.StatusCode, p.Body)
		}
	}
	// Failed sign-ins are limited per address.
	limited := false
	for range 12 {
		p := c.postForm("/comune/accesso", url.Values{"csrf": {csrf(t, c.get("/comune"))}, "key": {"wrong"}})
		if p.StatusCode == 429 {
			limited = strings.Contains(p.Body, "Troppi tentativi")
			break
		}
	}
	if !limited {
		t.Error("failed sign-ins are not limited")
	}
	// Without a key store sign-in says so.
	n := newEnv(t, func(cfg *web.Config) { cfg.Authenticate = nil })
	nc := n.client(t)
	p := nc.postForm("/comune/accesso", url.Values{"csrf": {csrf(t, nc.get("/comune"))}, "key": {"x"}})
	if p.StatusCode != 503 || !strings.Contains(p.Body, "non è configurato") {
		t.Errorf("no Authenticate: %d", p.StatusCode)
	}
}

func TestUploadLimitsAndNotPDF(t *testing.T) {
	e := newEnv(t, func(cfg *web.Config) { cfg.MaxUpload = 16 << 10 })
	rec, pdf := e.create(t, "loiano", "adesione")
	if len(pdf) <= 16<<10 {
		t.Fatalf("sample of %d bytes is not over the limit", len(pdf))
	}
	c := e.client(t)
	tok := csrf(t, c.get("/verifica"))
	for _, tc := range []struct {
		body   []byte
		status int
		text   string
	}{
		{pdf, 413, "Il file supera 0.02 MB"},
		{[]byte("this is not a PDF at all"), 422, "non è un PDF leggibile"},
		{[]byte("%PDF-1.7\n1 0 obj\n<< /Length 999999999 >>\nstream\nxx"), 422, "non è un PDF leggibile"},
		{nil, 422, "Scegliere un file PDF"},
	} {
		p := c.postFile("/verifica", tok, tc.body)
		if p.StatusCode != tc.status || !strings.Contains(p.Body, tc.text) || !strings.Contains(p.Body, `role="alert"`) {
			t.Errorf("%.20q: %d %s", tc.body, p.StatusCode, p.Body)
		}
	}
	p := c.signIn(e.keyOf(loiano))
	up := c.postFile("/comune/documenti/"+rec.ID+"/firmato", csrf(t, p), []byte("GIF89a not a pdf"))
	if up.StatusCode != 422 || !strings.Contains(up.Body, "non è stata accettata") || !strings.Contains(up.Body, "non è un PDF leggibile") {
		t.Errorf("non-PDF signed copy: %d %s", up.StatusCode, up.Body)
	}
	up = c.postFile("/comune/documenti/"+rec.ID+"/firmato", csrf(t, p), bytes.Repeat([]byte("%PDF-"), 10<<10))
	if up.StatusCode != 413 || !strings.Contains(up.Body, "Il file supera") {
		t.Errorf("large signed copy: %d", up.StatusCode)
	}
}

// TestErrorsArePages holds the pages to answering people with pages: a
// file over the limit the API gives the route (refused before the page's
// handler reads it), a path that does not exist, in the visitor's
// language, and never problem+json.
func TestErrorsArePages(t *testing.T) {
	e := newEnv(t, func(cfg *web.Config) { cfg.MaxUpload = 16 << 10 })
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		text               string
	}{
		{"over the route's limit", "POST", "/verifica", bytes.Repeat([]byte("%PDF-"), 100<<10), 413, "Il file supera 0.02 MB, il massimo che questa pagina accetta"},
		{"over the limit, German", "POST", "/verifica?lang=de", bytes.Repeat([]byte("%PDF-"), 100<<10), 413, "Die Datei ist größer als 0.02 MB"},
		{"over the limit, English", "POST", "/verifica?lang=en", bytes.Repeat([]byte("%PDF-"), 100<<10), 413, "The file is larger than 0.02 MB"},
		{"no such page", "GET", "/comune/nothing-here", nil, 404, "La pagina non esiste"},
		{"no such page, German", "GET", "/verifica/x?lang=de", nil, 404, "Die Seite existiert nicht"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			if tc.method == "POST" {
				p = e.client(t).postFile(tc.path, "", tc.body)
			} else {
				p = e.client(t).get(tc.path)
			}
			if p.StatusCode != tc.status || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s: %.300s", p.StatusCode, p.Header.Get("Content-Type"), p.Body)
			}
			if !strings.Contains(p.Body, tc.text) || !strings.Contains(p.Body, `role="alert"`) || strings.Contains(p.Body, "urn:faldone:problem") {
				t.Errorf("the page lacks %q: %s", tc.text, p.Body)
			}
		})
	}
}

func TestSignedCopyRefusedInPlainWords(t *testing.T) {
	e := newEnv(t)
	rec, pdf := e.create(t, "loiano", "adesione")
	c := e.client(t)
	p := c.signIn(e.keyOf(loiano))
	// The sealed file itself, with no signature added.
	up := c.postFile("/comune/documenti/"+rec.ID+"/firmato", csrf(t, p), pdf)
	if up.StatusCode != 422 || !strings.Contains(up.Body, "Non è stata aggiunta alcuna firma") {
		t.Errorf("unsigned copy: %d %s", up.StatusCode, up.Body)
	}
	// Another file's bytes.
	up = c.postFile("/comune/documenti/"+rec.ID+"/firmato", csrf(t, p), append([]byte("%PDF-1.7\n% other\n"), pdf[20:]...))
	if up.StatusCode != 422 || !strings.Contains(up.Body, "non contiene esattamente l&#39;ultima versione") {
		t.Errorf("other bytes: %d %s", up.StatusCode, up.Body)
	}
	if latest, _ := e.svc.Latest(context.Background(), rec.ID); latest.Version != 1 {
		t.Errorf("a refused copy became version %d", latest.Version)
	}
}

func TestComuneSeesOnlyItsOwn(t *testing.T) {
	e := newEnv(t)
	mine, _ := e.create(t, "loiano", "adesione")
	theirs, theirPDF := e.create(t, "banari", "adesione")
	c := e.client(t)
	p := c.signIn(e.keyOf(loiano))
	if !strings.Contains(p.Body, mine.ID) || strings.Contains(p.Body, theirs.ID) || strings.Contains(p.Body, "Banari") {
		t.Fatalf("dossier shows another comune's document")
	}
	const none = "aaaaaaaaaaaaaaaaaaaaaaaaaa"
	missing := c.get("/comune/documenti/" + none + "/pdf")
	for _, path := range []string{"/comune/documenti/" + theirs.ID + "/pdf", "/comune/documenti/" + theirs.ID + "/pdf?version=1"} {
		got := c.get(path)
		if got.StatusCode != 404 || strings.ReplaceAll(got.Body, theirs.ID, none) != missing.Body || strings.Contains(got.Body, "%PDF") {
			t.Errorf("%s: %d, differs from a missing document: %s", path, got.StatusCode, got.Body)
		}
	}
	if got := c.get("/comune/documenti/" + mine.ID + "/pdf?version=x"); got.StatusCode != 404 {
		t.Errorf("bad version: %d", got.StatusCode)
	}
	up := c.postFile("/comune/documenti/"+theirs.ID+"/firmato", csrf(t, p), theirPDF)
	if up.StatusCode != 404 || !strings.Contains(up.Body, "Documento non trovato") {
		t.Errorf("upload to another comune's document: %d", up.StatusCode)
	}
	got := c.get("/comune/documenti/" + mine.ID + "/pdf")
	if got.StatusCode != 200 || got.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(got.Body, "%PDF-") ||
		!strings.Contains(got.Header.Get("Content-Disposition"), mine.ID) {
		t.Errorf("own download: %d %q", got.StatusCode, got.Header.Get("Content-Type"))
	}
	if anon := e.client(t).get("/comune/documenti/" + mine.ID + "/pdf"); anon.StatusCode != 401 || strings.HasPrefix(anon.Body, "%PDF") {
		t.Errorf("anonymous download: %d", anon.StatusCode)
	}
}

// TestVerdictsReported: every verdict of the verification page is told to
// Config.Verified, which the service counts in its metrics.
func TestVerdictsReported(t *testing.T) {
	var got []bool
	e := newEnv(t, func(c *web.Config) { c.Verified = func(valid bool) { got = append(got, valid) } })
	_, pdf := e.create(t, "loiano", "adesione")
	c := e.client(t)
	if p := c.postFile("/verifica", csrf(t, c.get("/verifica")), pdf); !strings.Contains(p.Body, "prodotta conforme a PDF/A-2b") {
		t.Error("the report of an archived document does not name its PDF/A level")
	}
	bad := bytes.Clone(pdf)
	bad[len(bad)/3] ^= 1
	c.postFile("/verifica", csrf(t, c.get("/verifica")), bad)
	if len(got) != 2 || !got[0] || got[1] {
		t.Errorf("verdicts %v, want [true false]", got)
	}
}

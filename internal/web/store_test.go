package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/postgres"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/web"
)

// second returns another instance of e's service, as after a restart or
// beside it behind a load balancer: new pages, same database, a store of
// web state given by store.
func (e *env) second(t *testing.T, store web.Store) *env {
	t.Helper()
	pages, err := web.New(web.Config{
		Documents: e.svc, Archive: e.archive, Comuni: e.set.Registry(), Now: e.clock.Now,
		Authenticate: e.authenticate, AuthenticateHash: e.authenticateHash, Store: store,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := *e
	f.server = fhttp.New(fhttp.Config{Templates: e.set, Documents: e.svc, Version: "test", BodyLimit: 8 << 20,
		Mount: []func(fiber.Router){pages.Mount}})
	return &f
}

// TestSessionsInTheDatabase signs a comune in on one instance and goes on
// on another that shares the database (a restart, or a second instance
// without sticky sessions): the session and its CSRF token hold; the
// store keeps the hash of the session id and of the key, not them.
func TestSessionsInTheDatabase(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t)
			var store web.Store = e.archive
			if engine == "postgres" {
				pg, err := postgres.Open(context.Background(), testenv.Postgres(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pg.Close() })
				store = pg
			}
			a, b := e.second(t, store), e.second(t, store)
			rec, _ := e.create(t, "loiano", "adesione")
			ca := a.client(t)
			p := ca.signIn(e.keyOf(loiano))
			if !strings.Contains(p.Body, rec.ID) {
				t.Fatalf("dossier on instance a: %s", p.Body)
			}
			cb := b.client(t)
			cb.jar = ca.jar // the same browser, sent to instance b
			p = cb.get("/comune")
			if !strings.Contains(p.Body, rec.ID) {
				t.Fatalf("instance b does not know the session: %s", p.Body)
			}
			// A form of instance a posted to instance b: the CSRF secret is shared.
			token := csrf(t, ca.get("/comune"))
			if p := cb.postForm("/comune/uscita", map[string][]string{"csrf": {token}}); p.StatusCode != 303 {
				t.Fatalf("sign-out on b with a's token: %d %s", p.StatusCode, p.Body)
			}
			if p := ca.get("/comune"); strings.Contains(p.Body, rec.ID) {
				t.Fatal("signed out on b, still signed in on a")
			}
			// Neither the session id nor the key is stored.
			var sid string
			for _, ck := range ca.jar.Cookies(base) {
				if ck.Name == "faldone_session" {
					sid = ck.Value
				}
			}
			ca.signIn(e.keyOf(loiano))
			for _, ck := range ca.jar.Cookies(base) {
				if ck.Name == "faldone_session" {
					sid = ck.Value
				}
			}
			if sid == "" {
				t.Fatal("no session cookie")
			}
			for _, k := range []string{"session:" + sid, sid} {
				if v, _ := store.WebGet(context.Background(), k); v != nil {
					t.Fatalf("the store holds the session id %q in the clear", k)
				}
			}
			h := sha256.Sum256([]byte(sid))
			v, err := store.WebGet(context.Background(), "session:"+hex.EncodeToString(h[:]))
			if err != nil || v == nil {
				t.Fatalf("no session under the hash of its id: %v", err)
			}
			if bytes.Contains(v, []byte(e.keyOf(loiano))) || bytes.Contains(v, []byte(sid)) {
				t.Fatalf("the stored session holds the key or its id: %s", v)
			}
		})
	}
}

// TestOneVerificationLimit checks that the page and the API share one
// verification limit per client: after the API's share is used, the page
// is refused too.
func TestOneVerificationLimit(t *testing.T) {
	e := newEnv(t)
	pages, err := web.New(web.Config{Documents: e.svc, Archive: e.archive, Now: e.clock.Now, Verifier: nil})
	if err != nil {
		t.Fatal(err)
	}
	srv := fhttp.New(fhttp.Config{Templates: e.set, Documents: e.svc, Version: "test", BodyLimit: 8 << 20,
		VerifyRate: 3, Mount: []func(fiber.Router){pages.Mount}})
	f := *e
	f.server = srv
	c := f.client(t)
	for i := range 2 {
		req := httptest.NewRequest("POST", "/v1/verify", strings.NewReader("%PDF-not really"))
		req.Header.Set("Content-Type", "application/pdf")
		if p := c.do(req); p.StatusCode == 429 {
			t.Fatalf("API call %d refused", i+1)
		}
	}
	if p := c.postFile("/verifica", csrf(t, c.get("/verifica")), []byte("%PDF-not really")); p.StatusCode == 429 {
		t.Fatalf("third verification refused: %d", p.StatusCode)
	}
	if p := c.postFile("/verifica", csrf(t, c.get("/verifica")), []byte("%PDF-not really")); p.StatusCode != 429 {
		t.Fatalf("fourth verification, on the page: %d, want 429", p.StatusCode)
	}
	req := httptest.NewRequest("POST", "/v1/verify", strings.NewReader("%PDF-not really"))
	req.Header.Set("Content-Type", "application/pdf")
	if p := c.do(req); p.StatusCode != 429 {
		t.Fatalf("fifth, on the API: %d, want 429", p.StatusCode)
	}
}

// TestSecureCookies: with SecureCookies every cookie is Secure although
// the request came over plain HTTP (a TLS proxy that is not trusted);
// without it, not.
func TestSecureCookies(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(c *web.Config) { c.SecureCookies = secure })
		app := e.server.App()
		resp, err := app.Test(httptest.NewRequest("GET", "/comune", nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		var cookies []string
		for _, ck := range resp.Cookies() {
			cookies = append(cookies, ck.Name+"="+ck.Value)
			if ck.Secure != secure {
				t.Errorf("SecureCookies %v: cookie %s Secure=%v", secure, ck.Name, ck.Secure)
			}
		}
		if m == nil || len(cookies) == 0 {
			t.Fatalf("no token or cookie: %s", body)
		}
		req := httptest.NewRequest("POST", "/comune/accesso", strings.NewReader(url.Values{"csrf": {string(m[1])}, "key": {e.keyOf(loiano)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
		resp, err = app.Test(req)
		if err != nil || resp.StatusCode != 303 {
			t.Fatalf("sign in: %v %v", resp.StatusCode, err)
		}
		n := 0
		for _, ck := range resp.Cookies() {
			n++
			if ck.Secure != secure {
				t.Errorf("SecureCookies %v: cookie %s Secure=%v", secure, ck.Name, ck.Secure)
			}
		}
		if n == 0 {
			t.Fatal("no session cookie set")
		}
	}
}

// countingArchive counts the reads of records and PDFs.
type countingArchive struct {
	*sqlite.Archive
	reads atomic.Int64
}

func (a *countingArchive) Latest(ctx context.Context, id string) (*faldone.Record, error) {
	a.reads.Add(1)
	return a.Archive.Latest(ctx, id)
}

func (a *countingArchive) Version(ctx context.Context, id string, v int) (*faldone.Record, error) {
	a.reads.Add(1)
	return a.Archive.Version(ctx, id, v)
}

func (a *countingArchive) PDF(ctx context.Context, sum string) ([]byte, error) {
	a.reads.Add(1)
	return a.Archive.PDF(ctx, sum)
}

// TestDownloadComuneCheckFirst: a comune asking the pages for another
// comune's PDF gets the answer of a missing document, and neither the
// record nor the PDF was read to give it.
func TestDownloadComuneCheckFirst(t *testing.T) {
	e := newEnv(t)
	rec, _ := e.create(t, "loiano", "adesione")
	counted := &countingArchive{Archive: e.archive}
	e.svc.Archive = counted
	c := e.client(t)
	c.signIn(e.keyOf(banari))
	counted.reads.Store(0)
	p := c.get("/comune/documenti/" + rec.ID + "/pdf")
	if p.StatusCode != 404 || strings.HasPrefix(p.Body, "%PDF") {
		t.Fatalf("another comune's PDF: %d", p.StatusCode)
	}
	if n := counted.reads.Load(); n != 0 {
		t.Fatalf("%d records or PDFs read before refusing another comune's document", n)
	}
	missing := c.get("/comune/documenti/zzzzzzzzzzzzzzzzzzzzzzzzzz/pdf")
	if missing.StatusCode != p.StatusCode {
		t.Fatalf("a missing document answers %d, another comune's %d", missing.StatusCode, p.StatusCode)
	}
}

package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookie names. The session cookie holds only an opaque random id.
const (
	sessionCookie = "faldone_session"
	csrfCookie    = "faldone_csrf"
	csrfField     = "csrf"
)

// session is the server-side record behind a session cookie.
type session struct {
	key     string // the API key, checked again on every request
	comune  string // the ISTAT code of the key's comune
	name    string // the key's holder
	created time.Time
	seen    time.Time
	flash   *flash // the outcome of the last upload, shown once
}

// flash is an accepted upload, shown once on the next page.
type flash struct {
	ID      string // the document
	Version int    // the version the signed copy became
}

// sessions is an in-memory store of sessions, keyed by the SHA-256 of
// their id: the ids themselves are not kept.
type sessions struct {
	mu        sync.Mutex
	m         map[[32]byte]*session
	idle, max time.Duration
	now       func() time.Time
}

func newSessions(idle, max time.Duration, now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, idle: idle, max: max, now: now}
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create stores a new session and returns its id.
func (s *sessions) create(key, comune, name string) string {
	id := randomToken()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m { // sweep expired sessions
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
	s.m[sha256.Sum256([]byte(id))] = &session{key: key, comune: comune, name: name, created: now, seen: now}
	return id
}

func (s *sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.seen) > s.idle || now.Sub(v.created) > s.max
}

// get returns a live session and marks it seen; nil when there is none.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return nil
	}
	if s.expired(v, now) {
		delete(s.m, k)
		return nil
	}
	v.seen = now
	return v
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

// setFlash and takeFlash pass an upload's outcome to the next page.
func (s *sessions) setFlash(id string, f *flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[sha256.Sum256([]byte(id))]; ok {
		v.flash = f
	}
}

func (s *sessions) takeFlash(id string) *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[sha256.Sum256([]byte(id))]
	if !ok {
		return nil
	}
	f := v.flash
	v.flash = nil
	return f
}

func (p *Pages) secure(c *fiber.Ctx) bool {
	return p.cfg.SecureCookies || c.Protocol() == "https"
}

// setCookie sets a cookie with the flags every cookie of the pages has.
func (p *Pages) setCookie(c *fiber.Ctx, ck *fiber.Cookie) {
	ck.Secure = p.secure(c)
	if ck.SameSite == "" {
		ck.SameSite = fiber.CookieSameSiteStrictMode
	}
	c.Cookie(ck)
}

// csrfBinding returns what the CSRF token of this visitor is bound to:
// the session id when signed in, else an anonymous random cookie, set
// here when missing.
func (p *Pages) csrfBinding(c *fiber.Ctx) string {
	if id := c.Cookies(sessionCookie); id != "" && p.sessions.get(id) != nil {
		return "session:" + id
	}
	v := c.Cookies(csrfCookie)
	if len(v) < 32 {
		v = randomToken()
		p.setCookie(c, &fiber.Cookie{Name: csrfCookie, Value: v, Path: "/", HTTPOnly: true})
		// The cookie is read back by later calls in this request.
		c.Request().Header.SetCookie(csrfCookie, v)
	}
	return "anon:" + v
}

// csrfToken returns the token the forms of this page carry.
func (p *Pages) csrfToken(c *fiber.Ctx) string {
	return p.tokenFor(p.csrfBinding(c))
}

func (p *Pages) tokenFor(binding string) string {
	m := hmac.New(sha256.New, p.cfg.Secret)
	m.Write([]byte("faldone web csrf\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether the form's token matches this visitor's.
func (p *Pages) checkCSRF(c *fiber.Ctx) bool {
	got := c.FormValue(csrfField)
	if got == "" {
		return false
	}
	var binding string
	if id := c.Cookies(sessionCookie); id != "" && p.sessions.get(id) != nil {
		binding = "session:" + id
	} else if v := c.Cookies(csrfCookie); len(v) >= 32 {
		binding = "anon:" + v
	} else {
		return false
	}
	want := p.tokenFor(binding)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

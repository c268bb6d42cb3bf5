package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookie names. The session cookie holds only an opaque random id.
const (
	sessionCookie = "faldone_session"
	csrfCookie    = "faldone_csrf"
	csrfField     = "csrf"
)

// session is the server-side record behind a session cookie. It holds
// the SHA-256 of the API key, never the key: the key is checked again
// by its hash on every request.
type session struct {
	KeyHash string    `json:"key_sha256"`
	Comune  string    `json:"comune"` // the ISTAT code of the key's comune
	Name    string    `json:"name"`   // the key's holder
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"`
	Flash   *flash    `json:"flash,omitempty"` // the outcome of the last upload, shown once
}

// flash is an accepted upload, shown once on the next page.
type flash struct {
	ID      string `json:"id"`      // the document
	Version int    `json:"version"` // the version the signed copy became
}

// sessions keeps sessions in a Store, keyed by the SHA-256 of their id:
// the ids themselves are not kept, so a copy of the database signs no
// one in.
type sessions struct {
	store     storeAdapter
	idle, max time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// seenEvery is how stale a session's last-seen time may get before a
// request writes it again.
const seenEvery = time.Minute

func newSessions(store storeAdapter, idle, max time.Duration, now func() time.Time, log *slog.Logger) *sessions {
	return &sessions{store: store, idle: idle, max: max, now: now, log: log}
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// storeKey is the key of a session in the store.
func storeKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return "session:" + hex.EncodeToString(h[:])
}

// expiry is when a session ends unless seen again.
func (s *sessions) expiry(v *session) time.Time {
	idle, max := v.Seen.Add(s.idle), v.Created.Add(s.max)
	if idle.Before(max) {
		return idle
	}
	return max
}

func (s *sessions) put(ctx context.Context, id string, v *session) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.store.Set(ctx, storeKey(id), b, s.expiry(v))
}

// create stores a new session for the key and returns its id.
func (s *sessions) create(ctx context.Context, key, comune, name string) (string, error) {
	id := randomToken()
	now := s.now()
	h := sha256.Sum256([]byte(key))
	v := &session{KeyHash: hex.EncodeToString(h[:]), Comune: comune, Name: name, Created: now, Seen: now}
	if err := s.put(ctx, id, v); err != nil {
		return "", err
	}
	return id, nil
}

func (s *sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.Seen) > s.idle || now.Sub(v.Created) > s.max
}

// load returns a live session, nil when there is none.
func (s *sessions) load(ctx context.Context, id string) (*session, error) {
	if id == "" {
		return nil, nil
	}
	b, err := s.store.Get(ctx, storeKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	v := new(session)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if s.expired(v, s.now()) {
		_ = s.store.Delete(ctx, storeKey(id))
		return nil, nil
	}
	return v, nil
}

// get returns a live session and marks it seen; nil when there is none
// or the store fails (logged).
func (s *sessions) get(ctx context.Context, id string) *session {
	v, err := s.load(ctx, id)
	if err != nil {
		s.log.ErrorContext(ctx, "web session store", "error", err.Error())
		return nil
	}
	if v == nil {
		return nil
	}
	if now := s.now(); now.Sub(v.Seen) >= seenEvery {
		v.Seen = now
		if err := s.put(ctx, id, v); err != nil {
			s.log.ErrorContext(ctx, "web session store", "error", err.Error())
		}
	}
	return v
}

func (s *sessions) delete(ctx context.Context, id string) {
	if err := s.store.Delete(ctx, storeKey(id)); err != nil {
		s.log.ErrorContext(ctx, "web session store", "error", err.Error())
	}
}

// setFlash and takeFlash pass an upload's outcome to the next page.
func (s *sessions) setFlash(ctx context.Context, id string, f *flash) {
	if v, _ := s.load(ctx, id); v != nil {
		v.Flash = f
		_ = s.put(ctx, id, v)
	}
}

func (s *sessions) takeFlash(ctx context.Context, id string) *flash {
	v, _ := s.load(ctx, id)
	if v == nil || v.Flash == nil {
		return nil
	}
	f := v.Flash
	v.Flash = nil
	_ = s.put(ctx, id, v)
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
	if id := c.Cookies(sessionCookie); id != "" && p.sessions.get(c.UserContext(), id) != nil {
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
	m := hmac.New(sha256.New, p.secret)
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
	if id := c.Cookies(sessionCookie); id != "" && p.sessions.get(c.UserContext(), id) != nil {
		binding = "session:" + id
	} else if v := c.Cookies(csrfCookie); len(v) >= 32 {
		binding = "anon:" + v
	} else {
		return false
	}
	want := p.tokenFor(binding)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/auth"
	"faldone/internal/faldone"
)

// access says who may call a route.
type access struct {
	public bool        // anyone, with or without a key
	roles  []auth.Role // else: keys of these roles only
	body   int         // largest request body in bytes; 0: Config.BodyLimit; -1: none
}

// ownLimit is the body limit of a route whose handler enforces its own.
const ownLimit = math.MaxInt

var (
	public   = access{public: true, body: -1}
	anyKey   = access{roles: auth.Roles, body: -1}
	readers  = access{roles: []auth.Role{auth.RoleStaff, auth.RoleComune, auth.RoleAuditor}, body: -1}
	auditors = access{roles: []auth.Role{auth.RoleStaff, auth.RoleAuditor}, body: -1}
	admin    = access{roles: []auth.Role{auth.RoleAdmin}, body: -1}
	staff    = access{roles: []auth.Role{auth.RoleStaff}, body: -1}
)

// policy is the access control of every route, in one place, keyed by
// "METHOD /route/pattern" as the route is registered with Fiber (the names
// of path parameters do not matter: ":id" and ":doc" are the same). A
// route without an entry is denied to everyone (deny by default), and
// TestEveryRouteHasAPolicy fails. HEAD is checked as GET.
//
// Routes that show a comune's documents MUST also go through
// [Server.documentFor] or [Server.checkComune], which confine a comune
// key to its own comune.
var policy = map[string]access{
	"GET /healthz":      public,
	"GET /readyz":       public,
	"GET /metrics":      {roles: []auth.Role{auth.RoleAdmin, auth.RoleStaff, auth.RoleAuditor}, body: -1},
	"GET /openapi.json": public,
	"GET /docs":         public,
	"GET /docs/:file":   public,

	"GET /v1/templates":       anyKey,
	"GET /v1/templates/:kind": anyKey,
	"GET /v1/comuni":          anyKey,
	"GET /v1/comuni/:istat":   anyKey,

	"POST /v1/documents/:kind":      {roles: []auth.Role{auth.RoleStaff}},
	"GET /v1/documents/:id":         readers,
	"GET /v1/documents/:id/pdf":     readers,
	"POST /v1/documents/:id/signed": {roles: []auth.Role{auth.RoleStaff, auth.RoleComune}},

	// Verification and audit.
	"POST /v1/verify":                {public: true, body: ownLimit}, // and its own rate limit
	"GET /v1/audit/checkpoint":       public,
	"GET /v1/audit/consistency":      auditors,
	"GET /v1/documents/:id/evidence": readers,
	"GET /v1/documents/:id/proof":    readers,
	"GET /v1/documents/:id/metadata": readers,
	"GET /v1/comuni/:istat/dossier":  readers,
	// The conservation package: the same documents as the dossier.
	"GET /v1/comuni/:istat/dossier/package": readers,

	// Batches.
	"POST /v1/batches":                {roles: []auth.Role{auth.RoleStaff}, body: ownLimit}, // Config.BatchLimit
	"GET /v1/batches/:id":             staff,
	"GET /v1/batches/:id/events":      staff,
	"GET /v1/batches/:id/zip":         staff,
	"GET /v1/batches/:id/results.csv": staff,
	"POST /v1/batches/:id/cancel":     {roles: []auth.Role{auth.RoleStaff}, body: 1 << 10},

	// Webhook subscriptions.
	"GET /v1/webhooks":                                     admin,
	"POST /v1/webhooks":                                    {roles: []auth.Role{auth.RoleAdmin}, body: 4 << 10},
	"GET /v1/webhooks/:id":                                 admin,
	"DELETE /v1/webhooks/:id":                              admin,
	"GET /v1/webhooks/:id/deliveries":                      admin,
	"POST /v1/webhooks/:id/deliveries/:delivery/redeliver": {roles: []auth.Role{auth.RoleAdmin}, body: 1 << 10},

	// Key management.
	"GET /v1/keys":        admin,
	"POST /v1/keys":       {roles: []auth.Role{auth.RoleAdmin}, body: 4 << 10},
	"DELETE /v1/keys/:id": admin,
}

// publicPrefixes are served to anyone: the web pages, with their own
// sessions, and their assets. "/" itself is public too.
var publicPrefixes = []string{"/verifica", "/comune", "/static"}

// pages is the access to the web pages: public, and their forms post up
// to Config.BodyLimit.
var pages = access{public: true}

// pageUploads are the page forms whose limit is not Config.BodyLimit
// (the routes of limitFor).
var pageUploads = map[string]access{
	"POST /verifica": {public: true, body: ownLimit}, // Config.VerifyLimit and the form's envelope
}

// isPage reports whether path is one of the web pages (or their files).
func isPage(path string) bool {
	lp := strings.ToLower(path)
	if lp == "/" || lp == "" {
		return true
	}
	for _, pre := range publicPrefixes {
		if lp == pre || strings.HasPrefix(lp, pre+"/") || strings.HasPrefix(lp, pre+"*") {
			return true
		}
	}
	return false
}

// pattern normalises a route pattern or a request path for matching:
// lower case, no trailing slash, parameters as ":", wildcards as "*".
func pattern(p string) []string {
	p = strings.ToLower(strings.TrimRight(p, "/"))
	segs := strings.Split(p, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":"):
			segs[i] = ":"
		case s == "*" || s == "+":
			segs[i] = "*"
		}
	}
	return segs
}

// matches reports whether path matches pattern pat, and how many literal
// segments it matched (more wins: /documents/search over /documents/:id).
func matches(pat, path []string) (bool, int) {
	lit := 0
	for i, s := range pat {
		if s == "*" {
			return true, lit
		}
		if i >= len(path) || (s == ":" && path[i] == "") || (s != ":" && s != path[i]) {
			return false, 0
		}
		if s != ":" {
			lit++
		}
	}
	return len(pat) == len(path), lit
}

type compiledPolicy struct {
	method string
	pat    []string
	access access
}

var compiled = func() []compiledPolicy {
	var out []compiledPolicy
	for k, a := range policy {
		method, p, _ := strings.Cut(k, " ")
		out = append(out, compiledPolicy{method, pattern(p), a})
	}
	return out
}()

// policyFor returns the access of a request or a route: the entry whose
// pattern matches with the most literal segments, else public for the web
// pages. ok is false when nothing matches: the request is denied.
func policyFor(method, path string) (access, bool) {
	if method == fiber.MethodHead {
		method = fiber.MethodGet
	}
	segs := pattern(path)
	best, found, bestLit := access{}, false, -1
	for _, p := range compiled {
		if p.method != method {
			continue
		}
		if ok, lit := matches(p.pat, segs); ok && lit > bestLit {
			best, found, bestLit = p.access, true, lit
		}
	}
	if found {
		return best, true
	}
	lp := strings.ToLower(path)
	if lp == "/" || lp == "" {
		return public, true
	}
	for _, pre := range publicPrefixes {
		if lp == pre || strings.HasPrefix(lp, pre+"/") || strings.HasPrefix(lp, pre+"*") {
			if a, ok := pageUploads[method+" "+strings.TrimRight(lp, "/")]; ok {
				return a, true
			}
			return pages, true
		}
	}
	return access{}, false
}

func (a access) allows(r auth.Role) bool {
	for _, x := range a.roles {
		if x == r {
			return true
		}
	}
	return false
}

// Locals of an authenticated request.
const (
	localKey     = "faldone.key"
	localAuthErr = "faldone.auth_error"
)

// keyOf returns the key a request was authenticated with, or nil.
func keyOf(c *fiber.Ctx) *auth.Key {
	k, _ := c.Locals(localKey).(*auth.Key)
	return k
}

// signIn makes k the key of a request that did not present it in a
// header: a web page calls it once its session cookie names a live key, so
// that documentFor, checkComune and actor treat the request as that key's.
func signIn(c *fiber.Ctx, k *auth.Key) {
	c.Locals(localKey, k)
	c.SetUserContext(faldone.WithLogger(c.UserContext(), faldone.Logger(c.UserContext(), nil).With("key_id", k.ID)))
}

// actor names who makes a request, for the archive record of a write.
func actor(c *fiber.Ctx) string {
	if k := keyOf(c); k != nil {
		return k.Actor()
	}
	return "anonymous"
}

// credentials returns the key a request presents in "Authorization:
// Bearer" or X-API-Key. present is false when it presents none; secret is
// "" when what it presents is malformed (another scheme, two different
// keys).
func credentials(c *fiber.Ctx) (secret string, present bool) {
	h := c.Get(fiber.HeaderAuthorization)
	x := c.Get("X-API-Key")
	if h == "" && x == "" {
		return "", false
	}
	if h != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", true
		}
		secret = strings.TrimSpace(token)
	}
	if x != "" {
		if secret != "" && secret != x {
			return "", true
		}
		secret = x
	}
	return secret, true
}

// probe reports whether path is a health probe: answered to anyone,
// without looking at a key, so that no dependency of authentication (the
// database of the keys) can fail it.
func probe(path string) bool {
	p := strings.ToLower(strings.TrimRight(path, "/"))
	return p == "/healthz" || p == "/readyz"
}

// authenticate checks the key a request presents, if any, and records the
// key, or the failure, for authorize. A failure is left for authorize to
// answer, so that the limiter of failed attempts between the two sees it.
func (s *Server) authenticate(c *fiber.Ctx) error {
	secret, present := credentials(c)
	if !present || probe(c.Path()) {
		return c.Next()
	}
	log := faldone.Logger(c.UserContext(), s.cfg.Logger)
	var k *auth.Key
	var err error = auth.ErrUnauthenticated
	if s.cfg.Keys != nil {
		k, err = s.cfg.Keys.Authenticate(c.UserContext(), secret)
	}
	switch {
	case err == nil:
		signIn(c, k)
	case faldone.ErrorCode(err) == faldone.EUNAUTHORIZED:
		log.WarnContext(c.UserContext(), "authentication failed", "ip", c.IP(), "well_formed", auth.WellFormed(secret))
		c.Locals(localAuthErr, err)
	default:
		return err
	}
	return c.Next()
}

var (
	errForbidden  = &faldone.Error{Code: faldone.EFORBIDDEN, MessageID: "error.role_forbidden", Message: "this key's role may not do this"}
	errBodyRefuse = &faldone.Error{Code: faldone.ETOOLARGE, MessageID: "error.body_refused", Message: "this request takes no body, or a smaller one"}
)

// authorize applies the policy of the route a request is for.
func (s *Server) authorize(c *fiber.Ctx) error {
	if err, ok := c.Locals(localAuthErr).(error); ok {
		return err
	}
	a, ok := policyFor(c.Method(), c.Path())
	k := keyOf(c)
	switch {
	case !ok && k == nil:
		return auth.ErrUnauthenticated
	case !ok:
		if s.served(c.Method(), c.Path()) {
			return errForbidden
		}
		return c.Next() // no such route: 404
	case a.public:
	case k == nil:
		return auth.ErrUnauthenticated
	case !a.allows(k.Role):
		return errForbidden
	}
	if err := s.readBody(c, s.bodyLimitOf(c.Method(), c.Path())); err != nil {
		return err
	}
	return c.Next()
}

// served reports whether a route of the app matches a request.
func (s *Server) served(method, path string) bool {
	if method == fiber.MethodHead {
		method = fiber.MethodGet
	}
	segs := pattern(path)
	for _, r := range s.app.GetRoutes(true) {
		if r.Method == method {
			if ok, _ := matches(pattern(r.Path), segs); ok {
				return true
			}
		}
	}
	return false
}

// documentNotFound is the one answer to an id that does not exist or that
// the caller may not see.
func documentNotFound(id string) error {
	return faldone.Errorf(faldone.ENOTFOUND, "document %s not found", id)
}

// documentFor returns the newest version of document id if the caller may
// see it. A comune key sees only its own comune's documents: for another
// comune's id it returns exactly what it returns for an id that does not
// exist. Every handler that serves a document, its PDF, its proofs or
// anything derived from it MUST get the document through here first.
func (s *Server) documentFor(c *fiber.Ctx, id string) (*faldone.Record, error) {
	k := keyOf(c)
	if k == nil {
		return nil, documentNotFound(id)
	}
	if k.Role == auth.RoleComune {
		// The comune check comes first, on the one column it needs, so
		// that another comune's document is refused as fast as a
		// missing one, before its record or PDF is read.
		if co, ok := s.cfg.Documents.Archive.(ComuneOfer); ok {
			comune, err := co.ComuneOf(c.UserContext(), id)
			if faldone.ErrorCode(err) == faldone.ENOTFOUND || err == nil && comune != k.Comune {
				return nil, documentNotFound(id)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	rec, err := s.cfg.Documents.Latest(c.UserContext(), id)
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, documentNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if k.Role == auth.RoleComune && k.Comune != rec.Comune {
		return nil, documentNotFound(id)
	}
	return rec, nil
}

// ComuneOfer is implemented by archives that can name a document's comune
// without reading its record (sqlite.Archive, postgres.Archive).
type ComuneOfer interface {
	// ComuneOf returns the ISTAT code of document id's comune, or ENOTFOUND.
	ComuneOf(ctx context.Context, id string) (string, error)
}

// checkComune answers ENOTFOUND, as for a comune that does not exist, when
// a comune key asks for another comune's data (a dossier, say).
func (s *Server) checkComune(c *fiber.Ctx, istat string) error {
	if k := keyOf(c); k == nil || (k.Role == auth.RoleComune && k.Comune != istat) {
		return faldone.Errorf(faldone.ENOTFOUND, "no comune has ISTAT code %q", istat)
	}
	return nil
}

// KeyRequest is the body of POST /v1/keys.
type KeyRequest struct {
	Name   string    `json:"name"`
	Role   auth.Role `json:"role"`
	Comune string    `json:"comune,omitempty"`
}

// KeyCreated is the answer to POST /v1/keys: the key, shown this once.
type KeyCreated struct {
	Key    string    `json:"key"`
	Record *auth.Key `json:"record"`
}

func (s *Server) keysService() (*auth.Service, error) {
	if s.cfg.Keys == nil {
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "no key store is configured"}
	}
	return s.cfg.Keys, nil
}

func (s *Server) listKeys(c *fiber.Ctx) error {
	ks, err := s.keysService()
	if err != nil {
		return err
	}
	keys, err := ks.List(c.UserContext())
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, KeyList{Items: keys})
}

func (s *Server) createKey(c *fiber.Ctx) error {
	ks, err := s.keysService()
	if err != nil {
		return err
	}
	if !isJSON(c.Get(fiber.HeaderContentType)) {
		return faldone.Errorf(faldone.EUNSUPPORTED, "the body must be application/json, not %q", c.Get(fiber.HeaderContentType))
	}
	var req KeyRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return faldone.Errorf(faldone.EMALFORMED, "the body must be a JSON object with name, role and, for a comune key, comune")
	}
	secret, k, err := ks.Create(c.UserContext(), req.Name, req.Role, req.Comune)
	if err != nil {
		return err
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).InfoContext(c.UserContext(), "key created",
		"new_key_id", k.ID, "name", k.Name, "role", k.Role, "comune", k.Comune, "by", actor(c))
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderLocation, "/v1/keys/"+k.ID)
	return sendJSON(c, fiber.StatusCreated, KeyCreated{Key: secret, Record: k})
}

func (s *Server) revokeKey(c *fiber.Ctx) error {
	ks, err := s.keysService()
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	if err := ks.Revoke(c.UserContext(), id); err != nil {
		var de *faldone.Error
		if errors.As(err, &de) && de.Code == faldone.ENOTFOUND {
			return faldone.Errorf(faldone.ENOTFOUND, "no key has id %q", id)
		}
		return err
	}
	faldone.Logger(c.UserContext(), s.cfg.Logger).InfoContext(c.UserContext(), "key revoked", "revoked_key_id", id, "by", actor(c))
	return c.SendStatus(fiber.StatusNoContent)
}

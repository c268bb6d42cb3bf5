package http

import (
	"testing"

	"github.com/valyala/fasthttp"

	"faldone/internal/auth"
	"faldone/internal/faldone"
	"faldone/internal/tmpl/tmpltest"
)

func testServer(t *testing.T) *Server {
	t.Helper()
	set := tmpltest.Set(t)
	return New(Config{Templates: set})
}

// TestEveryRouteHasAPolicy fails for a route served without an entry in
// the policy table: add one to policy in auth.go.
func TestEveryRouteHasAPolicy(t *testing.T) {
	s := testServer(t)
	for _, r := range s.app.GetRoutes(true) {
		if _, ok := policyFor(r.Method, r.Path); !ok {
			t.Errorf("route %s %s has no entry in the policy table of auth.go", r.Method, r.Path)
		}
	}
}

func TestPolicyMatching(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		ok, public   bool
		roles        []auth.Role
	}{
		{"GET", "/healthz", true, true, nil},
		{"HEAD", "/healthz", true, true, nil},
		{"GET", "/HEALTHZ/", true, true, nil},
		{"GET", "/v1/documents/abc", true, false, readers.roles},
		{"GET", "/v1/documents/abc/pdf", true, false, readers.roles},
		{"GET", "/v1/documents/abc/proof", true, false, readers.roles},
		{"GET", "/v1/documents/", false, false, nil},
		{"GET", "/v1/documents/abc/pdf/extra", false, false, nil},
		{"POST", "/v1/documents/adesione", true, false, []auth.Role{auth.RoleStaff}},
		{"DELETE", "/v1/documents/abc", false, false, nil},
		{"GET", "/v1/comuni/037034/dossier", true, false, readers.roles},
		{"GET", "/v1/comuni/037034/dossier/package", true, false, readers.roles},
		{"GET", "/v1/audit/checkpoint", true, true, nil},
		{"POST", "/v1/verify", true, true, nil},
		{"GET", "/v1/verify", false, false, nil},
		{"GET", "/", true, true, nil},
		{"GET", "/verifica", true, true, nil},
		{"POST", "/comune/login", true, true, nil},
		{"GET", "/static/css/bootstrap-italia.min.css", true, true, nil},
		{"GET", "/static*", true, true, nil},
		{"GET", "/staticfile", false, false, nil},
		{"GET", "/comunex", false, false, nil},
		{"GET", "/v1/keys", true, false, []auth.Role{auth.RoleAdmin}},
	} {
		a, ok := policyFor(tc.method, tc.path)
		if ok != tc.ok || a.public != tc.public || len(a.roles) != len(tc.roles) {
			t.Errorf("%s %s: ok %v, %+v", tc.method, tc.path, ok, a)
			continue
		}
		for i := range tc.roles {
			if a.roles[i] != tc.roles[i] {
				t.Errorf("%s %s: roles %v", tc.method, tc.path, a.roles)
			}
		}
	}
}

func TestCheckComune(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		key  *auth.Key
		code string
	}{
		{&auth.Key{ID: "k", Role: auth.RoleComune, Comune: "037034"}, ""},
		{&auth.Key{ID: "k", Role: auth.RoleComune, Comune: "049020"}, faldone.ENOTFOUND},
		{&auth.Key{ID: "k", Role: auth.RoleAuditor}, ""},
		{nil, faldone.ENOTFOUND},
	} {
		c := s.app.AcquireCtx(&fasthttp.RequestCtx{})
		if tc.key != nil {
			c.Locals(localKey, tc.key)
		}
		if got := faldone.ErrorCode(s.checkComune(c, "037034")); got != tc.code {
			t.Errorf("%+v: %q, want %q", tc.key, got, tc.code)
		}
		s.app.ReleaseCtx(c)
	}
}

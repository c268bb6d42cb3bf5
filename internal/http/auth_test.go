package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"faldone/internal/auth"
	fhttp "faldone/internal/http"
	"faldone/internal/pdftest"
)

const (
	loiano   = "037034"
	suvereto = "049020"
	noSuchID = "zzzzzzzzzzzzzzzzzzzzzzzzzz"
)

// who may call each route, as this test expects it: "public" or roles.
// A route the server serves and this table lacks fails the test, so that
// every new route is given a row here and in the policy of auth.go.
var matrix = map[string][]string{
	"GET /healthz":                                         {"public"},
	"GET /readyz":                                          {"public"},
	"GET /metrics":                                         {"admin", "staff", "auditor"},
	"GET /openapi.json":                                    {"public"},
	"GET /docs":                                            {"public"},
	"GET /docs/:file":                                      {"public"},
	"GET /v1/templates":                                    {"admin", "staff", "comune", "auditor"},
	"GET /v1/templates/:kind":                              {"admin", "staff", "comune", "auditor"},
	"GET /v1/comuni":                                       {"admin", "staff", "comune", "auditor"},
	"GET /v1/comuni/:istat":                                {"admin", "staff", "comune", "auditor"},
	"POST /v1/documents/:kind":                             {"staff"},
	"GET /v1/documents/:id":                                {"staff", "comune", "auditor"},
	"GET /v1/documents/:id/pdf":                            {"staff", "comune", "auditor"},
	"POST /v1/documents/:id/signed":                        {"staff", "comune"},
	"GET /v1/keys":                                         {"admin"},
	"POST /v1/keys":                                        {"admin"},
	"DELETE /v1/keys/:id":                                  {"admin"},
	"POST /v1/verify":                                      {"public"},
	"GET /v1/documents/:id/evidence":                       {"staff", "comune", "auditor"},
	"GET /v1/documents/:id/proof":                          {"staff", "comune", "auditor"},
	"GET /v1/documents/:id/metadata":                       {"staff", "comune", "auditor"},
	"GET /v1/comuni/:istat/dossier":                        {"staff", "comune", "auditor"},
	"GET /v1/comuni/:istat/dossier/package":                {"staff", "comune", "auditor"},
	"GET /v1/audit/checkpoint":                             {"public"},
	"GET /v1/audit/consistency":                            {"staff", "auditor"},
	"POST /v1/batches":                                     {"staff"},
	"GET /v1/batches/:id":                                  {"staff"},
	"GET /v1/batches/:id/events":                           {"staff"},
	"GET /v1/batches/:id/zip":                              {"staff"},
	"GET /v1/batches/:id/results.csv":                      {"staff"},
	"POST /v1/batches/:id/cancel":                          {"staff"},
	"GET /v1/webhooks":                                     {"admin"},
	"POST /v1/webhooks":                                    {"admin"},
	"GET /v1/webhooks/:id":                                 {"admin"},
	"DELETE /v1/webhooks/:id":                              {"admin"},
	"GET /v1/webhooks/:id/deliveries":                      {"admin"},
	"POST /v1/webhooks/:id/deliveries/:delivery/redeliver": {"admin"},
}

// caller is one column of the matrix.
type caller struct {
	name   string
	role   string // "" for no valid key
	header []string
}

func callers(t *testing.T, s *fhttp.Server) []caller {
	revoked := MustKey(t, s, auth.RoleStaff, "")
	ts := serverOf(t, s)
	k, _, err := ts.keys.Store.KeyByHash(context.Background(), auth.Hash(revoked))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.keys.Revoke(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	bearer := func(k string) []string { return []string{"Authorization", "Bearer " + k} }
	return []caller{
		{"no key", "", []string{"Authorization", ""}},
		{"admin", "admin", bearer(MustKey(t, s, auth.RoleAdmin, ""))},
		{"staff", "staff", bearer(MustKey(t, s, auth.RoleStaff, ""))},
		{"comune", "comune", []string{"X-API-Key", MustKey(t, s, auth.RoleComune, loiano)}},
		{"other comune", "comune", bearer(MustKey(t, s, auth.RoleComune, suvereto))},
		{"auditor", "auditor", bearer(MustKey(t, s, auth.RoleAuditor, ""))},
		{"revoked key", "", bearer(revoked)},
		{"unknown key", "", bearer("fk_" + strings.Repeat("A", 43))},
		{"malformed key", "", bearer("not-a-key")},
		{"basic auth", "", []string{"Authorization", "Basic dXNlcjpwYXNz"}},
	}
}

// request returns a request for a route: its path with the parameters
// filled in, and a body.
func request(t *testing.T, route, docID string) (path, ctype string, body []byte) {
	method, p, _ := strings.Cut(route, " ")
	params := map[string]string{":kind": "adesione", ":id": docID, ":istat": loiano, ":file": "apidocs.css"}
	if strings.HasPrefix(p, "/v1/keys/") {
		params[":id"] = "nosuchkey"
	}
	path = regexp.MustCompile(`:[a-z]+`).ReplaceAllStringFunc(p, func(m string) string {
		if v, ok := params[m]; ok {
			return v
		}
		return "x"
	})
	switch {
	case method != "POST":
	case p == "/v1/documents/:kind":
		return path, "application/json", sample(t, "loiano", "adesione")
	case p == "/v1/keys":
		return path, "application/json", []byte(`{"name": "matrix", "role": "auditor"}`)
	case strings.HasSuffix(p, "/signed"):
		return path, "application/pdf", []byte("%PDF-1.7 not a signed copy")
	default:
		return path, "application/json", []byte(`{}`)
	}
	return path, "", nil
}

// TestAuthorizationMatrix calls every route the server serves as every
// role, with no key, a revoked, an unknown and a malformed one.
func TestAuthorizationMatrix(t *testing.T) {
	s := MustServer(t)
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)
	cs := callers(t, s)
	seen := map[string]bool{}
	for _, r := range s.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Path == "/" {
			continue
		}
		route := r.Method + " " + r.Path
		seen[route] = true
		allowed, ok := matrix[route]
		if !ok {
			t.Errorf("route %s is not in the authorization matrix", route)
			continue
		}
		for _, c := range cs {
			t.Run(route+"/"+c.name, func(t *testing.T) {
				path, ctype, body := request(t, route, doc.ID)
				resp, b := do(t, s, r.Method, path, ctype, body, c.header...)
				public := allowed[0] == "public"
				may := public || c.role != "" && strings.Contains(" "+strings.Join(allowed, " ")+" ", " "+c.role+" ")
				probe := r.Path == "/healthz" || r.Path == "/readyz"
				switch {
				case probe:
					// Health probes never look at a key: no
					// dependency of authentication can fail them.
					if resp.StatusCode != 200 {
						t.Fatalf("status %d, want 200: %s", resp.StatusCode, b)
					}
				case c.role == "" && c.name != "no key":
					if resp.StatusCode != 401 {
						t.Fatalf("status %d, want 401: %s", resp.StatusCode, b)
					}
				case !may && c.role == "":
					if resp.StatusCode != 401 {
						t.Fatalf("status %d, want 401: %s", resp.StatusCode, b)
					}
				case !may:
					if resp.StatusCode != 403 {
						t.Fatalf("status %d, want 403: %s", resp.StatusCode, b)
					}
				case c.name == "other comune" && (strings.Contains(path, doc.ID) || strings.Contains(path, "/comuni/"+loiano+"/dossier")):
					if resp.StatusCode != 404 {
						t.Fatalf("status %d, want 404: %s", resp.StatusCode, b)
					}
				default:
					if resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 {
						t.Fatalf("status %d, want access: %s", resp.StatusCode, b)
					}
					if c.name == "comune" && resp.StatusCode == 404 {
						t.Fatalf("own comune's document: 404: %s", b)
					}
				}
				if resp.StatusCode == 401 || resp.StatusCode == 403 {
					problem(t, resp, b)
				}
			})
		}
	}
	for route := range matrix {
		if !seen[route] {
			t.Errorf("matrix lists %s, which is not served", route)
		}
	}
}

// TestRefusalsRevealNothing: a revoked key gets the answer of an unknown
// one, and another comune's document the answer of a document that does
// not exist, apart from the id in it.
func TestRefusalsRevealNothing(t *testing.T) {
	s := MustServer(t)
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)
	cs := callers(t, s)
	by := map[string][]string{}
	for _, c := range cs {
		by[c.name] = c.header
	}
	body := func(path string, hdr []string) []byte {
		resp, b := do(t, s, "GET", path, "", nil, hdr...)
		problem(t, resp, b)
		return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(doc.ID), []byte("ID")), []byte(noSuchID), []byte("ID"))
	}
	for _, p := range []string{"/v1/documents/%s", "/v1/documents/%s/pdf"} {
		mine := body(strings.Replace(p, "%s", doc.ID, 1), by["other comune"])
		none := body(strings.Replace(p, "%s", noSuchID, 1), by["other comune"])
		staffNone := body(strings.Replace(p, "%s", noSuchID, 1), by["staff"])
		if !bytes.Equal(mine, none) || !bytes.Equal(none, staffNone) {
			t.Errorf("another comune's document:\n%s\nno such document:\n%s\nas staff:\n%s", mine, none, staffNone)
		}
	}
	resp, b = do(t, s, "POST", "/v1/documents/"+doc.ID+"/signed", "application/pdf", []byte("%PDF-"), by["other comune"]...)
	if p := problem(t, resp, b); resp.StatusCode != 404 || !strings.Contains(p.Detail, "not found") {
		t.Errorf("signed copy to another comune's document: %d %s", resp.StatusCode, b)
	}
	revoked := body("/v1/templates", by["revoked key"])
	unknown := body("/v1/templates", by["unknown key"])
	malformed := body("/v1/templates", by["malformed key"])
	none := body("/v1/templates", by["no key"])
	if !bytes.Equal(revoked, unknown) || !bytes.Equal(unknown, malformed) || !bytes.Equal(malformed, none) {
		t.Errorf("revoked %s\nunknown %s\nmalformed %s\nnone %s", revoked, unknown, malformed, none)
	}
	resp, b = do(t, s, "GET", "/v1/templates", "", nil, "Authorization", "", "Accept-Language", "de")
	if p := problem(t, resp, b); resp.StatusCode != 401 || !strings.Contains(p.Detail, "API-Schlüssel") || resp.Header.Get("WWW-Authenticate") != `Bearer realm="faldone"` {
		t.Errorf("German 401: %v %s", resp.Header, b)
	}
	// Unknown paths say nothing without a key, 404 with one.
	if resp, _ := do(t, s, "GET", "/v1/nope", "", nil, "Authorization", ""); resp.StatusCode != 401 {
		t.Errorf("unknown path without key: %d", resp.StatusCode)
	}
	if resp, _ := do(t, s, "GET", "/v1/nope", "", nil); resp.StatusCode != 404 {
		t.Errorf("unknown path with key: %d", resp.StatusCode)
	}
}

// TestKeyAdminAPI: an admin creates a key, which works at once and is
// shown only in the answer that creates it, lists keys and revokes one.
func TestKeyAdminAPI(t *testing.T) {
	s := MustServer(t)
	adm := []string{"Authorization", "Bearer " + MustKey(t, s, auth.RoleAdmin, "")}
	resp, b := do(t, s, "POST", "/v1/keys", "application/json", []byte(`{"name": "Comune di Loiano", "role": "comune", "comune": "`+loiano+`"}`), adm...)
	if resp.StatusCode != 201 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var created fhttp.KeyCreated
	if err := json.Unmarshal(b, &created); err != nil || !auth.WellFormed(created.Key) || created.Record.Role != auth.RoleComune || created.Record.Comune != loiano {
		t.Fatalf("created %s", b)
	}
	comune := []string{"Authorization", "Bearer " + created.Key}
	if resp, b := do(t, s, "GET", "/v1/templates", "", nil, comune...); resp.StatusCode != 200 {
		t.Fatalf("new key: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, "GET", "/v1/keys", "", nil, adm...)
	if resp.StatusCode != 200 || bytes.Contains(b, []byte(created.Key)) || !bytes.Contains(b, []byte(created.Record.ID)) {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	for _, tc := range []struct {
		body   string
		ctype  string
		status int
		detail string
	}{
		{`{"name": "x", "role": "comune"}`, "application/json", 422, "ISTAT"},
		{`{"name": "x", "role": "staff", "comune": "037034"}`, "application/json", 422, "comune"},
		{`{"name": "x", "role": "comune", "comune": "999999"}`, "application/json", 422, "999999"},
		{`{"name": "x", "role": "root"}`, "application/json", 422, "root"},
		{`{"name": "", "role": "staff"}`, "application/json", 422, "1"},
		{`{"name": "x", "role": "staff", "extra": 1}`, "application/json", 400, ""},
		{`{"name": "x"`, "application/json", 400, ""},
		{`name=x`, "application/x-www-form-urlencoded", 415, ""},
		{`{"name": "` + strings.Repeat("x", 5000) + `", "role": "staff"}`, "application/json", 413, ""},
	} {
		resp, b := do(t, s, "POST", "/v1/keys", tc.ctype, []byte(tc.body), adm...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s", tc.body[:min(len(tc.body), 60)], resp.StatusCode, b)
			continue
		}
		if p := problem(t, resp, b); !strings.Contains(p.Detail, tc.detail) {
			t.Errorf("%s: detail %q lacks %q", tc.body, p.Detail, tc.detail)
		}
	}
	if resp, b := do(t, s, "DELETE", "/v1/keys/"+created.Record.ID, "", nil, adm...); resp.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, s, "GET", "/v1/templates", "", nil, comune...); resp.StatusCode != 401 {
		t.Fatalf("revoked key: %d", resp.StatusCode)
	}
	if resp, b := do(t, s, "DELETE", "/v1/keys/nosuchkey", "", nil, adm...); resp.StatusCode != 404 {
		t.Fatalf("revoke unknown: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, s, "DELETE", "/v1/keys/"+created.Record.ID, "", nil); resp.StatusCode != 403 {
		t.Fatalf("staff revokes: %d", resp.StatusCode)
	}
}

// TestActorIsRecorded: the archive record of every write names the key
// that made it, and a comune returns the signed copy of its own document.
func TestActorIsRecorded(t *testing.T) {
	s := mustServerWith(t, devSealer(t, ""), func(c *fhttp.Config) { c.BodyLimit = 4 << 20 })
	ts := serverOf(t, s)
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var doc fhttp.DocumentResponse
	json.Unmarshal(b, &doc)
	staff, _, _ := ts.keys.Store.KeyByHash(context.Background(), auth.Hash(ts.staff))
	rec, err := ts.archive.Latest(context.Background(), doc.ID)
	if err != nil || rec.Actor != "key:"+staff.ID+" ufficio task force" {
		t.Fatalf("actor %q (%v)", rec.Actor, err)
	}
	comune := MustKey(t, s, auth.RoleComune, loiano)
	_, pdf := do(t, s, "GET", doc.Links["pdf"], "", nil, "X-API-Key", comune)
	signed := pdftest.Countersign(t, pdf, pdftest.NewPKI(t, "Comune di Loiano"))
	other := MustKey(t, s, auth.RoleComune, suvereto)
	if resp, b := do(t, s, "POST", doc.Links["signed"], "application/pdf", signed, "X-API-Key", other); resp.StatusCode != 404 {
		t.Fatalf("other comune returns the copy: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, "POST", doc.Links["signed"], "application/pdf", signed, "X-API-Key", comune)
	if resp.StatusCode != 201 {
		t.Fatalf("signed copy: %d %s", resp.StatusCode, b)
	}
	k, _, _ := ts.keys.Store.KeyByHash(context.Background(), auth.Hash(comune))
	rec, err = ts.archive.Latest(context.Background(), doc.ID)
	if err != nil || rec.Version != 2 || rec.Actor != k.Actor() || !strings.HasPrefix(rec.Actor, "key:") {
		t.Fatalf("signed copy: version %d, actor %q (%v)", rec.Version, rec.Actor, err)
	}
}

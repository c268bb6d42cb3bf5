package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"faldone/internal/auth"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/ledger"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/templates"
)

// MustServer returns an API on the embedded templates and a fresh store.
func MustServer(tb testing.TB) *fhttp.Server { return mustServer(tb, nil) }

// mustServer returns an API that seals with sealer (nil: unsealed).
func mustServer(tb testing.TB, sealer docs.Sealer) *fhttp.Server {
	tb.Helper()
	return mustServerWith(tb, sealer, nil)
}

// testServer is what the tests know of a server: its key service, its
// archive and the staff key do sends by default.
type testServer struct {
	keys    *auth.Service
	archive *sqlite.Archive
	staff   string
}

var servers sync.Map // *fhttp.Server -> *testServer

// mustServerWith returns an API that seals with sealer (nil: unsealed),
// on a configuration that configure may change (nil: the defaults of the
// tests, which switch the rate limits off). It creates a staff key that
// do sends unless told otherwise.
func mustServerWith(tb testing.TB, sealer docs.Sealer, configure func(*fhttp.Config)) *fhttp.Server {
	tb.Helper()
	reg, err := comuni.Default()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	archive, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { archive.Close() })
	keys := &auth.Service{Store: archive, Comuni: reg}
	cfg := fhttp.Config{
		Templates: set, Version: "test", BodyLimit: 64 << 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Documents: &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: "test"}, Archive: archive, Sealer: sealer},
		Keys:      keys, VerifyRate: -1, AuthFailureRate: -1,
	}
	// The audit log and the verifier, so that every route answers.
	logKey, _, err := ledger.LoadKey(filepath.Join(dir, "keys", "log.key"), true)
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.Ledger, err = ledger.New(archive, logKey, ledger.Options{}); err != nil {
		tb.Fatal(err)
	}
	anchors := &verify.Anchors{}
	if sl, ok := sealer.(*seal.Sealer); ok && sl != nil {
		anchors.Add(sl.Key.Chain[len(sl.Key.Chain)-1], "service")
	}
	cfg.Verifier = &verify.Verifier{Anchors: anchors, Archive: archive, Log: cfg.Ledger, Messages: set}
	mustQueue(tb, archive, &cfg)
	if configure != nil {
		configure(&cfg)
	}
	s := fhttp.New(cfg)
	staff, _, err := keys.Create(context.Background(), "ufficio task force", auth.RoleStaff, "")
	if err != nil {
		tb.Fatal(err)
	}
	servers.Store(s, &testServer{keys: keys, archive: archive, staff: staff})
	tb.Cleanup(func() { servers.Delete(s) })
	return s
}

// serverOf returns what the tests know of s.
func serverOf(tb testing.TB, s *fhttp.Server) *testServer {
	tb.Helper()
	ts, ok := servers.Load(s)
	if !ok {
		tb.Fatal("server not made by mustServerWith")
	}
	return ts.(*testServer)
}

// MustKey creates a key of role (bound to comune for the comune role) on
// a server made by MustServer and returns it.
func MustKey(tb testing.TB, s *fhttp.Server, role auth.Role, comune string) string {
	tb.Helper()
	secret, _, err := serverOf(tb, s).keys.Create(context.Background(), "test "+string(role)+" "+comune, role, comune)
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

// do sends a request to s with the server's staff key, unless hdr sets
// Authorization or X-API-Key (to "" for no key).
func do(tb testing.TB, s *fhttp.Server, method, path, ctype string, body []byte, hdr ...string) (*nethttp.Response, []byte) {
	tb.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	keyed := false
	for i := 0; i+1 < len(hdr); i += 2 {
		keyed = keyed || strings.EqualFold(hdr[i], "Authorization") || strings.EqualFold(hdr[i], "X-API-Key")
	}
	if ts, ok := servers.Load(s); ok && !keyed {
		req.Header.Set("Authorization", "Bearer "+ts.(*testServer).staff)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.App().Test(req, 60_000)
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func sample(tb testing.TB, dir, kind string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "samples", dir, kind+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestCreateAndDownloadEachKind(t *testing.T) {
	s := MustServer(t)
	ids := map[string]string{}
	for _, kind := range []string{"adesione", "assessment", "piano", "approvazione", "chiusura"} {
		body := sample(t, "banari", kind)
		switch kind {
		case "piano":
			body = mutate(t, body, func(m map[string]any) { m["assessment"] = ids["assessment"] })
		case "approvazione":
			body = mutate(t, body, func(m map[string]any) { m["piano"] = ids["piano"] })
		case "chiusura":
			body = mutate(t, body, func(m map[string]any) { m["approvazione"] = ids["approvazione"] })
		}
		resp, b := do(t, s, "POST", "/v1/documents/"+kind, "application/json", body)
		if resp.StatusCode != 201 {
			t.Fatalf("%s: status %d: %s", kind, resp.StatusCode, b)
		}
		var got fhttp.DocumentResponse
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[a-z2-7]{26}$`).MatchString(got.ID) || string(got.Kind) != kind || got.Version != 1 {
			t.Fatalf("bad response %+v", got)
		}
		ids[kind] = got.ID
		if got.Template.ID != kind || got.Template.Version == "" || len(got.Template.SHA256) != 64 || len(got.SHA256) != 64 || got.Size == 0 {
			t.Fatalf("bad response %+v", got)
		}
		if resp.Header.Get("Location") != got.Links["self"] {
			t.Errorf("Location = %q", resp.Header.Get("Location"))
		}
		if want := map[string]string{"assessment": "sealed", "chiusura": "sealed"}[kind]; want == "" && got.State != "awaiting_comune" || want != "" && got.State != want {
			t.Errorf("%s: state %q", kind, got.State)
		}
		resp, pdf := do(t, s, "GET", got.Links["pdf"], "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || int64(len(pdf)) != got.Size {
			t.Fatalf("%s pdf: status %d, type %q, %d bytes", kind, resp.StatusCode, resp.Header.Get("Content-Type"), len(pdf))
		}
		text := pdftest.Text(t, pdf)
		if !strings.Contains(text, "Banari") {
			t.Errorf("%s: PDF text lacks the comune", kind)
		}
		if got.Cites != "" && (!strings.Contains(text, got.Cites) || !strings.Contains(strings.Join(strings.Fields(text), ""), got.CitesSHA)) {
			t.Errorf("%s: PDF text lacks the cited document's id %s and SHA-256 %s", kind, got.Cites, got.CitesSHA)
		}
		resp, _ = do(t, s, "GET", got.Links["self"], "", nil)
		if resp.StatusCode != 200 {
			t.Errorf("get document: %d", resp.StatusCode)
		}
	}
}

// problem decodes an RFC 9457 body and checks its media type.
func problem(t *testing.T, resp *nethttp.Response, b []byte) fhttp.Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, body %s", ct, b)
	}
	var p fhttp.Problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, b)
	}
	if p.Status != resp.StatusCode || p.Title == "" || p.Type == "" {
		t.Fatalf("incomplete problem %+v", p)
	}
	return p
}

func mutate(t *testing.T, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	return b
}

func TestBadInputGetsAProblem(t *testing.T) {
	s := MustServer(t)
	ades := sample(t, "loiano", "adesione")
	piano := sample(t, "loiano", "piano")
	assess := sample(t, "loiano", "assessment")
	for _, tc := range []struct {
		name, path, ctype string
		body              []byte
		hdr               []string
		status            int
		paths             []string // JSON paths of the field errors
		detail            string   // substring of a field message or the detail
	}{
		{"malformed", "/v1/documents/adesione", "application/json", []byte(`{"comune": `), nil, 400, nil, "JSON"},
		{"not an object", "/v1/documents/adesione", "application/json", []byte(`[1,2]`), nil, 400, nil, "object"},
		{"trailing data", "/v1/documents/adesione", "application/json", []byte(`{} {}`), nil, 400, nil, "after"},
		{"wrong content type", "/v1/documents/adesione", "text/plain", ades, nil, 415, nil, "application/json"},
		{"unknown kind", "/v1/documents/delibera", "application/json", ades, nil, 404, nil, "delibera"},
		{"empty object", "/v1/documents/adesione", "application/json", []byte(`{}`), nil, 422, []string{"$.ambito", "$.comune", "$.data", "$.firmatario", "$.luogo", "$.pec", "$.protocollo", "$.referente"}, "obbligatorio"},
		{"big comune", "/v1/documents/adesione", "application/json", mutate(t, ades, func(m map[string]any) { m["comune"] = "058091" }), nil, 422, []string{"$.comune"}, "Roma ha 2617175 abitanti"},
		{"unknown comune", "/v1/documents/adesione", "application/json", mutate(t, ades, func(m map[string]any) { m["comune"] = "999999" }), nil, 422, []string{"$.comune"}, "999999"},
		{"german messages", "/v1/documents/adesione", "application/json", mutate(t, ades, func(m map[string]any) {
			m["referente"].(map[string]any)["email"] = "not-an-email"
			m["ambito"] = "D"
		}), []string{"Accept-Language", "de-DE,de;q=0.9"}, 422, []string{"$.ambito", "$.referente.email"}, "Ungültige E-Mail-Adresse"},
		{"lang field wins", "/v1/documents/adesione", "application/json", mutate(t, ades, func(m map[string]any) {
			m["lang"] = "en"
			m["protocollo"].(map[string]any)["numero"] = "12"
		}), []string{"Accept-Language", "de"}, 422, []string{"$.protocollo.numero"}, "Invalid format"},
		{"unknown field", "/v1/documents/adesione", "application/json", mutate(t, ades, func(m map[string]any) { m["sindaco"] = "x" }), nil, 422, []string{"$.sindaco"}, "non previsto"},
		{"end before start", "/v1/documents/piano", "application/json", mutate(t, piano, func(m map[string]any) {
			f := m["fasi"].([]any)[2].(map[string]any)
			f["fine"] = "2020-01-01"
		}), nil, 422, []string{"$.fasi[2].fine"}, "inizio"},
		{"checklist item missing and unknown", "/v1/documents/assessment", "application/json", mutate(t, assess, func(m map[string]any) {
			c := m["checklist"].(map[string]any)
			delete(c, "pagopa")
			c["blockchain"] = map[string]any{"rating": "attuato"}
			c["rtd"] = map[string]any{"rating": "forse"}
		}), nil, 422, []string{"$.checklist.blockchain", "$.checklist.pagopa", "$.checklist.rtd.rating"}, "pagopa"},
		{"wrong types", "/v1/documents/assessment", "application/json", mutate(t, assess, func(m map[string]any) {
			m["competenze"].(map[string]any)["dati"] = 101
			m["competenze"].(map[string]any)["sicurezza"] = "alta"
			m["partecipanti"] = "tutti"
		}), nil, 422, []string{"$.competenze.dati", "$.competenze.sicurezza", "$.partecipanti"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, "POST", tc.path, tc.ctype, tc.body, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			p := problem(t, resp, b)
			var paths []string
			all := p.Detail
			for _, f := range p.Errors {
				paths = append(paths, f.Path)
				all += " " + f.Message
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Path)
				}
			}
			sort.Strings(paths)
			if fmt.Sprint(paths) != fmt.Sprint(tc.paths) && !(len(paths) == 0 && len(tc.paths) == 0) {
				t.Errorf("paths = %v, want %v", paths, tc.paths)
			}
			if !strings.Contains(all, tc.detail) {
				t.Errorf("messages %q lack %q", all, tc.detail)
			}
		})
	}
}

// TestBodyLimit sends an oversized body to a real listener: the limit is
// enforced by the HTTP server before any handler runs.
func TestBodyLimit(t *testing.T) {
	s := MustServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.App().Listener(ln)
	t.Cleanup(func() { _ = s.App().Shutdown() })
	body := append([]byte(`{"note": "`), bytes.Repeat([]byte("x"), 70<<10)...)
	body = append(body, `"}`...)
	resp, err := nethttp.Post("http://"+ln.Addr().String()+"/v1/documents/adesione", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	problem(t, resp, b)
}

func TestNotFound(t *testing.T) {
	s := MustServer(t)
	for _, path := range []string{"/v1/documents/aaaaaaaaaaaaaaaaaaaaaaaaaa", "/v1/documents/aaaaaaaaaaaaaaaaaaaaaaaaaa/pdf", "/v1/documents/..%2f..%2fetc/pdf", "/v1/templates/delibera", "/v1/comuni/999999", "/nope"} {
		resp, b := do(t, s, "GET", path, "", nil)
		if resp.StatusCode != 404 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
			continue
		}
		problem(t, resp, b)
	}
}

func TestTemplatesAndComuni(t *testing.T) {
	s := MustServer(t)
	resp, b := do(t, s, "GET", "/v1/templates", "", nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	var list struct {
		Templates []fhttp.TemplateInfo `json:"templates"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Templates) != 5 || list.Templates[0].Kind != "adesione" || list.Templates[4].Kind != "chiusura" {
		t.Fatalf("templates = %+v", list.Templates)
	}
	sc := list.Templates[0].Schema
	props := sc["properties"].(map[string]any)
	if props["ambito"].(map[string]any)["enum"] == nil || sc["additionalProperties"] != false {
		t.Errorf("schema of adesione is incomplete: %v", sc)
	}
	resp, b = do(t, s, "GET", "/v1/comuni?q=casaletto", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"istat":"065027"`)) || !bytes.Contains(b, []byte("CC BY 3.0")) {
		t.Fatalf("comuni search: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, "GET", "/v1/comuni?limit=0", "", nil)
	if resp.StatusCode != 422 {
		t.Fatalf("bad limit: %d %s", resp.StatusCode, b)
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := MustServer(t)
	resp, b := do(t, s, "GET", "/openapi.json", "", nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	for _, r := range s.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" || r.Path == "/" {
			continue
		}
		p := regexp.MustCompile(`:([a-z]+)`).ReplaceAllString(r.Path, "{$1}")
		if p == "/v1/documents/{kind}" {
			// One path per kind of the templates.
			_, tb := do(t, s, "GET", "/v1/templates", "", nil)
			var list fhttp.TemplateList
			if err := json.Unmarshal(tb, &list); err != nil || len(list.Templates) == 0 {
				t.Fatalf("templates: %v %s", err, tb)
			}
			for _, k := range list.Templates {
				served[r.Method+" /v1/documents/"+k.Kind] = true
			}
			continue
		}
		served[r.Method+" "+p] = true
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which is not served", k)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := MustServer(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, b := do(t, s, "GET", p, "", nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
	do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "suvereto", "adesione"))
	do(t, s, "POST", "/v1/documents/adesione", "application/json", []byte(`{}`))
	resp, b := do(t, s, "GET", "/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	for _, want := range []string{
		`faldone_documents_rendered_total{kind="adesione"} 1`,
		`faldone_http_request_duration_seconds_count{method="POST",route="/v1/documents/:kind",status="201"} 1`,
		`faldone_http_request_duration_seconds_count{method="POST",route="/v1/documents/:kind",status="422"} 1`,
		`faldone_render_failures_total`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("metrics lack %s\n%s", want, b)
		}
	}
}

func devSealer(t testing.TB, tsaURL string) *seal.Sealer {
	t.Helper()
	key, _, err := keys.DevSeal(t.TempDir(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { key.Close() })
	s := &seal.Sealer{Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tsaURL != "" {
		s.TSA = &pades.TSA{URL: tsaURL, Timeout: 2 * time.Second}
	}
	return s
}

// TestSealedDocument: the API seals every document and says how.
func TestSealedDocument(t *testing.T) {
	tsa, _ := testenv.StartTSA(t)
	sealer := devSealer(t, tsa)
	s := mustServer(t, sealer)
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "suvereto", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var got fhttp.DocumentResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Seal.Level != "B-T" || got.Seal.CertSHA256 != sealer.Key.Fingerprint() || got.Seal.TimestampTime == nil {
		t.Fatalf("seal facts = %+v", got.Seal)
	}
	_, pdf := do(t, s, "GET", got.Links["pdf"], "", nil)
	sigs, err := pades.Inspect(pdf)
	if err != nil || len(sigs) != 1 || sigs[0].IntegrityErr != nil || sigs[0].DocMDP != 2 || !sigs[0].CoversWholeFile {
		t.Fatalf("inspect: %v %+v", err, sigs)
	}
}

// TestTSADownIs503: with the TSA unreachable the document is not sealed,
// not stored, and the answer is a 503 problem.
func TestTSADownIs503(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/tsa"
	ln.Close()
	s := mustServer(t, devSealer(t, url))
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "suvereto", "adesione"))
	if resp.StatusCode != 503 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	p := problem(t, resp, b)
	if !strings.Contains(p.Detail, "marca temporale") {
		t.Errorf("detail %q", p.Detail)
	}
}

// TestWorkflowIsEnforced: a piano needs an archived assessment of the same
// comune, an approvazione an archived piano.
func TestWorkflowIsEnforced(t *testing.T) {
	s := MustServer(t)
	create := func(dir, kind string, f func(m map[string]any)) (*nethttp.Response, []byte) {
		body := sample(t, dir, kind)
		if f != nil {
			body = mutate(t, body, f)
		}
		return do(t, s, "POST", "/v1/documents/"+kind, "application/json", body)
	}
	resp, b := create("loiano", "assessment", nil)
	if resp.StatusCode != 201 {
		t.Fatalf("assessment: %d %s", resp.StatusCode, b)
	}
	var assessment fhttp.DocumentResponse
	json.Unmarshal(b, &assessment)
	resp, b = create("loiano", "adesione", nil)
	if resp.StatusCode != 201 {
		t.Fatalf("adesione: %d %s", resp.StatusCode, b)
	}
	var adesione fhttp.DocumentResponse
	json.Unmarshal(b, &adesione)
	for _, tc := range []struct {
		name, dir, kind string
		f               func(m map[string]any)
		detail          string
	}{
		{"missing assessment", "loiano", "piano", func(m map[string]any) { m["assessment"] = "aaaaaaaaaaaaaaaaaaaaaaaaaa" }, "non è nell'archivio"},
		{"assessment of another comune", "suvereto", "piano", func(m map[string]any) { m["assessment"] = assessment.ID }, "altro comune"},
		{"cites a letter, not an assessment", "loiano", "piano", func(m map[string]any) { m["assessment"] = adesione.ID }, "serve un documento di tipo «assessment»"},
		{"approvazione without piano", "loiano", "approvazione", func(m map[string]any) { m["piano"] = assessment.ID }, "«piano»"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := create(tc.dir, tc.kind, tc.f)
			if resp.StatusCode != 422 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			p := problem(t, resp, b)
			if len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, tc.detail) || !strings.HasPrefix(p.Errors[0].Path, "$.") {
				t.Errorf("errors = %+v", p.Errors)
			}
		})
	}
	resp, b = create("loiano", "piano", func(m map[string]any) { m["assessment"] = assessment.ID })
	if resp.StatusCode != 201 {
		t.Fatalf("piano: %d %s", resp.StatusCode, b)
	}
}

// TestReturnSignedRefusals: what is not a valid countersigned copy of the
// newest version is refused with the reason.
func TestReturnSignedRefusals(t *testing.T) {
	s := mustServer(t, devSealer(t, ""))
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var d fhttp.DocumentResponse
	json.Unmarshal(b, &d)
	_, sealed := do(t, s, "GET", d.Links["pdf"], "", nil)
	truncated := sealed[:len(sealed)-100]
	for _, tc := range []struct {
		name, path, ctype string
		body              []byte
		status            int
		reason            string
	}{
		{"unknown document", "/v1/documents/aaaaaaaaaaaaaaaaaaaaaaaaaa/signed", "application/pdf", sealed, 404, ""},
		{"not a pdf", d.Links["signed"], "application/pdf", []byte("hello"), 422, ""},
		{"wrong content type", d.Links["signed"], "text/plain", sealed, 415, ""},
		{"unchanged copy", d.Links["signed"], "application/pdf", sealed, 422, "no_new_signature"},
		{"truncated copy", d.Links["signed"], "application/pdf", truncated, 422, "not_prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, "POST", tc.path, tc.ctype, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			p := problem(t, resp, b)
			if tc.reason != "" && !strings.Contains(p.Detail, tc.reason) {
				t.Errorf("detail %q lacks %q", p.Detail, tc.reason)
			}
		})
	}
}

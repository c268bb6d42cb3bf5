package http_test

import (
	"bytes"
	"encoding/json"
	nethttp "net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"faldone/internal/auth"
	fhttp "faldone/internal/http"
	"faldone/internal/pdftest"
)

// contract validates answers against the OpenAPI document the server
// serves, with a JSON Schema 2020-12 validator independent of the code
// that generated the document.
type contract struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
	covered  map[string]bool // "METHOD path" whose success answer validated
	bodies   int             // JSON bodies validated
	paths    []string
}

func newContract(t *testing.T, raw []byte) *contract {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	c := &contract{doc: doc.(map[string]any), compiler: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}, covered: map[string]bool{}}
	if err := c.compiler.AddResource("urn:faldone:openapi", doc); err != nil {
		t.Fatal(err)
	}
	for p := range c.doc["paths"].(map[string]any) {
		c.paths = append(c.paths, p)
	}
	return c
}

// operation finds the documented operation of a request: a literal path
// wins over a templated one.
func (c *contract) operation(method, path string) (string, map[string]any) {
	path, _, _ = strings.Cut(path, "?")
	best, bestParams := "", 1<<30
	for _, p := range c.paths {
		re := "^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
		if !regexp.MustCompile(re).MatchString(path) {
			continue
		}
		if _, ok := c.doc["paths"].(map[string]any)[p].(map[string]any)[strings.ToLower(method)]; !ok {
			continue
		}
		if n := strings.Count(p, "{"); n < bestParams {
			best, bestParams = p, n
		}
	}
	if best == "" {
		return "", nil
	}
	return best, c.doc["paths"].(map[string]any)[best].(map[string]any)[strings.ToLower(method)].(map[string]any)
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// check validates one answer: its status must be documented for the
// operation, its media type among the documented ones, and a JSON body
// valid against the documented schema.
func (c *contract) check(t *testing.T, method, path string, resp *nethttp.Response, body []byte) {
	t.Helper()
	p, op := c.operation(method, path)
	if op == nil {
		t.Errorf("%s %s: no operation in openapi.json", method, path)
		return
	}
	status := strconv.Itoa(resp.StatusCode)
	responses := op["responses"].(map[string]any)
	r, ok := responses[status].(map[string]any)
	ptr := "#/paths/" + pointerEscape(p) + "/" + strings.ToLower(method) + "/responses/" + status
	if !ok {
		t.Errorf("%s %s answered %s, which the document does not declare for %s %s: %s", method, path, status, method, p, body)
		return
	}
	if ref, ok := r["$ref"].(string); ok {
		ptr = ref
		name := strings.TrimPrefix(ref, "#/components/responses/")
		r = c.doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
	}
	ctype, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			t.Errorf("%s %s: %s with a body, documented without content", method, path, status)
		}
		c.cover(method, p, resp.StatusCode)
		return
	}
	media, ok := content[ctype]
	if !ok {
		media, ok = content["*/*"]
	}
	if !ok {
		t.Errorf("%s %s: %s answered %q, documented %v", method, path, status, ctype, mapKeys(content))
		return
	}
	_ = media
	if ctype == "application/json" || strings.HasSuffix(ctype, "+json") {
		sch := c.schema(t, ptr+"/content/"+pointerEscape(ctype)+"/schema")
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Errorf("%s %s: %s: not JSON: %v", method, path, status, err)
			return
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s %s: %s does not match its schema in openapi.json:\n%v\n%s", method, path, status, err, truncate(body))
			return
		}
		c.bodies++
	}
	c.cover(method, p, resp.StatusCode)
}

func (c *contract) cover(method, p string, status int) {
	if status < 300 {
		c.covered[method+" "+p] = true
	}
}

func (c *contract) schema(t *testing.T, ptr string) *jsonschema.Schema {
	t.Helper()
	if s, ok := c.schemas[ptr]; ok {
		return s
	}
	s, err := c.compiler.Compile("urn:faldone:openapi" + ptr)
	if err != nil {
		t.Fatalf("compile %s: %v", ptr, err)
	}
	c.schemas[ptr] = s
	return s
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func truncate(b []byte) []byte {
	if len(b) > 600 {
		return append(b[:600:600], "…"...)
	}
	return b
}

// TestOpenAPIValidatesResponses sends real requests to every operation of
// the document (and the problems they answer) and validates each answer
// against the document; every operation must have validated a success.
func TestOpenAPIValidatesResponses(t *testing.T) {
	s := mustServerWith(t, devSealer(t, ""), func(cfg *fhttp.Config) { cfg.BodyLimit = 8 << 20 })
	resp, raw := do(t, s, "GET", "/openapi.json", "", nil, "Authorization", "")
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json without a key: %d %s", resp.StatusCode, raw)
	}
	c := newContract(t, raw)
	admin := MustKey(t, s, auth.RoleAdmin, "")
	comune := MustKey(t, s, auth.RoleComune, "090007")
	call := func(method, path, ctype string, body []byte, hdr ...string) []byte {
		t.Helper()
		resp, b := do(t, s, method, path, ctype, body, hdr...)
		c.check(t, method, path, resp, b)
		return b
	}

	// Service.
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/apidocs.css", "/docs/nothing.js"} {
		call("GET", p, "", nil)
	}
	// Templates and comuni.
	var list fhttp.TemplateList
	if err := json.Unmarshal(call("GET", "/v1/templates?lang=en", "", nil), &list); err != nil {
		t.Fatal(err)
	}
	call("GET", "/v1/templates/adesione", "", nil)
	call("GET", "/v1/templates/nothing", "", nil)
	call("GET", "/v1/comuni?q=banari&limit=5", "", nil)
	call("GET", "/v1/comuni?limit=0", "", nil)
	call("GET", "/v1/comuni/090007", "", nil)
	call("GET", "/v1/comuni/999999", "", nil)

	// A webhook subscription, before the documents whose events it gets.
	rcv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { w.WriteHeader(200) }))
	defer rcv.Close()
	var hook fhttp.WebhookCreated
	if err := json.Unmarshal(call("POST", "/v1/webhooks", "application/json", []byte(`{"url": "`+rcv.URL+`", "events": ["*"]}`), "Authorization", "Bearer "+admin), &hook); err != nil || hook.Subscription == nil {
		t.Fatalf("subscribe: %v", err)
	}

	// A full chain of every kind of the templates, each citing the one
	// before it, and the problems of creation.
	var last fhttp.DocumentResponse
	made := map[string]string{}
	for _, ti := range list.Templates {
		body := sample(t, "banari", ti.Kind)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		// A document citing another (a docref field of its schema) cites
		// the one of the field's kind, else the one made before it.
		props, _ := ti.Schema["properties"].(map[string]any)
		for prop, sc := range props {
			if d, _ := sc.(map[string]any)["description"].(string); d != "id of an archived document" {
				continue
			}
			if id := made[prop]; id != "" {
				m[prop] = id
			} else {
				m[prop] = last.ID
			}
		}
		body, _ = json.Marshal(m)
		b := call("POST", "/v1/documents/"+ti.Kind, "application/json", body)
		if err := json.Unmarshal(b, &last); err != nil || last.ID == "" {
			t.Fatalf("create %s: %s", ti.Kind, b)
		}
		made[ti.Kind] = last.ID
	}
	call("POST", "/v1/documents/adesione", "application/json", []byte(`{"comune": "058091"}`))
	call("POST", "/v1/documents/adesione", "application/json", []byte(`{"comune": `))
	call("POST", "/v1/documents/adesione", "text/plain", []byte(`x`))
	call("POST", "/v1/documents/adesione", "application/json", []byte(`{}`), "Authorization", "Bearer "+comune)
	call("POST", "/v1/documents/adesione", "application/json", []byte(`{}`), "Authorization", "Bearer fk_"+strings.Repeat("A", 43))

	id := made["adesione"]
	call("GET", "/v1/documents/"+id, "", nil)
	call("GET", "/v1/documents/"+noSuchID, "", nil)
	pdf := call("GET", "/v1/documents/"+id+"/pdf", "", nil)
	call("GET", "/v1/documents/"+id+"/pdf?version=x", "", nil)
	call("GET", "/v1/documents/"+id+"/metadata?version=1", "", nil)
	call("GET", "/v1/documents/"+id+"/evidence", "", nil)
	call("GET", "/v1/documents/"+id+"/proof", "", nil)
	call("GET", "/v1/documents/"+noSuchID+"/proof", "", nil)
	call("GET", "/v1/comuni/090007/dossier", "", nil)
	call("GET", "/v1/comuni/090007/dossier/package", "", nil)
	call("GET", "/v1/comuni/999999/dossier/package", "", nil)

	// Verification, and the signed copy of the comune.
	call("POST", "/v1/verify?lang=en", "application/pdf", pdf, "Authorization", "")
	call("POST", "/v1/verify", "application/pdf", []byte("%PDF-1.7 nothing"), "Authorization", "")
	call("POST", "/v1/verify", "application/json", []byte("{}"), "Authorization", "")
	call("POST", "/v1/documents/"+id+"/signed", "application/pdf", []byte("%PDF-1.7 not a signed copy"))
	signed := pdftest.Countersign(t, pdf, pdftest.NewPKI(t, "Comune di Banari"))
	call("POST", "/v1/documents/"+id+"/signed", "application/pdf", signed, "Authorization", "Bearer "+comune)
	call("POST", "/v1/documents/"+id+"/signed", "application/pdf", signed, "Authorization", "Bearer "+comune) // no longer awaited
	call("POST", "/v1/verify", "application/pdf", signed, "Authorization", "")

	// The audit log.
	call("GET", "/v1/audit/checkpoint", "", nil, "Authorization", "")
	call("GET", "/v1/audit/checkpoint", "", nil, "Authorization", "", "Accept", "application/json")
	call("GET", "/v1/audit/consistency?from=1&to=2", "", nil)
	call("GET", "/v1/audit/consistency?from=3&to=1", "", nil)
	call("GET", "/v1/audit/consistency?from=1&to=2", "", nil, "Authorization", "Bearer "+comune)

	// Batches.
	var br fhttp.BatchResponse
	if err := json.Unmarshal(call("POST", "/v1/batches?kind=adesione", "application/json", []byte("["+string(sample(t, "loiano", "adesione"))+"]")), &br); err != nil || br.Batch == nil {
		t.Fatalf("batch: %v", err)
	}
	waitBatch(t, s, br.Batch.ID)
	for _, p := range []string{"", "?items=false", "/events", "/zip", "/results.csv"} {
		call("GET", "/v1/batches/"+br.Batch.ID+p, "", nil)
	}
	call("POST", "/v1/batches/"+br.Batch.ID+"/cancel", "", nil)
	call("GET", "/v1/batches/nosuchbatch", "", nil)

	// Webhooks: the subscription, its deliveries, a redelivery.
	hookPath := "/v1/webhooks/" + hook.Subscription.ID
	call("GET", "/v1/webhooks", "", nil, "Authorization", "Bearer "+admin)
	call("GET", hookPath, "", nil, "Authorization", "Bearer "+admin)
	var deliveries struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	for deadline := time.Now().Add(30 * time.Second); len(deliveries.Items) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_ = json.Unmarshal(call("GET", hookPath+"/deliveries?limit=5", "", nil, "Authorization", "Bearer "+admin), &deliveries)
	}
	if len(deliveries.Items) == 0 {
		t.Fatal("no webhook delivery")
	}
	call("POST", hookPath+"/deliveries/"+deliveries.Items[0].ID+"/redeliver", "", nil, "Authorization", "Bearer "+admin)
	call("DELETE", hookPath, "", nil, "Authorization", "Bearer "+admin)

	// Keys.
	admin = "Bearer " + admin
	var created fhttp.KeyCreated
	if err := json.Unmarshal(call("POST", "/v1/keys", "application/json", []byte(`{"name": "contract", "role": "auditor"}`), "Authorization", admin), &created); err != nil {
		t.Fatal(err)
	}
	call("POST", "/v1/keys", "application/json", []byte(`{"name": "", "role": "nobody"}`), "Authorization", admin)
	call("GET", "/v1/keys", "", nil, "Authorization", admin)
	call("GET", "/v1/keys", "", nil, "Authorization", "")
	call("DELETE", "/v1/keys/"+created.Record.ID, "", nil, "Authorization", admin)
	call("DELETE", "/v1/keys/nosuchkey", "", nil, "Authorization", admin)

	t.Logf("%d JSON answers validated against openapi.json, %d operations", c.bodies, len(c.covered))
	for _, p := range c.paths {
		for m := range c.doc["paths"].(map[string]any)[p].(map[string]any) {
			if !c.covered[strings.ToUpper(m)+" "+p] {
				t.Errorf("%s %s: no success answer was validated", strings.ToUpper(m), p)
			}
		}
	}
}

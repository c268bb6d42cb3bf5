package http

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/invopop/jsonschema"

	"faldone/internal/auth"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
)

// The OpenAPI 3.1 document is generated from the code that serves it: the
// operations below name the Go types their handlers encode, whose JSON
// Schemas are reflected from the types' fields and json tags; the request
// body of each document kind is the JSON Schema of its template (one path
// per kind of the template set, so a new kind appears without code
// changes); the security of each operation comes from the route policy
// (auth.go). TestOpenAPIMatchesRoutes checks that every route Fiber serves
// is here and TestOpenAPIValidatesResponses validates real answers of every
// operation against the document.

// param is a path or query parameter of an operation.
type param struct {
	name, in, description string
	schema                map[string]any
	required              bool
}

// op describes one operation.
type op struct {
	method, path, id, summary, tag string
	description                    string // Optional. A longer text than the summary.
	params                         []param
	body                           string // request: "json" (the type of request), "pdf" (a PDF upload), "" none
	request                        any    // Go value whose type is the JSON request body
	requestSchema                  map[string]any
	ok                             int      // the success status
	okType                         any      // Go value whose type is the JSON answer; nil: see media
	media                          string   // success media type other than JSON: application/pdf, text/plain, text/html
	also                           []string // further media types of the success answer: "json" (okType as application/json)
	headers                        []string // response headers of the success answer
	problems                       []int    // problem statuses besides those derived from the route
}

var (
	pID     = param{name: "id", in: "path", required: true, description: "document id: 26 characters, a-z and 2-7", schema: map[string]any{"type": "string", "pattern": "^[a-z2-7]{26}$"}}
	pKeyID  = param{name: "id", in: "path", required: true, description: "API key id", schema: map[string]any{"type": "string"}}
	pKind   = param{name: "kind", in: "path", required: true, description: "document kind", schema: map[string]any{"type": "string"}}
	pISTAT  = param{name: "istat", in: "path", required: true, description: "ISTAT code of the comune", schema: map[string]any{"type": "string", "pattern": "^[0-9]{6}$"}}
	qVer    = param{name: "version", in: "query", description: "version number; default the newest", schema: map[string]any{"type": "integer", "minimum": 1}}
	qLang   = param{name: "lang", in: "query", description: "language of the answer; default Accept-Language, else it", schema: map[string]any{"type": "string", "enum": tmpl.Languages}}
	qQuery  = param{name: "q", in: "query", description: "name, ISTAT code or codice catastale, or a part of a name", schema: map[string]any{"type": "string", "maxLength": 100}}
	qLimit  = param{name: "limit", in: "query", description: "at most this many (default 20)", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": 100}}
	qFrom   = param{name: "from", in: "query", required: true, description: "the older log size", schema: map[string]any{"type": "integer", "minimum": 1}}
	qTo     = param{name: "to", in: "query", required: true, description: "the newer log size", schema: map[string]any{"type": "integer", "minimum": 1}}
	hAccept = param{name: "Accept-Language", in: "header", description: "language of problems and messages: it, en or de", schema: map[string]any{"type": "string"}}
)

// operations lists every operation of the API but the per-kind creation
// of documents, which createOperations derives from the templates.
func (s *Server) operations() []op {
	ops := []op{
		{method: "GET", path: "/healthz", id: "getHealth", tag: "service", summary: "Liveness of the process", ok: 200, okType: Health{}},
		{method: "GET", path: "/readyz", id: "getReadiness", tag: "service", summary: "Readiness: the archive answers", ok: 200, okType: Readiness{}, problems: []int{503}},
		{method: "GET", path: "/metrics", id: "getMetrics", tag: "service", summary: "Prometheus metrics (text exposition format)", ok: 200, media: "text/plain"},
		{method: "GET", path: "/openapi.json", id: "getOpenAPI", tag: "service", summary: "This OpenAPI 3.1 document", ok: 200, okType: map[string]any{}},
		{method: "GET", path: "/docs", id: "getAPIReference", tag: "service", summary: "The reference page of this document, for people (Redoc, served by faldone)", ok: 200, media: "text/html"},
		{method: "GET", path: "/docs/{file}", id: "getAPIReferenceFile", tag: "service", summary: "A file of the reference page: its script, stylesheet and licence", params: []param{{name: "file", in: "path", required: true, schema: map[string]any{"type": "string"}}}, ok: 200, media: "*/*", problems: []int{404}},

		{method: "GET", path: "/v1/templates", id: "listTemplates", tag: "templates", summary: "Document kinds with the JSON Schema of their input", params: []param{qLang}, ok: 200, okType: TemplateList{}},
		{method: "GET", path: "/v1/templates/{kind}", id: "getTemplate", tag: "templates", summary: "One document kind with the JSON Schema of its input", params: []param{pKind, qLang}, ok: 200, okType: TemplateInfo{}, problems: []int{404}},
		{method: "GET", path: "/v1/comuni", id: "searchComuni", tag: "comuni", summary: "Search the registry of comuni by name, ISTAT code or codice catastale", params: []param{qQuery, qLimit}, ok: 200, okType: ComuneList{}, problems: []int{422}},
		{method: "GET", path: "/v1/comuni/{istat}", id: "getComune", tag: "comuni", summary: "One comune by ISTAT code", params: []param{pISTAT}, ok: 200, okType: ComuneResponse{}, problems: []int{404}},
		{method: "GET", path: "/v1/comuni/{istat}/dossier/package", id: "getDossierPackage", tag: "comuni", summary: "The conservation package of a comune's dossier (ZIP)",
			description: "A ZIP with every version's PDF, Allegato 5 metadata, archive record and inclusion proof, the signed checkpoint, and a UNI 11386 (SInCRO 2.0) index; faldone dossier verify checks it offline.",
			params:      []param{pISTAT}, ok: 200, media: "application/zip", problems: []int{404, 503}},
		{method: "GET", path: "/v1/comuni/{istat}/dossier", id: "getDossier", tag: "comuni", summary: "The documents of a comune in workflow order, each version with its state", params: []param{pISTAT}, ok: 200, okType: DossierResponse{}, problems: []int{404}},

		{method: "GET", path: "/v1/documents/{id}", id: "getDocument", tag: "documents", summary: "The newest version of a document", params: []param{pID}, ok: 200, okType: DocumentResponse{}, problems: []int{404}},
		{method: "GET", path: "/v1/documents/{id}/pdf", id: "getDocumentPDF", tag: "documents", summary: "The PDF of a version (the newest, or ?version=N)", params: []param{pID, qVer}, ok: 200, media: "application/pdf", headers: []string{"ETag", "X-Document-Version"}, problems: []int{404, 422}},
		{method: "POST", path: "/v1/documents/{id}/signed", id: "returnSignedDocument", tag: "documents", summary: "Return the copy the comune signed; it becomes the next version",
			description: "Accepted only while the document awaits the comune's signature (else 409), and only when it begins with exactly the archived file's bytes, adds at least one valid signature, and changes nothing the seal's DocMDP permissions forbid; otherwise a 422 names which check failed (not_prefix, no_new_signature, invalid_signature, docmdp_violation). The signer is judged as verification judges it and recorded; in production a signer that is not trusted is refused (422 untrusted_signer).",
			params:      []param{pID, qLang}, body: "pdf", ok: 201, okType: DocumentResponse{}, headers: []string{"Location"}, problems: []int{404, 409, 422}},
		{method: "GET", path: "/v1/documents/{id}/metadata", id: "getDocumentMetadata", tag: "documents", summary: "AgID metadata of a version (Allegato 5 element names)", params: []param{pID, qVer}, ok: 200, okType: Metadata{}, problems: []int{404, 422}},
		{method: "GET", path: "/v1/documents/{id}/evidence", id: "getEvidence", tag: "verification", summary: "Evidence bundle of a version for offline verification (faldone verify --bundle)", params: []param{pID, qVer}, ok: 200, okType: verify.Bundle{}, problems: []int{404, 422, 503}},
		{method: "GET", path: "/v1/documents/{id}/proof", id: "getInclusionProof", tag: "audit", summary: "Inclusion proof of a version in the audit log, against a signed checkpoint", params: []param{pID, qVer}, ok: 200, okType: ProofResponse{}, problems: []int{404, 422, 503}},

		{method: "POST", path: "/v1/verify", id: "verifyPDF", tag: "verification", summary: "Verify a PDF: signatures, trust, DocMDP, archive and audit-log inclusion",
			description: "The answer is the report, 200 whether the file is valid or not (valid: false with the reasons).",
			params:      []param{qLang}, body: "pdf", ok: 200, okType: verify.Report{}, problems: []int{422, 429, 503}},
		{method: "GET", path: "/v1/audit/checkpoint", id: "getCheckpoint", tag: "audit", summary: "The newest signed checkpoint of the audit log: the signed note, or JSON with Accept: application/json", ok: 200, media: "text/plain", okType: CheckpointResponse{}, also: []string{"json"}, problems: []int{503}},
		{method: "GET", path: "/v1/audit/consistency", id: "getConsistencyProof", tag: "audit", summary: "Consistency proof between two sizes of the audit log", params: []param{qFrom, qTo}, ok: 200, okType: ConsistencyResponse{}, problems: []int{422, 503}},

		{method: "GET", path: "/v1/keys", id: "listKeys", tag: "keys", summary: "API keys, revoked ones included", ok: 200, okType: KeyList{}, problems: []int{503}},
		{method: "POST", path: "/v1/keys", id: "createKey", tag: "keys", summary: "Create an API key; the key is in this answer only", body: "json", request: KeyRequest{}, requestSchema: keyRequestSchema, ok: 201, okType: KeyCreated{}, headers: []string{"Location"}, problems: []int{422, 503}},
		{method: "DELETE", path: "/v1/keys/{id}", id: "revokeKey", tag: "keys", summary: "Revoke an API key", params: []param{pKeyID}, ok: 204, problems: []int{404, 503}},
	}
	ops = append(ops, queueOperations()...)
	return append(ops, s.createOperations()...)
}

// createOperations is one operation per document kind of the templates.
func (s *Server) createOperations() []op {
	var ops []op
	for _, k := range s.cfg.Templates.Kinds() {
		sc, _ := s.cfg.Templates.Schema(k)
		title := k
		if t, ok := s.cfg.Templates.Template(k); ok {
			title = s.cfg.Templates.Localize("en", t.Title, nil)
		}
		ops = append(ops, op{method: "POST", path: "/v1/documents/" + k, id: "create" + strings.ToUpper(k[:1]) + k[1:], tag: "documents",
			summary:     "Create " + k + ": " + title,
			description: "Renders the document from the input of the " + k + " template (its JSON Schema also at GET /v1/templates/" + k + "), seals it and archives it as version 1 of a new id. Answers 201 with the new document; a 422 problem names the JSON path of every offending field.",
			params:      []param{qLang}, body: "json", requestSchema: inputSchema(sc), ok: 201, okType: DocumentResponse{}, headers: []string{"Location"},
			problems: []int{404, 422, 503}})
	}
	return ops
}

// inputSchema is a template's input schema as a schema object of the
// document: without $schema and $id, which would move the base URI.
func inputSchema(sc map[string]any) map[string]any {
	out := make(map[string]any, len(sc))
	for k, v := range sc {
		if k != "$schema" && k != "$id" {
			out[k] = v
		}
	}
	return out
}

// License of the API contract.
var apiLicense = map[string]any{"name": "EUPL-1.2", "identifier": "EUPL-1.2"}

// openapiDoc builds the document; it depends only on the configuration,
// so it is built once.
func (s *Server) openapiDoc() map[string]any {
	s.apiOnce.Do(func() { s.apiDoc = s.buildOpenAPI() })
	return s.apiDoc
}

func (s *Server) buildOpenAPI() map[string]any {
	g := newSchemaGen()
	paths := map[string]any{}
	tags := map[string]bool{}
	for _, o := range s.operations() {
		item, _ := paths[o.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[o.path] = item
		}
		tags[o.tag] = true
		item[strings.ToLower(o.method)] = s.operation(g, o)
	}
	var tagList []any
	for _, t := range tagOrder {
		if tags[t] {
			tagList = append(tagList, map[string]any{"name": t, "description": tagDescriptions[t]})
		}
	}
	schemas := g.schemas
	schemas["Problem"] = problemSchema
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "faldone",
			"version": s.cfg.Version,
			"summary": "Sealed PDFs of the FAST Piccoli Comuni programme",
			"description": "faldone produces the formal paperwork of the FAST Piccoli Comuni programme as PAdES-sealed PDFs, " +
				"archives every version with its SHA-256 in an append-only Merkle log, and verifies signatures and archive membership.\n\n" +
				"Send an API key as `Authorization: Bearer fk_...` or `X-API-Key: fk_...`. Errors are RFC 9457 problems " +
				"(`application/problem+json`) in the language of `?lang=` or `Accept-Language` (it, en, de).",
			"license": apiLicense,
			"contact": map[string]any{"name": "faldone"},
		},
		"servers":    []any{map[string]any{"url": "/", "description": "this faldone instance"}},
		"tags":       tagList,
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": securitySchemes, "responses": problemResponses()},
		"security":   []any{map[string]any{"bearer": []any{}}, map[string]any{"apiKey": []any{}}},
	}
}

// tagOrder is the order of the reference page: the workflow first.
var tagOrder = []string{"documents", "batches", "templates", "comuni", "verification", "audit", "webhooks", "keys", "service"}

var tagDescriptions = map[string]string{
	"service":      "Health, readiness, metrics and this contract",
	"templates":    "Document kinds and the JSON Schema of their input",
	"comuni":       "The ISTAT registry of comuni (CC BY 3.0 IT) and each comune's dossier",
	"documents":    "Create, read and countersign documents",
	"verification": "Verify a PDF, online or offline with an evidence bundle",
	"audit":        "The audit log: checkpoints, inclusion and consistency proofs",
	"keys":         "API keys (admin)",
	"batches":      "Many documents of one kind at once, through the durable queue",
	"webhooks":     "Event subscriptions and their delivery logs (admin)",
}

func (s *Server) operation(g *schemaGen, o op) map[string]any {
	acc, _ := policyFor(o.method, fiberPath(o.path))
	params := []any{}
	for _, p := range append(o.params, hAccept) {
		m := map[string]any{"name": p.name, "in": p.in, "schema": p.schema}
		if p.required {
			m["required"] = true
		}
		if p.description != "" {
			m["description"] = p.description
		}
		params = append(params, m)
	}
	out := map[string]any{"operationId": o.id, "summary": o.summary, "tags": []any{o.tag}, "parameters": params}
	desc := o.description
	if !acc.public {
		roles := make([]string, len(acc.roles))
		for i, r := range acc.roles {
			roles[i] = string(r)
		}
		desc = strings.TrimSpace(desc + "\n\nRoles: " + strings.Join(roles, ", ") + ".")
		out["x-faldone-roles"] = roles
	} else {
		out["security"] = []any{}
		desc = strings.TrimSpace(desc + "\n\nPublic: no key needed.")
	}
	out["description"] = desc
	switch o.body {
	case "json":
		sc := o.requestSchema
		if sc == nil {
			sc = g.ref(o.request)
		}
		out["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": sc}}}
	case "pdf":
		out["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/pdf":     map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": "application/pdf"}},
			"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "required": []any{"file"}, "properties": map[string]any{"file": map[string]any{"type": "string", "contentMediaType": "application/pdf"}}}},
		}}
	}
	responses := map[string]any{}
	okResp := map[string]any{"description": http200(o.ok)}
	content := map[string]any{}
	switch o.media {
	case "":
		if o.okType != nil {
			content["application/json"] = map[string]any{"schema": g.ref(o.okType)}
		}
	case "application/pdf", "application/zip":
		content[o.media] = map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": o.media}}
	default:
		content[o.media] = map[string]any{"schema": map[string]any{"type": "string"}}
	}
	for _, a := range o.also {
		if a == "json" {
			content["application/json"] = map[string]any{"schema": g.ref(o.okType)}
		}
	}
	if len(content) > 0 {
		okResp["content"] = content
	}
	if len(o.headers) > 0 {
		h := map[string]any{}
		for _, name := range o.headers {
			h[name] = map[string]any{"description": headerDescriptions[name], "schema": map[string]any{"type": "string"}}
		}
		okResp["headers"] = h
	}
	responses[strconv.Itoa(o.ok)] = okResp
	for _, st := range s.problemStatuses(o, acc) {
		responses[strconv.Itoa(st)] = map[string]any{"$ref": "#/components/responses/Problem" + strconv.Itoa(st)}
	}
	out["responses"] = responses
	return out
}

var headerDescriptions = map[string]string{
	"Location":           "the URL of the document or key",
	"ETag":               "the SHA-256 of the file, quoted",
	"X-Document-Version": "the version served",
}

// problemStatuses are the problem statuses an operation can answer: its
// own, and those of the body limits, the media types, the keys and the
// rate limits of its route, and 500.
func (s *Server) problemStatuses(o op, acc access) []int {
	// Every route: a key that is presented but bad (401), too many failed
	// authentications (429), a compressed body (415), an internal error.
	set := map[int]bool{401: true, 415: true, 429: true, 500: true}
	for _, st := range o.problems {
		set[st] = true
	}
	if o.body != "" {
		set[400], set[413], set[415], set[422] = true, true, true, true
	}
	if !acc.public {
		set[403] = true
	}
	var out []int
	for st := range set {
		out = append(out, st)
	}
	sort.Ints(out)
	return out
}

var problemText = map[int]string{
	400: "Malformed request (bad JSON or form)", 401: "No API key, or a malformed, unknown or revoked one",
	403: "The key's role may not call this operation", 404: "Not found (an unknown id, kind or comune, or another comune's document)",
	409: "Conflict: the document is not in a state that allows this (a signed copy of a document that does not await the comune's signature)",
	413: "The body is over this route's limit", 415: "Unsupported media type or Content-Encoding",
	422: "The data sent are not valid: errors names each offending field", 429: "Too many requests: see Retry-After",
	500: "Internal error", 503: "A dependency is unavailable (archive, time-stamp authority, audit log, key store)",
}

func problemResponses() map[string]any {
	out := map[string]any{}
	for st, text := range problemText {
		r := map[string]any{"description": text, "content": map[string]any{
			"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
		if st == 429 {
			r["headers"] = map[string]any{"Retry-After": map[string]any{"description": "seconds to wait", "schema": map[string]any{"type": "string"}}}
		}
		if st == 401 {
			r["headers"] = map[string]any{"WWW-Authenticate": map[string]any{"description": "the bearer scheme", "schema": map[string]any{"type": "string"}}}
		}
		out["Problem"+strconv.Itoa(st)] = r
	}
	return out
}

func http200(status int) string {
	switch status {
	case 201:
		return "Created"
	case 204:
		return "No content"
	}
	return "OK"
}

// fiberPath turns an OpenAPI path into a request path that policyFor
// matches: each {param} becomes a placeholder segment.
func fiberPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "x"
		}
	}
	return strings.Join(segs, "/")
}

// schemaGen reflects Go types into JSON Schemas under components/schemas.
type schemaGen struct {
	r       *jsonschema.Reflector
	schemas map[string]any
}

func newSchemaGen() *schemaGen {
	return &schemaGen{
		r: &jsonschema.Reflector{
			Anonymous:                 true,
			AllowAdditionalProperties: false,
			Namer: func(t reflect.Type) string {
				// Package and type, so that two types of one name in two
				// packages stay apart: verify.Report -> VerifyReport.
				pkg := t.PkgPath()
				if i := strings.LastIndex(pkg, "/"); i >= 0 {
					pkg = pkg[i+1:]
				}
				if pkg == "http" || pkg == "" {
					return t.Name()
				}
				return strings.ToUpper(pkg[:1]) + pkg[1:] + t.Name()
			},
		},
		schemas: map[string]any{},
	}
}

// ref returns a schema of v's type: a $ref into components/schemas for a
// named struct, else the schema itself. The definitions it needs are added.
func (g *schemaGen) ref(v any) map[string]any {
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return map[string]any{"type": "object"}
	}
	sc := g.r.Reflect(v)
	sc.Version = ""
	b, err := json.Marshal(sc)
	if err != nil {
		panic("openapi: reflect " + reflect.TypeOf(v).String() + ": " + err.Error())
	}
	b = []byte(strings.ReplaceAll(string(b), `"#/$defs/`, `"#/components/schemas/`))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	if defs, ok := m["$defs"].(map[string]any); ok {
		for k, d := range defs {
			g.schemas[k] = d
		}
		delete(m, "$defs")
	}
	return m
}

func (s *Server) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return sendJSON(c, fiber.StatusOK, s.openapiDoc())
}

var problemSchema = map[string]any{
	"type":        "object",
	"description": "An RFC 9457 problem in the request's language.",
	"properties": map[string]any{
		"type":     map[string]any{"type": "string", "description": "urn:faldone:problem:<code>"},
		"title":    map[string]any{"type": "string"},
		"status":   map[string]any{"type": "integer"},
		"detail":   map[string]any{"type": "string"},
		"instance": map[string]any{"type": "string"},
		"code":     map[string]any{"type": "string", "description": "machine code: invalid, malformed, not_found, conflict, too_large, unsupported, unavailable, unauthorized, forbidden, too_many, internal"},
		"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "required": []any{"path", "code", "message"}, "properties": map[string]any{
			"path":    map[string]any{"type": "string", "description": "JSON path of the field, e.g. $.comune"},
			"code":    map[string]any{"type": "string"},
			"message": map[string]any{"type": "string"},
			"params":  map[string]any{"type": "object"},
		}}},
	},
	"required": []any{"type", "title", "status", "code"},
}

// securitySchemes are the two ways to present an API key.
var securitySchemes = map[string]any{
	"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An API key (fk_...) as a bearer token"},
	"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An API key (fk_...)"},
}

// keyRequestSchema is the body of POST /v1/keys: KeyRequest with the
// rules auth.Service.Create applies.
var keyRequestSchema = map[string]any{
	"type": "object", "additionalProperties": false, "required": []any{"name", "role"},
	"properties": map[string]any{
		"name":   map[string]any{"type": "string", "minLength": 1, "maxLength": 100},
		"role":   map[string]any{"type": "string", "enum": roleNames()},
		"comune": map[string]any{"type": "string", "pattern": "^[0-9]{6}$", "description": "ISTAT code, for and only for the comune role"},
	},
}

func roleNames() []any {
	out := make([]any, len(auth.Roles))
	for i, r := range auth.Roles {
		out[i] = string(r)
	}
	return out
}

// apiDocState is the document built once per server.
type apiDocState struct {
	apiOnce sync.Once
	apiDoc  map[string]any
}

// OpenAPI returns the OpenAPI 3.1 document the server answers at
// /openapi.json.
func (s *Server) OpenAPI() ([]byte, error) { return jsonMarshal(s.openapiDoc()) }

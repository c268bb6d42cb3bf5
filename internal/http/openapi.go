package http

import (
	"github.com/gofiber/fiber/v2"
)

// op describes one operation of the OpenAPI document.
type op struct {
	method, path, summary string
	params                []string // path parameters
	query                 []string
	body                  string         // request media type, if any
	schema                map[string]any // request body schema, if not the default of body
	responses             map[string]string
}

// operations lists every route of the API; a test checks it against the
// routes Fiber actually serves.
func (s *Server) operations() []op {
	std := func(extra map[string]string) map[string]string {
		r := map[string]string{"default": "problem"}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	return append([]op{
		{method: "GET", path: "/healthz", summary: "Liveness", responses: std(map[string]string{"200": "json"})},
		{method: "GET", path: "/readyz", summary: "Readiness of the service and its dependencies", responses: std(map[string]string{"200": "json", "503": "problem"})},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics", responses: map[string]string{"200": "text"}},
		{method: "GET", path: "/openapi.json", summary: "This document", responses: map[string]string{"200": "json"}},
		{method: "GET", path: "/v1/templates", summary: "Document kinds with the JSON Schema of their input", query: []string{"lang"}, responses: std(map[string]string{"200": "json"})},
		{method: "GET", path: "/v1/templates/{kind}", summary: "One document kind with its input schema", params: []string{"kind"}, query: []string{"lang"}, responses: std(map[string]string{"200": "json", "404": "problem"})},
		{method: "GET", path: "/v1/comuni", summary: "Search the registry of comuni by name, ISTAT code or codice catastale", query: []string{"q", "limit"}, responses: std(map[string]string{"200": "json", "422": "problem"})},
		{method: "GET", path: "/v1/comuni/{istat}", summary: "One comune by ISTAT code", params: []string{"istat"}, responses: std(map[string]string{"200": "json", "404": "problem"})},
		{method: "POST", path: "/v1/documents/{kind}", summary: "Create a document of a kind from its input", params: []string{"kind"}, query: []string{"lang"}, body: "application/json",
			responses: std(map[string]string{"201": "json", "400": "problem", "404": "problem", "413": "problem", "415": "problem", "422": "problem", "503": "problem"})},
		{method: "GET", path: "/v1/documents/{id}", summary: "A document's description", params: []string{"id"}, responses: std(map[string]string{"200": "json", "404": "problem"})},
		{method: "GET", path: "/v1/documents/{id}/pdf", summary: "A document's PDF: the newest version, or ?version=N", params: []string{"id"}, query: []string{"version"}, responses: std(map[string]string{"200": "pdf", "404": "problem"})},
		{method: "POST", path: "/v1/documents/{id}/signed", summary: "Return the copy the comune signed; it becomes the next version, its signer judged and recorded (422 untrusted_signer in production when not trusted)", params: []string{"id"}, body: "application/pdf",
			responses: std(map[string]string{"201": "json", "404": "problem", "413": "problem", "415": "problem", "422": "problem"})},
		{method: "POST", path: "/v1/verify", summary: "Verify a PDF: signatures, trust, DocMDP, archive and audit-log inclusion; 200 with valid=false when a check fails", query: []string{"lang"}, body: "application/pdf",
			responses: std(map[string]string{"200": "json", "413": "problem", "415": "problem", "422": "problem", "503": "problem"})},
		{method: "GET", path: "/v1/documents/{id}/evidence", summary: "Evidence bundle of a version (newest or ?version=N) for offline verification", params: []string{"id"}, query: []string{"version"},
			responses: std(map[string]string{"200": "json", "404": "problem", "422": "problem", "503": "problem"})},
		{method: "GET", path: "/v1/audit/checkpoint", summary: "The newest signed checkpoint of the audit log: the signed note (text/plain), or JSON with size, root, time and public key (Accept: application/json)", responses: std(map[string]string{"200": "text", "503": "problem"})},
		{method: "GET", path: "/v1/audit/consistency", summary: "Consistency proof between the log of from leaves and the log of to leaves", query: []string{"from", "to"}, responses: std(map[string]string{"200": "json", "422": "problem", "503": "problem"})},
		{method: "GET", path: "/v1/documents/{id}/proof", summary: "Inclusion proof of a version (newest, or ?version=N) in the audit log against a signed checkpoint", params: []string{"id"}, query: []string{"version"}, responses: std(map[string]string{"200": "json", "404": "problem", "422": "problem", "503": "problem"})},
		{method: "GET", path: "/v1/documents/{id}/metadata", summary: "AgID metadata (Allegato 5 element names) of a version (newest, or ?version=N)", params: []string{"id"}, query: []string{"version"}, responses: std(map[string]string{"200": "json", "404": "problem", "422": "problem"})},
		{method: "GET", path: "/v1/comuni/{istat}/dossier", summary: "The documents of a comune in workflow order with their versions and state", params: []string{"istat"}, responses: std(map[string]string{"200": "json", "404": "problem"})},
		{method: "GET", path: "/v1/comuni/{istat}/dossier/package", summary: "The conservation package of a comune's dossier: a ZIP with every version's PDF, Allegato 5 metadata, archive record and inclusion proof, the signed checkpoint, and a UNI 11386 (SInCRO 2.0) index", params: []string{"istat"}, responses: std(map[string]string{"200": "zip", "404": "problem", "503": "problem"})},
		{method: "GET", path: "/v1/keys", summary: "API keys, revoked ones included (admin)", responses: std(map[string]string{"200": "json", "401": "problem", "403": "problem"})},
		{method: "POST", path: "/v1/keys", summary: "Create an API key; the key is in this answer only (admin)", body: "application/json", schema: keyRequestSchema,
			responses: std(map[string]string{"201": "json", "400": "problem", "401": "problem", "403": "problem", "415": "problem", "422": "problem"})},
		{method: "DELETE", path: "/v1/keys/{id}", summary: "Revoke an API key (admin)", params: []string{"id"}, responses: std(map[string]string{"204": "empty", "401": "problem", "403": "problem", "404": "problem"})},
	}, queueOperations(std)...)
}

func (s *Server) openapiDoc() map[string]any {
	paths := map[string]any{}
	for _, o := range s.operations() {
		item, _ := paths[o.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[o.path] = item
		}
		var params []any
		for _, p := range o.params {
			params = append(params, map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range o.query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		params = append(params, map[string]any{"name": "Accept-Language", "in": "header", "required": false, "schema": map[string]any{"type": "string"}})
		responses := map[string]any{}
		for code, kind := range o.responses {
			responses[code] = response(kind)
		}
		operation := map[string]any{"summary": o.summary, "parameters": params, "responses": responses}
		if o.schema != nil {
			operation["requestBody"] = map[string]any{"required": true, "content": map[string]any{o.body: map[string]any{"schema": o.schema}}}
		} else if o.body == "application/pdf" {
			operation["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/pdf":     map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
				"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}},
			}}
		} else if o.body != "" {
			var variants []any
			for _, k := range s.cfg.Templates.Kinds() {
				sc, _ := s.cfg.Templates.Schema(k)
				variants = append(variants, sc)
			}
			operation["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				o.body: map[string]any{"schema": map[string]any{"oneOf": variants}},
			}}
		}
		item[lower(o.method)] = operation
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "faldone",
			"version":     s.cfg.Version,
			"description": "Paperwork of the FAST Piccoli Comuni programme: sealed PDFs from templates.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": map[string]any{"Problem": problemSchema}, "securitySchemes": securitySchemes},
		"security":   []any{map[string]any{"bearer": []any{}}, map[string]any{"apiKey": []any{}}},
	}
}

var problemSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
		"status": map[string]any{"type": "integer"}, "detail": map[string]any{"type": "string"},
		"instance": map[string]any{"type": "string"}, "code": map[string]any{"type": "string"},
		"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
			"path": map[string]any{"type": "string"}, "code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"},
		}}},
	},
	"required": []string{"type", "title", "status", "code"},
}

func response(kind string) map[string]any {
	switch kind {
	case "problem":
		return map[string]any{"description": "Problem (RFC 9457)", "content": map[string]any{
			"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	case "pdf":
		return map[string]any{"description": "PDF", "content": map[string]any{"application/pdf": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
	case "zip":
		return map[string]any{"description": "ZIP", "content": map[string]any{"application/zip": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
	case "empty":
		return map[string]any{"description": "No content"}
	case "text":
		return map[string]any{"description": "Text", "content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
	case "csv", "sse":
		return queueResponse(kind)
	}
	return map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func (s *Server) openapi(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, s.openapiDoc())
}

// securitySchemes are the two ways to present an API key.
var securitySchemes = map[string]any{
	"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An API key (fk_...) as a bearer token"},
	"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key"},
}

// keyRequestSchema is the body of POST /v1/keys.
var keyRequestSchema = map[string]any{
	"type": "object", "additionalProperties": false, "required": []string{"name", "role"},
	"properties": map[string]any{
		"name":   map[string]any{"type": "string", "minLength": 1, "maxLength": 100},
		"role":   map[string]any{"type": "string", "enum": []string{"admin", "staff", "comune", "auditor"}},
		"comune": map[string]any{"type": "string", "pattern": "^[0-9]{6}$", "description": "ISTAT code, for and only for the comune role"},
	},
}

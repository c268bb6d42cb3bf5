package http

import "faldone/internal/auth"

// Health is the answer of GET /healthz.
type Health struct {
	Status  string `json:"status"`  // "ok"
	Version string `json:"version"` // faldone's version
}

// Readiness is the answer of GET /readyz when the service is ready.
type Readiness struct {
	Status string `json:"status"` // "ready"
}

// TemplateList is the answer of GET /v1/templates.
type TemplateList struct {
	Templates []TemplateInfo `json:"templates"`
}

// ComuneList is the answer of GET /v1/comuni.
type ComuneList struct {
	Items       []ComuneInfo `json:"items"`
	Attribution string       `json:"attribution"` // the ISTAT data's licence and source
}

// ComuneResponse is the answer of GET /v1/comuni/{istat}.
type ComuneResponse struct {
	Comune      ComuneInfo `json:"comune"`
	Attribution string     `json:"attribution"` // the ISTAT data's licence and source
}

// KeyList is the answer of GET /v1/keys.
type KeyList struct {
	Items []*auth.Key `json:"items"`
}

package faldone

import (
	"time"
)

// Kind names one of the four document kinds of the FAST workflow.
type Kind string

// The document kinds, in workflow order.
const (
	KindAdesione     Kind = "adesione"
	KindAssessment   Kind = "assessment"
	KindPiano        Kind = "piano"
	KindApprovazione Kind = "approvazione"
	KindChiusura     Kind = "chiusura"
)

// TemplateRef identifies the exact template a document was made with.
type TemplateRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// Document is one produced PDF and the facts needed to reproduce and verify it.
type Document struct {
	ID       string      `json:"id"`
	Kind     Kind        `json:"kind"`
	Comune   string      `json:"comune"`            // ISTAT code
	IPA      string      `json:"ipa,omitempty"`     // IPA code of the comune
	Oggetto  string      `json:"oggetto,omitempty"` // subject line
	Protocol Protocol    `json:"protocol"`
	Lang     string      `json:"lang"`
	Date     time.Time   `json:"date"` // the document's own date
	SHA256   string      `json:"sha256"`
	Size     int64       `json:"size"`
	Pages    int         `json:"pages,omitempty"`
	Template TemplateRef `json:"template"`
	Input    []byte      `json:"-"` // canonical input JSON
	InputSHA string      `json:"input_sha256"`
	Producer string      `json:"producer"`
	Created  time.Time   `json:"created"`
	Seal     *SealFacts  `json:"seal,omitempty"` // nil when unsealed
	// Conformance names the standards the PDF as rendered meets, checked
	// clause by clause in the tests (internal/pdftest/pdfa): "PDF/A-2b".
	Conformance []string `json:"conformance,omitempty"`
}

// Rendered is the outcome of filling a template: the PDF and its facts.
type Rendered struct {
	PDF      []byte
	Document Document
}

// Version is the version of faldone, printed in every PDF's metadata.
const Version = "0.1.0"

// Package faldone holds the domain of the service: documents, their kinds,
// the layout a template produces, and the error codes every layer speaks.
// It imports nothing of the project.
package faldone

import (
	"errors"
	"fmt"
)

// Error codes. Every error that crosses a package boundary maps to one of
// them through ErrorCode; an error that carries none is internal.
const (
	EINVALID      = "invalid"     // the input breaks the template's rules (422)
	EMALFORMED    = "malformed"   // the body is not well-formed JSON (400)
	ENOTFOUND     = "not_found"   // no such document, kind or comune (404)
	ECONFLICT     = "conflict"    // the request contradicts the archive's state (409)
	ETOOLARGE     = "too_large"   // the body is over the limit (413)
	EUNSUPPORTED  = "unsupported" // wrong content type (415)
	EUNAVAILABLE  = "unavailable" // a dependency (TSA, database) is down (503)
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOMANY      = "too_many_requests"    // rate limited (429)
	ESTORAGE      = "insufficient_storage" // the disk of the archive is full (507)
	EUNTRUSTED    = "untrusted_signer"     // a signature's signer is not trusted (422)
	EINTERNAL     = "internal"
)

// FieldError names one offending field of an input by its JSON path
// ("$.referente.email") and says what is wrong with it as a message id of
// the locale files plus the values the message needs.
type FieldError struct {
	Path    string         `json:"path"`
	Code    string         `json:"code"`
	Params  map[string]any `json:"params,omitempty"`
	Message string         `json:"message"`
}

// Error is the error type of the domain. Message is written for the person
// who sent the request; MessageID, when set, lets the HTTP layer localise it.
type Error struct {
	Code      string
	Message   string
	MessageID string
	Params    map[string]any
	Fields    []FieldError
	Err       error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// or a generic one for internal errors, which never leak their details.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

package http

import (
	"errors"
	"io"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
)

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type     string               `json:"type"`
	Title    string               `json:"title"`
	Status   int                  `json:"status"`
	Detail   string               `json:"detail,omitempty"`
	Instance string               `json:"instance,omitempty"`
	Code     string               `json:"code"`
	Errors   []faldone.FieldError `json:"errors,omitempty"`
}

// Codes of the HTTP layer: what is wrong with a request as HTTP, before
// any handler sees it.
const (
	EBADREQUEST = "bad_request"        // not a well-formed HTTP request (400)
	EHEADERS    = "headers_too_large"  // request headers over the read buffer (431)
	ETIMEOUT    = "timeout"            // the request was not received in time (408)
	EMETHOD     = "method_not_allowed" // the route exists for other methods (405)
)

// retryAfter is the Retry-After of the problems that are worth retrying
// later without change, in seconds.
var retryAfter = map[int]string{
	fiber.StatusServiceUnavailable:  "10",
	fiber.StatusInsufficientStorage: "60",
}

var statusOf = map[string]int{
	EBADREQUEST:           fiber.StatusBadRequest,
	EHEADERS:              fiber.StatusRequestHeaderFieldsTooLarge,
	ETIMEOUT:              fiber.StatusRequestTimeout,
	EMETHOD:               fiber.StatusMethodNotAllowed,
	faldone.ESTORAGE:      fiber.StatusInsufficientStorage,
	faldone.EINVALID:      fiber.StatusUnprocessableEntity,
	faldone.EMALFORMED:    fiber.StatusBadRequest,
	faldone.ENOTFOUND:     fiber.StatusNotFound,
	faldone.ECONFLICT:     fiber.StatusConflict,
	faldone.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	faldone.EUNSUPPORTED:  fiber.StatusUnsupportedMediaType,
	faldone.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
	faldone.EUNAUTHORIZED: fiber.StatusUnauthorized,
	faldone.EFORBIDDEN:    fiber.StatusForbidden,
	faldone.ETOOMANY:      fiber.StatusTooManyRequests,
	faldone.EUNTRUSTED:    fiber.StatusUnprocessableEntity,
	faldone.EINTERNAL:     fiber.StatusInternalServerError,
}

// errorHandler is the one place where errors become responses.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		err = s.fiberError(c, fe)
	}
	code := faldone.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	if s.cfg.PageError != nil && isPage(c.Path()) {
		if status >= 500 {
			faldone.Logger(c.UserContext(), s.cfg.Logger).ErrorContext(c.UserContext(), "request failed", "error", err.Error(), "path", c.Path())
		}
		drainBody(c)
		if ra, ok := retryAfter[status]; ok && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
			c.Set(fiber.HeaderRetryAfter, ra)
		}
		return s.cfg.PageError(c, status, code)
	}
	l := lang(c)
	p := Problem{
		Type:     "urn:faldone:problem:" + code,
		Title:    s.cfg.Templates.Localize(l, "error."+code, nil),
		Status:   status,
		Instance: c.OriginalURL(),
		Code:     code,
	}
	var de *faldone.Error
	if errors.As(err, &de) {
		if de.MessageID != "" && de.MessageID != "error."+code {
			p.Detail = s.cfg.Templates.Localize(l, de.MessageID, de.Params)
		} else {
			p.Detail = de.Message
		}
		p.Errors = de.Fields
	}
	if status >= 500 {
		faldone.Logger(c.UserContext(), s.cfg.Logger).ErrorContext(c.UserContext(), "request failed", "error", err.Error(), "path", c.Path())
		if code == faldone.EINTERNAL {
			p.Detail = ""
		}
	}
	if ra, ok := retryAfter[status]; ok && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
		c.Set(fiber.HeaderRetryAfter, ra)
	}
	if status == fiber.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="faldone"`)
	}
	c.Set(fiber.HeaderContentLanguage, l)
	c.Status(status)
	b, merr := jsonMarshal(p)
	if merr != nil {
		return c.SendStatus(fiber.StatusInternalServerError)
	}
	c.Set(fiber.HeaderContentType, "application/problem+json; charset=utf-8")
	return c.Send(b)
}

// fiberError maps an error of Fiber or fasthttp (a request that no route
// or no handler answered: bad framing, headers too large, a timeout, a
// body over the server's limit, no such route or method) to the
// service's codes. Only a body that is not JSON is "malformed".
func (s *Server) fiberError(c *fiber.Ctx, fe *fiber.Error) error {
	switch fe.Code {
	case fiber.StatusRequestEntityTooLarge:
		return s.tooLargeFor(s.bodyLimitOf(c.Method(), c.Path()))
	case fiber.StatusNotFound:
		return faldone.Errorf(faldone.ENOTFOUND, "%s", fe.Message)
	case fiber.StatusMethodNotAllowed:
		return &faldone.Error{Code: EMETHOD, Message: fe.Message}
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return &faldone.Error{Code: EHEADERS, Message: "the request headers are too large"}
	case fiber.StatusRequestTimeout:
		return &faldone.Error{Code: ETIMEOUT, Message: "the request was not received in time"}
	case fiber.StatusUnsupportedMediaType:
		return &faldone.Error{Code: faldone.EUNSUPPORTED, Message: fe.Message}
	case fiber.StatusTooManyRequests:
		return errTooMany
	case fiber.StatusServiceUnavailable:
		return &faldone.Error{Code: faldone.EUNAVAILABLE, Message: fe.Message}
	}
	if fe.Code < 500 {
		// fasthttp names what it refused (bad framing, a bad header):
		// no secret, and the client's own request.
		return &faldone.Error{Code: EBADREQUEST, Message: fe.Message}
	}
	return fe
}

// drainMax is the most of an unread request body drainBody reads.
const drainMax = 64 << 20

// drainBody reads and discards what is left of a streamed request body,
// up to drainMax, before a page answers: a browser still sending a file
// that was refused by its declared length shows the answer only once the
// server has read the upload (else it sees the connection reset). What is
// read is not kept.
func drainBody(c *fiber.Ctx) {
	req := c.Request()
	if !req.IsBodyStream() {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(req.BodyStream(), drainMax))
}

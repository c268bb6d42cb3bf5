package http

import (
	"errors"

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

var statusOf = map[string]int{
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
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			err = tooLarge(s.limitFor(c.Path()))
		case fiber.StatusNotFound:
			err = faldone.Errorf(faldone.ENOTFOUND, "%s", fe.Message)
		case fiber.StatusMethodNotAllowed:
			err = &faldone.Error{Code: faldone.ENOTFOUND, Message: fe.Message}
		default:
			if fe.Code < 500 {
				err = &faldone.Error{Code: faldone.EMALFORMED, Message: fe.Message}
			}
		}
	}
	code := faldone.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = fiber.StatusInternalServerError
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

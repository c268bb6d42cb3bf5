package http

import (
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
)

// recoverPanic turns a panic in a handler into an internal error, logged
// with its stack. It runs inside observe, so the request is answered with a
// problem, logged and counted in the metrics like any other 500; the
// client never sees the panic or the stack.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			faldone.Logger(c.UserContext(), s.cfg.Logger).ErrorContext(c.UserContext(), "panic",
				"panic", fmt.Sprint(r), "method", c.Method(), "path", c.Path(), "stack", string(debug.Stack()))
			err = &faldone.Error{Code: faldone.EINTERNAL, Message: "internal error"}
		}
	}()
	return c.Next()
}

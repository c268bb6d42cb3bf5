package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

//go:embed static/css static/fonts static/svg static/licenses
var staticFS embed.FS

// staticVersion is a hash of every static file; pages link to
// /static/...?v=staticVersion, so the files can be cached for a year and a
// new build still reaches every browser. It is worked out on first use,
// not at start: hashing the fonts took 3 ms of every command's start.
var staticVersion = sync.OnceValue(func() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
})

// staticMaxAge is the cache lifetime of the static files, in seconds.
const staticMaxAge = 365 * 24 * 3600

// staticFiles serves the embedded files under /static.
func staticFiles() fiber.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	serve := filesystem.New(filesystem.Config{Root: http.FS(sub), MaxAge: staticMaxAge})
	return func(c *fiber.Ctx) error {
		c.Set("X-Content-Type-Options", "nosniff")
		if err := serve(c); err != nil {
			return err
		}
		if c.Response().StatusCode() == fiber.StatusOK {
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		}
		return nil
	}
}

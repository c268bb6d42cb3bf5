package http

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/faldone"
	"faldone/internal/http/apidocs"
)

// docsCSP lets the Redoc bundle run: its own script, the styles it
// injects, its search worker (a blob:), and /openapi.json; nothing else.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
	"connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// docsAsset is one embedded file of the reference page, with its gzip form.
type docsAsset struct {
	body, gz []byte
	etag     string
	ctype    string
}

var (
	docsOnce   sync.Once
	docsAssets map[string]*docsAsset
)

func loadDocsAssets() {
	docsAssets = map[string]*docsAsset{}
	for _, name := range []string{"index.html", "apidocs.css", "redoc.standalone.js", "redoc-LICENSE.txt", "redoc-THIRD-PARTY-LICENSES.txt"} {
		b, err := apidocs.FS.ReadFile(name)
		if err != nil {
			panic("apidocs: " + err.Error())
		}
		sum := sha256.Sum256(b)
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = w.Write(b)
		_ = w.Close()
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" || strings.HasSuffix(name, ".txt") {
			ctype = "text/plain; charset=utf-8"
		}
		docsAssets[name] = &docsAsset{body: b, gz: gz.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
	}
}

// docsPage serves the API reference page (GET /docs) and its files
// (GET /docs/:file).
func (s *Server) docsPage(c *fiber.Ctx) error {
	docsOnce.Do(loadDocsAssets)
	name := c.Params("file")
	if name == "" {
		name = "index.html"
	}
	a, ok := docsAssets[name]
	if !ok || name == "index.html" && c.Params("file") != "" {
		return faldone.Errorf(faldone.ENOTFOUND, "no file %q", name)
	}
	c.Set(fiber.HeaderContentSecurityPolicy, docsCSP)
	c.Set(fiber.HeaderContentType, a.ctype)
	c.Set(fiber.HeaderETag, a.etag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(a.gz)
	}
	return c.Send(a.body)
}

package pdfa

import (
	"bytes"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"github.com/smallstep/pkcs7"

	"faldone/internal/pades"
)

// signatures checks 6.4.3 for every signature and document time-stamp:
// the byte range covers its revision whole but for the /Contents string,
// which holds one CMS signer and the signer's certificate.
func (c *checker) signatures() {
	ends, _ := pades.Revisions(c.pdf)
	isEnd := func(n int64) bool {
		for _, e := range ends {
			if n == e || (n < e && strings.TrimRight(string(c.pdf[n:e]), "\r\n") == "") {
				return true
			}
		}
		return n == int64(len(c.pdf))
	}
	for _, n := range c.r.Objects() {
		v, _ := c.r.Object(n)
		d, ok := v.(pades.Dict)
		if !ok || (c.name(d, "Type") != "Sig" && c.name(d, "Type") != "DocTimeStamp" && d["ByteRange"] == nil) || d["Contents"] == nil {
			continue
		}
		br := c.r.Array(d["ByteRange"])
		var r [4]int64
		for i := 0; i < 4 && len(br) == 4; i++ {
			r[i], _ = c.r.Resolve(br[i]).(int64)
		}
		if len(br) != 4 || r[0] != 0 || r[1] <= 0 || r[2] <= r[1] || r[2]+r[3] > int64(len(c.pdf)) ||
			c.pdf[r[1]] != '<' || c.pdf[r[2]-1] != '>' || !isEnd(r[2]+r[3]) {
			c.bad("6.4.3", "signature %d: /ByteRange %v does not cover its revision but for /Contents", n, br)
			continue
		}
		raw, err := hex.DecodeString(string(c.pdf[r[1]+1 : r[2]-1]))
		if err != nil {
			c.bad("6.4.3", "signature %d: /Contents is not a hex string", n)
			continue
		}
		p7, err := pkcs7.Parse(trimDER(raw))
		if err != nil {
			c.bad("6.4.3", "signature %d: /Contents is not a CMS object: %v", n, err)
			continue
		}
		if len(p7.Signers) != 1 {
			c.bad("6.4.3", "signature %d has %d signers, not one", n, len(p7.Signers))
		} else if p7.GetOnlySigner() == nil {
			c.bad("6.4.3", "signature %d does not include its signer's certificate", n)
		}
	}
}

// trimDER cuts the zero padding after a DER object.
func trimDER(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	l := int(b[1])
	h := 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(b) < 2+n {
			return b
		}
		l = 0
		for _, x := range b[2 : 2+n] {
			l = l<<8 | int(x)
		}
		h += n
	}
	if h+l <= len(b) {
		return b[:h+l]
	}
	return b
}

var pdfcpuOnce sync.Once

// pdfcpu reads the file again with pdfcpu: its validation (relaxed), the
// header version (6.1.2), the trailer /ID (6.1.3), and the document
// information against the XMP packet as pdfcpu reads them (6.6.3).
func (c *checker) pdfcpu() {
	pdfcpuOnce.Do(func() { model.ConfigPath = "disable" })
	conf := model.NewDefaultConfiguration()
	ctx, err := api.ReadContext(bytes.NewReader(c.pdf), conf)
	if err != nil {
		c.bad("6.1", "pdfcpu cannot read the file: %v", err)
		return
	}
	if err := api.ValidateContext(ctx); err != nil {
		c.bad("6.1", "pdfcpu: %v", err)
		return
	}
	if v := ctx.HeaderVersion; v == nil || v.String() > "1.7" || !strings.HasPrefix(v.String(), "1.") {
		c.bad("6.1.2", "pdfcpu reads header version %v", v)
	}
	if len(ctx.ID) != 2 {
		c.bad("6.1.3", "pdfcpu reads no /ID of two elements")
	} else if first, ok := idOf(c.r, c.r.Trailer()); ok {
		var got []byte
		switch x := ctx.ID[0].(type) {
		case types.HexLiteral:
			got, _ = x.Bytes()
		case types.StringLiteral:
			got, _ = types.Unescape(x.Value())
		}
		if !bytes.Equal(got, first) {
			c.bad("6.1.3", "pdfcpu reads another /ID than faldone's reader")
		}
	}
	x := ctx.CatalogXMPMeta
	if x == nil {
		c.bad("6.6.2.1", "pdfcpu finds no XMP metadata in the catalog")
		return
	}
	d := x.RDF.Description
	first := func(e []string) string {
		if len(e) == 0 {
			return ""
		}
		return e[0]
	}
	for _, e := range []struct{ what, info, xmp string }{
		{"Title", ctx.Title, first(d.Title.Alt.Entries)},
		{"Author", ctx.Author, first(d.Author.Seq.Entries)},
		{"Subject", ctx.Subject, first(d.Subject.Alt.Entries)},
		{"Creator", ctx.Creator, d.Creator},
		{"Producer", ctx.Producer, d.Producer},
		{"Keywords", ctx.Keywords, d.Keywords},
	} {
		if e.info != "" && e.info != e.xmp {
			c.bad("6.6.3", "pdfcpu reads Info /%s %q and XMP %q", e.what, e.info, e.xmp)
		}
	}
}

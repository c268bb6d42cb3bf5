package pdfa

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"faldone/internal/pades"
)

const (
	nsRDF        = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsDC         = "http://purl.org/dc/elements/1.1/"
	nsXMP        = "http://ns.adobe.com/xap/1.0/"
	nsPDF        = "http://ns.adobe.com/pdf/1.3/"
	nsPDFAID     = "http://www.aiim.org/pdfa/ns/id/"
	nsPDFASchema = "http://www.aiim.org/pdfa/ns/schema#"
	nsPDFAExt    = "http://www.aiim.org/pdfa/ns/extension/"
)

// Schemas PDF/A-2 predefines (the XMP specification 2005 and ISO 19005-1
// and -2, 6.6.2.3.1): their properties need no extension schema.
var predefined = map[string]bool{
	nsDC: true, nsXMP: true, nsPDF: true, nsPDFAID: true, nsPDFAExt: true,
	"http://ns.adobe.com/xap/1.0/rights/":          true,
	"http://ns.adobe.com/xap/1.0/mm/":              true,
	"http://ns.adobe.com/xap/1.0/bj/":              true,
	"http://ns.adobe.com/xap/1.0/t/pg/":            true,
	"http://ns.adobe.com/xmp/1.0/DynamicMedia/":    true,
	"http://ns.adobe.com/photoshop/1.0/":           true,
	"http://ns.adobe.com/camera-raw-settings/1.0/": true,
	"http://ns.adobe.com/tiff/1.0/":                true,
	"http://ns.adobe.com/exif/1.0/":                true,
	"http://ns.adobe.com/exif/1.0/aux/":            true,
	"http://ns.adobe.com/xap/1.0/sType/Job#":       true,
}

// xmpValue is one value of a property: the text of an rdf:li (with its
// xml:lang) or of the property itself.
type xmpValue struct{ text, lang string }

// xmpPacket is what the checks need of an XMP packet.
type xmpPacket struct {
	props     map[xml.Name][]xmpValue
	described map[string]bool // namespaces described by extension schemas
}

// value returns the x-default (or only, or first) value of a property.
func (x *xmpPacket) value(space, local string) (string, int, bool) {
	vs, ok := x.props[xml.Name{Space: space, Local: local}]
	if !ok || len(vs) == 0 {
		return "", 0, false
	}
	for _, v := range vs {
		if v.lang == "x-default" {
			return v.text, len(vs), true
		}
	}
	return vs[0].text, len(vs), true
}

var reXpacket = regexp.MustCompile(`<\?xpacket\s+begin=[^?]*\?>`)

// parseXMP reads a packet: its properties (children of rdf:Description or
// its attributes) and the namespace URIs of its extension schemas.
func parseXMP(b []byte) (*xmpPacket, error) {
	x := &xmpPacket{props: map[xml.Name][]xmpValue{}, described: map[string]bool{}}
	dec := xml.NewDecoder(bytes.NewReader(b))
	type frame struct {
		name xml.Name
		lang string
		text strings.Builder
	}
	var stack []*frame
	prop := -1
	isDesc := func(n xml.Name) bool { return n.Space == nsRDF && n.Local == "Description" }
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			f := &frame{name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "http://www.w3.org/XML/1998/namespace" && a.Name.Local == "lang" {
					f.lang = a.Value
				}
			}
			if isDesc(t.Name) && prop < 0 {
				for _, a := range t.Attr {
					if a.Name.Space != "" && a.Name.Space != nsRDF && a.Name.Space != "xmlns" && a.Name.Space != "http://www.w3.org/XML/1998/namespace" {
						x.props[a.Name] = append(x.props[a.Name], xmpValue{text: a.Value})
					}
				}
			}
			if prop < 0 && len(stack) > 0 && isDesc(stack[len(stack)-1].name) {
				prop = len(stack)
				x.props[t.Name] = x.props[t.Name][:0:0]
			}
			stack = append(stack, f)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			i := len(stack) - 1
			f := stack[i]
			stack = stack[:i]
			text := strings.TrimSpace(f.text.String())
			if f.name.Space == nsPDFASchema && f.name.Local == "namespaceURI" {
				x.described[text] = true
			}
			switch {
			case prop >= 0 && i == prop+2 && f.name.Space == nsRDF && f.name.Local == "li":
				pn := stack[prop].name
				x.props[pn] = append(x.props[pn], xmpValue{text, f.lang})
			case i == prop:
				if len(x.props[f.name]) == 0 {
					x.props[f.name] = []xmpValue{{text: text, lang: f.lang}}
				}
				prop = -1
			}
		}
	}
	return x, nil
}

// metadata checks 6.6.2.1 (the catalog's metadata stream, its packet
// header, well-formed UTF-8), 6.6.2.3.1 (schemas), 6.6.4 (identification)
// and 6.6.3 (Info entries equal to their XMP properties); and, as
// faldone's own rule, dc:language equal to the catalog's /Lang.
func (c *checker) metadata() {
	for _, n := range c.r.Objects() {
		v, _ := c.r.Object(n)
		if s, ok := v.(*pades.Stream); ok && c.name(s.Dict, "Type") == "Metadata" {
			b, err := c.r.Decode(s)
			if err != nil {
				c.bad("6.6.2.1", "metadata stream %d cannot be decoded: %v", n, err)
				continue
			}
			c.packetSyntax(n, b)
		}
	}
	s, ok := c.r.Resolve(c.catalog["Metadata"]).(*pades.Stream)
	if !ok || c.name(s.Dict, "Type") != "Metadata" || c.name(s.Dict, "Subtype") != "XML" {
		c.bad("6.6.2.1", "the catalog has no /Metadata stream of /Type /Metadata /Subtype /XML")
		return
	}
	b, err := c.r.Decode(s)
	if err != nil {
		return // reported above
	}
	x, err := parseXMP(b)
	if err != nil {
		return // reported above
	}
	for name := range x.props {
		if !predefined[name.Space] && !x.described[name.Space] {
			c.bad("6.6.2.3.1", "XMP property %s:%s has no predefined or extension schema", name.Space, name.Local)
		}
	}
	if part, _, _ := x.value(nsPDFAID, "part"); part != "2" {
		c.bad("6.6.4", "pdfaid:part is %q, not 2", part)
	}
	if conf, _, _ := x.value(nsPDFAID, "conformance"); conf != "A" && conf != "B" && conf != "U" {
		c.bad("6.6.4", "pdfaid:conformance is %q", conf)
	}
	info := c.r.Dict(c.r.Trailer()["Info"])
	for _, e := range []struct{ info, space, local string }{
		{"Title", nsDC, "title"}, {"Author", nsDC, "creator"}, {"Subject", nsDC, "description"},
		{"Keywords", nsPDF, "Keywords"}, {"Creator", nsXMP, "CreatorTool"}, {"Producer", nsPDF, "Producer"},
		{"CreationDate", nsXMP, "CreateDate"}, {"ModDate", nsXMP, "ModifyDate"},
	} {
		iv, ok := c.r.Resolve(info[pades.Name(e.info)]).(pades.String)
		if !ok {
			continue
		}
		xv, count, ok := x.value(e.space, e.local)
		switch {
		case !ok:
			c.bad("6.6.3", "Info /%s has no XMP counterpart", e.info)
		case e.local == "creator" && count != 1:
			c.bad("6.6.3", "dc:creator has %d entries for one Info /Author", count)
		case strings.HasSuffix(e.info, "Date"):
			it, err1 := pdfDate(string(iv))
			xt, err2 := xmpDate(xv)
			if err1 != nil || err2 != nil || !it.Equal(xt) {
				c.bad("6.6.3", "Info /%s %q differs from XMP %q", e.info, iv, xv)
			}
		case textString(iv) != xv:
			c.bad("6.6.3", "Info /%s %q differs from XMP %q", e.info, textString(iv), xv)
		}
	}
	lang, _ := c.r.Resolve(c.catalog["Lang"]).(pades.String)
	if xl, _, ok := x.value(nsDC, "language"); len(lang) > 0 && (!ok || xl != textString(lang)) {
		c.bad("faldone", "dc:language %q differs from the catalog's /Lang %q", xl, textString(lang))
	}
}

// packetSyntax checks a metadata stream's packet: no bytes or encoding
// attribute in the xpacket header, UTF-8, well-formed XML.
func (c *checker) packetSyntax(n int, b []byte) {
	if h := reXpacket.Find(b); h != nil && (bytes.Contains(h, []byte("bytes=")) || bytes.Contains(h, []byte("encoding="))) {
		c.bad("6.6.2.1", "metadata %d: the xpacket header has a bytes or encoding attribute", n)
	}
	if !utf8.Valid(b) {
		c.bad("6.6.2.1", "metadata %d is not UTF-8", n)
	}
	if _, err := parseXMP(b); err != nil {
		c.bad("6.6.2.1", "metadata %d is not well-formed XML: %v", n, err)
	}
}

// textString decodes a PDF text string: UTF-16BE with a byte-order mark,
// else PDFDocEncoding (read as Latin-1, which it equals for the printable
// ASCII and Latin-1 letters faldone writes).
func textString(s pades.String) string {
	if len(s) >= 2 && s[0] == 0xfe && s[1] == 0xff {
		u := make([]uint16, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		return string(utf16.Decode(u))
	}
	r := make([]rune, len(s))
	for i, b := range s {
		r[i] = rune(b)
	}
	return string(r)
}

var rePDFDate = regexp.MustCompile(`^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?`)

// pdfDate parses a PDF date (ISO 32000-1 7.9.4); no offset is read as UTC.
func pdfDate(s string) (time.Time, error) {
	m := rePDFDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("bad date %q", s)
	}
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	tz := strings.ReplaceAll(def(m[7], "Z"), "'", "")
	if tz != "Z" {
		tz = tz[:3] + ":" + tz[3:]
	}
	iso := fmt.Sprintf("%s-%s-%sT%s:%s:%s%s", m[1], def(m[2], "01"), def(m[3], "01"), def(m[4], "00"), def(m[5], "00"), def(m[6], "00"), tz)
	return time.Parse(time.RFC3339, iso)
}

// xmpDate parses an XMP date (ISO 8601 profile); no offset is read as UTC.
func xmpDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

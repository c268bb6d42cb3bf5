package pdfa

import (
	"bytes"
	"regexp"

	"faldone/internal/pades"
)

// page is a leaf of the page tree with its inherited resources.
type page struct {
	num       int
	dict      pades.Dict
	resources pades.Dict
}

// pageList walks the page tree.
func (c *checker) pageList() []page {
	var out []page
	var walk func(v any, res pades.Dict, depth int)
	walk = func(v any, res pades.Dict, depth int) {
		d := c.r.Dict(v)
		if d == nil || depth > 32 || len(out) > 10000 {
			return
		}
		if r := c.r.Dict(d["Resources"]); r != nil {
			res = r
		}
		if c.name(d, "Type") == "Page" {
			num := 0
			if ref, ok := v.(pades.Ref); ok {
				num = ref.Num
			}
			out = append(out, page{num, d, res})
			return
		}
		for _, k := range c.r.Array(d["Kids"]) {
			walk(k, res, depth+1)
		}
	}
	walk(c.catalog["Pages"], nil, 0)
	return out
}

// Operators of ISO 32000-1 Annex A (6.2.2).
var operators = map[string]bool{}

func init() {
	for _, o := range []string{"b", "B", "b*", "B*", "BDC", "BI", "BMC", "BT", "BX", "c", "cm", "CS", "cs", "d", "d0", "d1",
		"Do", "DP", "EI", "EMC", "ET", "EX", "f", "F", "f*", "G", "g", "gs", "h", "i", "ID", "j", "J", "K", "k", "l", "m",
		"M", "MP", "n", "q", "Q", "re", "RG", "rg", "ri", "s", "S", "SC", "sc", "SCN", "scn", "sh", "T*", "Tc", "Td",
		"TD", "Tf", "Tj", "TJ", "TL", "Tm", "Tr", "Ts", "Tw", "Tz", "v", "w", "W", "W*", "y", "'", "\""} {
		operators[o] = true
	}
}

// pages checks each page: 6.1.13 boundaries, 6.2.10 transparency group,
// and its content streams.
func (c *checker) pages() {
	pl := c.pageList()
	if len(pl) == 0 {
		c.bad("6.1", "no pages")
	}
	for _, p := range pl {
		for _, box := range []pades.Name{"MediaBox", "CropBox", "BleedBox", "TrimBox", "ArtBox"} {
			if a := c.r.Array(p.dict[box]); len(a) == 4 {
				x0, _ := c.num(a[0])
				y0, _ := c.num(a[1])
				x1, _ := c.num(a[2])
				y1, _ := c.num(a[3])
				w, h := abs(x1-x0), abs(y1-y0)
				if w < 3 || h < 3 || w > 14400 || h > 14400 {
					c.bad("6.1.13", "page %d: /%s of %gx%g units", p.num, box, w, h)
				}
			}
		}
		if g := c.r.Dict(p.dict["Group"]); g != nil && c.name(g, "S") == "Transparency" {
			if cs := c.r.Resolve(g["CS"]); cs != nil {
				c.useSpace(p.num, cs, p.resources)
			}
		}
		var data []byte
		contents := []any{p.dict["Contents"]}
		if a := c.r.Array(p.dict["Contents"]); a != nil {
			contents = a
		}
		for _, cv := range contents {
			s, ok := c.r.Resolve(cv).(*pades.Stream)
			if !ok {
				continue
			}
			b, err := c.r.Decode(s)
			if err != nil {
				c.bad("6.1.7", "page %d: content stream: %v", p.num, err)
				continue
			}
			data = append(append(data, b...), '\n')
		}
		c.content(p.num, data, p.resources, 0)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// content checks a content stream: 6.2.2 operators and resources,
// 6.1.13 q nesting, 6.2.4.3 device colour, 6.2.6 rendering intents,
// 6.1.10 and 6.2.8 inline images; and the forms it draws.
func (c *checker) content(owner int, data []byte, res pades.Dict, depth int) {
	ops, err := contentOps(data)
	if err != nil {
		c.bad("6.2.2", "object %d: content stream cannot be read: %v", owner, err)
	}
	q := 0
	for _, o := range ops {
		if !operators[o.name] {
			c.bad("6.2.2", "object %d: operator %q is not defined in ISO 32000-1", owner, o.name)
			continue
		}
		last := func() any {
			if len(o.operands) == 0 {
				return nil
			}
			return o.operands[len(o.operands)-1]
		}
		resource := func(kind pades.Name) any {
			n, _ := last().(pades.Name)
			v := c.r.Resolve(c.r.Dict(res[kind])[n])
			if v == nil {
				c.bad("6.2.2", "object %d: %s uses /%s, not in its /Resources /%s", owner, o.name, n, kind)
			}
			return v
		}
		switch o.name {
		case "q":
			q++
			if q > 28 {
				c.bad("6.1.13", "object %d: q nested %d deep", owner, q)
			}
		case "Q":
			q--
		case "rg", "RG":
			c.useSpace(owner, pades.Name("DeviceRGB"), res)
		case "k", "K":
			c.useSpace(owner, pades.Name("DeviceCMYK"), res)
		case "g", "G":
			c.useSpace(owner, pades.Name("DeviceGray"), res)
		case "cs", "CS":
			n, _ := last().(pades.Name)
			switch n {
			case "DeviceRGB", "DeviceCMYK", "DeviceGray", "Pattern":
				c.useSpace(owner, n, res)
			default:
				if cs := resource("ColorSpace"); cs != nil {
					c.useSpace(owner, cs, res)
				}
			}
		case "ri":
			if n, _ := last().(pades.Name); !intents[n] {
				c.bad("6.2.6", "object %d: rendering intent /%s", owner, n)
			}
		case "Tf":
			if len(o.operands) == 2 {
				n, _ := o.operands[0].(pades.Name)
				if c.r.Resolve(c.r.Dict(res["Font"])[n]) == nil {
					c.bad("6.2.2", "object %d: Tf uses /%s, not in its /Resources /Font", owner, n)
				}
			}
		case "gs":
			resource("ExtGState")
		case "sh":
			if sh := c.r.Dict(resource("Shading")); sh != nil {
				c.useSpace(owner, c.r.Resolve(sh["ColorSpace"]), res)
			}
		case "Do":
			x, ok := resource("XObject").(*pades.Stream)
			if !ok {
				continue
			}
			n, _ := last().(pades.Name)
			ref, _ := c.r.Dict(res["XObject"])[n].(pades.Ref)
			switch c.name(x.Dict, "Subtype") {
			case "Image":
				if x.Dict["ImageMask"] != true && c.r.Resolve(x.Dict["ColorSpace"]) != nil {
					c.useSpace(ref.Num, c.r.Resolve(x.Dict["ColorSpace"]), res)
				}
				if sm, ok := c.r.Resolve(x.Dict["SMask"]).(*pades.Stream); ok {
					c.useSpace(ref.Num, c.r.Resolve(sm.Dict["ColorSpace"]), res)
				}
			case "Form":
				if depth > 12 || (ref.Num != 0 && c.visited[ref.Num]) {
					continue
				}
				c.visited[ref.Num] = true
				fres := c.r.Dict(x.Dict["Resources"])
				if fres == nil {
					fres = res
				}
				b, err := c.r.Decode(x)
				if err != nil {
					c.bad("6.1.7", "form %d: %v", ref.Num, err)
					continue
				}
				c.content(ref.Num, b, fres, depth+1)
			}
		case "BI":
			d := pades.Dict{}
			for k := 0; k+1 < len(o.operands); k += 2 {
				if n, ok := o.operands[k].(pades.Name); ok {
					d[n] = o.operands[k+1]
				}
			}
			for _, f := range append(anyList(d["F"]), anyList(d["Filter"])...) {
				switch f {
				case pades.Name("LZW"), pades.Name("LZWDecode"), pades.Name("Crypt"):
					c.bad("6.1.10", "object %d: inline image with filter /%s", owner, f)
				}
			}
			if d["I"] == true || d["Interpolate"] == true {
				c.bad("6.2.8", "object %d: inline image with interpolation", owner)
			}
		}
	}
}

func anyList(v any) []any {
	if a, ok := v.(pades.Array); ok {
		return a
	}
	return []any{v}
}

// useSpace checks a colour space against the output intent (6.2.4.3):
// DeviceRGB needs an RGB intent, DeviceCMYK a CMYK one, DeviceGray any,
// unless the resources set a Default space.
func (c *checker) useSpace(owner int, cs any, res pades.Dict) {
	if a, ok := cs.(pades.Array); ok && len(a) > 0 {
		switch c.r.Resolve(a[0]) {
		case pades.Name("Indexed"):
			if len(a) > 1 {
				c.useSpace(owner, c.r.Resolve(a[1]), res)
			}
			return
		case pades.Name("Separation"), pades.Name("DeviceN"):
			if len(a) > 2 {
				c.useSpace(owner, c.r.Resolve(a[2]), res)
			}
			return
		case pades.Name("ICCBased"):
			c.iccBased(owner, a)
			return
		}
		return
	}
	n, _ := cs.(pades.Name)
	defaults := c.r.Dict(res["ColorSpace"])
	switch n {
	case "DeviceRGB":
		if c.intentSpace != "RGB " && defaults["DefaultRGB"] == nil {
			c.bad("6.2.4.3", "object %d uses DeviceRGB without an RGB output intent", owner)
		}
	case "DeviceCMYK":
		if c.intentSpace != "CMYK" && defaults["DefaultCMYK"] == nil {
			c.bad("6.2.4.3", "object %d uses DeviceCMYK without a CMYK output intent", owner)
		}
	case "DeviceGray":
		if c.intentSpace == "" && defaults["DefaultGray"] == nil {
			c.bad("6.2.4.3", "object %d uses DeviceGray without an output intent", owner)
		}
	}
}

// iccBased checks the header of an ICCBased colour space's profile
// (6.2.4.2): a version ISO 15076-1 or an earlier ICC specification knows.
func (c *checker) iccBased(owner int, a pades.Array) {
	if len(a) < 2 {
		return
	}
	s, ok := c.r.Resolve(a[1]).(*pades.Stream)
	if !ok {
		c.bad("6.2.4.2", "object %d: ICCBased without a profile stream", owner)
		return
	}
	b, err := c.r.Decode(s)
	if err != nil || len(b) < 128 || string(b[36:40]) != "acsp" {
		c.bad("6.2.4.2", "object %d: ICC profile cannot be read", owner)
		return
	}
	if b[8] > 4 {
		c.bad("6.2.4.2", "object %d: ICC profile version %d", owner, b[8])
	}
}

// reXref finds cross-reference tables; 6.1.4 wants the xref keyword and
// the subsection header separated by a single EOL.
var reXref = regexp.MustCompile(`(?:^|[\r\n])xref([\r\n \t]*)\d`)

func (c *checker) xrefTables() {
	for _, m := range reXref.FindAllSubmatch(c.pdf, -1) {
		if eol := m[1]; !bytes.Equal(eol, []byte("\n")) && !bytes.Equal(eol, []byte("\r\n")) && !bytes.Equal(eol, []byte("\r")) {
			c.bad("6.1.4", "the xref keyword is followed by %q, not a single EOL", eol)
		}
	}
}

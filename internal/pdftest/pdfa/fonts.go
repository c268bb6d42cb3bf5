package pdfa

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"golang.org/x/image/font/sfnt"

	"faldone/internal/pades"
)

// CheckFonts runs the font checks of 6.2.11 on every font the pages (and
// the forms they draw) use, and returns the findings in clause order:
//
//   - 6.2.11.2: the font dictionary's Type and Subtype; an embedded
//     TrueType program that a TrueType parser (golang.org/x/image/font/sfnt)
//     reads, cmap included;
//   - 6.2.11.3.1-3: Type 0 fonts with one CIDFont, a predefined or
//     embedded CMap, CIDSystemInfo; 6.2.11.3.2 a CIDToGIDMap for CIDFontType2;
//   - 6.2.11.4.1: every font program embedded, and every glyph shown
//     defined in it; 6.2.11.4.2: a CIDSet, when present, lists every CID;
//   - 6.2.11.5: the widths of /W equal the program's advance widths (to 1
//     unit in 1000) for every glyph shown;
//   - 6.2.11.8: no text showing operator reaches glyph 0, .notdef;
//   - faldone's own rules: subsets named with a six-letter tag (ISO
//     32000-1 9.6.4), and a /ToUnicode that maps every code shown (what
//     level U's 6.2.11.7.2 asks, for text extraction and screen readers).
func CheckFonts(pdf []byte) ([]Finding, error) {
	c, err := newChecker(pdf)
	if err != nil {
		return nil, err
	}
	c.fonts()
	sort.SliceStable(c.findings, func(i, j int) bool { return c.findings[i].Clause < c.findings[j].Clause })
	return c.findings, nil
}

// fontUse is a font and the codes shown with it.
type fontUse struct {
	ref   pades.Ref
	dict  pades.Dict
	codes map[uint32]bool
}

func (c *checker) fonts() {
	uses := map[pades.Ref]*fontUse{}
	var order []pades.Ref
	seenForms := map[int]bool{}
	var walk func(data []byte, res pades.Dict, depth int)
	walk = func(data []byte, res pades.Dict, depth int) {
		ops, _ := contentOps(data)
		var cur *fontUse
		show := func(s pades.String) {
			if cur == nil {
				return
			}
			two := c.name(cur.dict, "Subtype") == "Type0"
			for i := 0; i < len(s); i++ {
				code := uint32(s[i])
				if two && i+1 < len(s) {
					code = code<<8 | uint32(s[i+1])
					i++
				}
				cur.codes[code] = true
			}
		}
		for _, o := range ops {
			switch o.name {
			case "Tf":
				cur = nil
				if len(o.operands) != 2 {
					continue
				}
				n, _ := o.operands[0].(pades.Name)
				raw := c.r.Dict(res["Font"])[n]
				ref, _ := raw.(pades.Ref)
				d := c.r.Dict(raw)
				if d == nil {
					continue
				}
				if uses[ref] == nil || ref == (pades.Ref{}) {
					uses[ref] = &fontUse{ref: ref, dict: d, codes: map[uint32]bool{}}
					order = append(order, ref)
				}
				cur = uses[ref]
			case "Tj", "'", "\"":
				if len(o.operands) > 0 {
					s, _ := o.operands[len(o.operands)-1].(pades.String)
					show(s)
				}
			case "TJ":
				if len(o.operands) > 0 {
					a, _ := o.operands[0].(pades.Array)
					for _, e := range a {
						if s, ok := e.(pades.String); ok {
							show(s)
						}
					}
				}
			case "Do":
				if len(o.operands) == 0 || depth > 12 {
					continue
				}
				n, _ := o.operands[0].(pades.Name)
				raw := c.r.Dict(res["XObject"])[n]
				x, ok := c.r.Resolve(raw).(*pades.Stream)
				ref, _ := raw.(pades.Ref)
				if !ok || c.name(x.Dict, "Subtype") != "Form" || seenForms[ref.Num] {
					continue
				}
				seenForms[ref.Num] = true
				b, err := c.r.Decode(x)
				if err != nil {
					continue
				}
				fres := c.r.Dict(x.Dict["Resources"])
				if fres == nil {
					fres = res
				}
				walk(b, fres, depth+1)
			}
		}
	}
	for _, p := range c.pageList() {
		var data []byte
		contents := []any{p.dict["Contents"]}
		if a := c.r.Array(p.dict["Contents"]); a != nil {
			contents = a
		}
		for _, cv := range contents {
			if s, ok := c.r.Resolve(cv).(*pades.Stream); ok {
				if b, err := c.r.Decode(s); err == nil {
					data = append(append(data, b...), '\n')
				}
			}
		}
		walk(data, p.resources, 0)
		// Annotation appearances are drawn too.
		for _, a := range c.r.Array(p.dict["Annots"]) {
			if x, ok := c.r.Resolve(c.r.Dict(c.r.Dict(a)["AP"])["N"]).(*pades.Stream); ok {
				if b, err := c.r.Decode(x); err == nil {
					walk(b, c.r.Dict(x.Dict["Resources"]), 1)
				}
			}
		}
	}
	for _, ref := range order {
		c.font(uses[ref])
	}
}

var fontSubtypes = map[pades.Name]bool{"Type0": true, "Type1": true, "MMType1": true, "Type3": true, "TrueType": true}

// Predefined CMaps of ISO 32000-1 Table 118 that faldone might meet; any
// other must be embedded.
var predefinedCMaps = regexp.MustCompile(`^(Identity-[HV]|UniGB-UCS2-[HV]|UniGB-UTF16-[HV]|UniCNS-UCS2-[HV]|UniCNS-UTF16-[HV]|UniJIS-UCS2-(HW-)?[HV]|UniJIS-UTF16-[HV]|UniKS-UCS2-[HV]|UniKS-UTF16-[HV]|[A-Za-z0-9-]+-[HV]|H|V)$`)

var reSubsetTag = regexp.MustCompile(`^[A-Z]{6}\+`)

func (c *checker) font(u *fontUse) {
	d := u.dict
	name := string(c.name(d, "BaseFont"))
	label := fmt.Sprintf("font %d (%s)", u.ref.Num, name)
	if c.name(d, "Type") != "Font" {
		c.bad("6.2.11.2", "%s: /Type is not /Font", label)
	}
	sub := c.name(d, "Subtype")
	if !fontSubtypes[sub] {
		c.bad("6.2.11.2", "%s: /Subtype /%s", label, sub)
		return
	}
	if sub == "Type3" {
		return // glyphs are content streams, checked as such
	}
	if sub != "Type0" {
		fd := c.r.Dict(d["FontDescriptor"])
		if fd == nil || (fd["FontFile"] == nil && fd["FontFile2"] == nil && fd["FontFile3"] == nil) {
			c.bad("6.2.11.4.1", "%s: the font program is not embedded", label)
		}
		if fd != nil && !reSubsetTag.MatchString(name) {
			c.bad("faldone", "%s: embedded without a subset tag", label)
		}
		if d["ToUnicode"] == nil {
			c.bad("faldone", "%s: no /ToUnicode", label)
		}
		return
	}
	desc := c.r.Array(d["DescendantFonts"])
	if len(desc) != 1 {
		c.bad("6.2.11.3", "%s: %d descendant fonts, not one", label, len(desc))
		return
	}
	cid := c.r.Dict(desc[0])
	enc := c.r.Resolve(d["Encoding"])
	switch e := enc.(type) {
	case pades.Name:
		if !predefinedCMaps.MatchString(string(e)) {
			c.bad("6.2.11.3.3", "%s: CMap /%s is neither predefined nor embedded", label, e)
		}
		if e != "Identity-H" && e != "Identity-V" {
			c.bad("faldone", "%s: CMap /%s: the checks read two-byte Identity codes only", label, e)
		}
	case *pades.Stream:
		c.bad("faldone", "%s: an embedded CMap: the checks read two-byte Identity codes only", label)
	default:
		c.bad("6.2.11.3.3", "%s: no /Encoding CMap", label)
	}
	si := c.r.Dict(cid["CIDSystemInfo"])
	if _, ok := c.r.Resolve(si["Registry"]).(pades.String); !ok {
		c.bad("6.2.11.3.1", "%s: the CIDFont has no CIDSystemInfo /Registry", label)
	}
	if _, ok := c.r.Resolve(si["Ordering"]).(pades.String); !ok {
		c.bad("6.2.11.3.1", "%s: the CIDFont has no CIDSystemInfo /Ordering", label)
	}
	for _, n := range []string{name, string(c.name(cid, "BaseFont"))} {
		if !reSubsetTag.MatchString(n) {
			c.bad("faldone", "%s: subset font named %q without a six-letter tag (ISO 32000-1 9.6.4)", label, n)
		}
	}
	fd := c.r.Dict(cid["FontDescriptor"])
	if fd == nil {
		c.bad("6.2.11.4.1", "%s: the CIDFont has no font descriptor", label)
		return
	}
	if fn := string(c.name(fd, "FontName")); !reSubsetTag.MatchString(fn) {
		c.bad("faldone", "%s: /FontName %q without a six-letter tag", label, fn)
	}
	var program []byte
	if s, ok := c.r.Resolve(fd["FontFile2"]).(*pades.Stream); ok {
		program, _ = c.r.Decode(s)
	} else if fd["FontFile3"] == nil && fd["FontFile"] == nil {
		c.bad("6.2.11.4.1", "%s: the font program is not embedded", label)
		return
	}
	cidSub := c.name(cid, "Subtype")
	var gidOf func(uint32) (int, bool)
	if cidSub == "CIDFontType2" {
		switch m := c.r.Resolve(cid["CIDToGIDMap"]).(type) {
		case pades.Name:
			if m != "Identity" {
				c.bad("6.2.11.3.2", "%s: /CIDToGIDMap /%s", label, m)
			}
			gidOf = func(cid uint32) (int, bool) { return int(cid), true }
		case *pades.Stream:
			b, err := c.r.Decode(m)
			if err != nil {
				c.bad("6.2.11.3.2", "%s: /CIDToGIDMap cannot be decoded: %v", label, err)
				return
			}
			gidOf = func(cid uint32) (int, bool) {
				if int(cid)*2+1 >= len(b) {
					return 0, false
				}
				return int(b[2*cid])<<8 | int(b[2*cid+1]), true
			}
		default:
			c.bad("6.2.11.3.2", "%s: a CIDFontType2 without /CIDToGIDMap", label)
			return
		}
	}
	if program == nil || gidOf == nil {
		return // a CFF program: its glyphs are not read here
	}
	tt, err := readTrueType(program)
	if err != nil {
		c.bad("6.2.11.2", "%s: the TrueType program cannot be read: %v", label, err)
		return
	}
	if _, err := sfnt.Parse(program); err != nil {
		c.bad("6.2.11.2", "%s: the TrueType program is rejected by a TrueType parser: %v", label, err)
	}
	widths := c.cidWidths(cid)
	uni := c.toUnicode(d)
	if d["ToUnicode"] == nil {
		c.bad("faldone", "%s: no /ToUnicode", label)
	}
	codes := make([]uint32, 0, len(u.codes))
	for code := range u.codes {
		codes = append(codes, code)
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	var notdef, undefined, badWidth, unmapped []string
	for _, code := range codes {
		gid, ok := gidOf(code) // Identity CMap: code = CID
		hex := fmt.Sprintf("<%04X>", code)
		switch {
		case code > 65535:
			c.bad("6.1.13", "%s: CID %d above 65535", label, code)
		case !ok || gid >= tt.numGlyphs:
			undefined = append(undefined, hex)
		case gid == 0:
			notdef = append(notdef, hex)
		default:
			want := float64(tt.advance(gid)) * 1000 / float64(tt.unitsPerEm)
			if w := widths(code); abs(w-want) > 1 {
				badWidth = append(badWidth, fmt.Sprintf("%s %g (program %g)", hex, w, want))
			}
		}
		if d["ToUnicode"] != nil && !uni[code] {
			unmapped = append(unmapped, hex)
		}
	}
	if len(notdef) > 0 {
		c.bad("6.2.11.8", "%s: text shows .notdef (glyph 0) for codes %s", label, short(notdef))
	}
	if len(undefined) > 0 {
		c.bad("6.2.11.4.1", "%s: codes %s reach no glyph of the program (%d glyphs)", label, short(undefined), tt.numGlyphs)
	}
	if len(badWidth) > 0 {
		c.bad("6.2.11.5", "%s: /W differs from the program's advance for %s", label, short(badWidth))
	}
	if len(unmapped) > 0 {
		c.bad("faldone", "%s: /ToUnicode maps no text for codes %s", label, short(unmapped))
	}
	if s, ok := c.r.Resolve(fd["CIDSet"]).(*pades.Stream); ok {
		set, err := c.r.Decode(s)
		if err != nil {
			c.bad("6.2.11.4.2", "%s: the CIDSet cannot be decoded", label)
		} else {
			for _, code := range codes {
				if gid, ok := gidOf(code); ok && gid > 0 && gid < tt.numGlyphs && (int(code)/8 >= len(set) || set[code/8]&(0x80>>(code%8)) == 0) {
					c.bad("6.2.11.4.2", "%s: the CIDSet lacks CID %d, present in the program", label, code)
					break
				}
			}
		}
	}
}

func short(list []string) string {
	if len(list) > 8 {
		return fmt.Sprint(list[:8], " and ", len(list)-8, " more")
	}
	return fmt.Sprint(list)
}

// cidWidths returns the width function of a CIDFont's /W and /DW.
func (c *checker) cidWidths(cid pades.Dict) func(uint32) float64 {
	dw := 1000.0
	if v, ok := c.num(cid["DW"]); ok {
		dw = v
	}
	m := map[uint32]float64{}
	w := c.r.Array(cid["W"])
	for i := 0; i < len(w); {
		first, ok := c.num(w[i])
		if !ok || i+1 >= len(w) {
			break
		}
		if a := c.r.Array(w[i+1]); a != nil {
			for k, v := range a {
				if f, ok := c.num(v); ok {
					m[uint32(first)+uint32(k)] = f
				}
			}
			i += 2
			continue
		}
		last, ok1 := c.num(w[i+1])
		if i+2 >= len(w) || !ok1 {
			break
		}
		f, _ := c.num(w[i+2])
		for k := uint32(first); k <= uint32(last) && k-uint32(first) < 65536; k++ {
			m[k] = f
		}
		i += 3
	}
	return func(code uint32) float64 {
		if v, ok := m[code]; ok {
			return v
		}
		return dw
	}
}

var (
	reBfChar  = regexp.MustCompile(`(?s)beginbfchar(.*?)endbfchar`)
	reBfRange = regexp.MustCompile(`(?s)beginbfrange(.*?)endbfrange`)
	reHexTok  = regexp.MustCompile(`<([0-9A-Fa-f]*)>|\[`)
)

// toUnicode returns the codes a font's /ToUnicode CMap maps.
func (c *checker) toUnicode(d pades.Dict) map[uint32]bool {
	out := map[uint32]bool{}
	s, ok := c.r.Resolve(d["ToUnicode"]).(*pades.Stream)
	if !ok {
		return out
	}
	b, err := c.r.Decode(s)
	if err != nil {
		return out
	}
	hexNum := func(h []byte) uint32 {
		n, _ := strconv.ParseUint(string(h), 16, 32)
		return uint32(n)
	}
	for _, m := range reBfChar.FindAllSubmatch(b, -1) {
		toks := reHexTok.FindAllSubmatch(m[1], -1)
		for i := 0; i+1 < len(toks); i += 2 {
			out[hexNum(toks[i][1])] = true
		}
	}
	for _, m := range reBfRange.FindAllSubmatch(b, -1) {
		body := m[1]
		for _, line := range bytes.Split(body, []byte("\n")) {
			toks := reHexTok.FindAllSubmatch(line, -1)
			if len(toks) < 3 {
				continue
			}
			lo, hi := hexNum(toks[0][1]), hexNum(toks[1][1])
			for k := lo; k <= hi && k-lo < 65536; k++ {
				out[k] = true
			}
		}
	}
	return out
}

// trueType is what the checks read of a TrueType program.
type trueType struct {
	unitsPerEm int
	numGlyphs  int
	advances   []uint16 // hmtx advance widths; the last repeats
}

func (t *trueType) advance(gid int) int {
	if len(t.advances) == 0 {
		return 0
	}
	if gid < len(t.advances) {
		return int(t.advances[gid])
	}
	return int(t.advances[len(t.advances)-1])
}

// readTrueType reads the head, maxp, hhea and hmtx tables of a TrueType
// program.
func readTrueType(b []byte) (*trueType, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("too short")
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	tables := map[string][]byte{}
	for i := 0; i < n; i++ {
		e := 12 + 16*i
		if e+16 > len(b) {
			return nil, fmt.Errorf("truncated table directory")
		}
		off, l := int(binary.BigEndian.Uint32(b[e+8:])), int(binary.BigEndian.Uint32(b[e+12:]))
		if off < 0 || l < 0 || off+l > len(b) {
			return nil, fmt.Errorf("table %q out of the file", b[e:e+4])
		}
		tables[string(b[e:e+4])] = b[off : off+l]
	}
	head, maxp, hhea, hmtx := tables["head"], tables["maxp"], tables["hhea"], tables["hmtx"]
	if len(head) < 54 || len(maxp) < 6 || len(hhea) < 36 {
		return nil, fmt.Errorf("missing head, maxp or hhea table")
	}
	t := &trueType{
		unitsPerEm: int(binary.BigEndian.Uint16(head[18:])),
		numGlyphs:  int(binary.BigEndian.Uint16(maxp[4:])),
	}
	if t.unitsPerEm == 0 {
		return nil, fmt.Errorf("unitsPerEm 0")
	}
	nh := int(binary.BigEndian.Uint16(hhea[34:]))
	if len(hmtx) < 4*nh {
		return nil, fmt.Errorf("hmtx shorter than its %d metrics", nh)
	}
	for i := 0; i < nh; i++ {
		t.advances = append(t.advances, binary.BigEndian.Uint16(hmtx[4*i:]))
	}
	return t, nil
}

// Package pdfa checks a PDF against the clauses of ISO 19005-2 (PDF/A-2,
// level B) that can be read from its structure, clause by clause, in the
// absence of a full validator such as veraPDF. The file is read twice: with
// faldone's own parser (internal/pades) for every check, and with pdfcpu
// for an independent reading of the header, trailer /ID, document
// information and XMP metadata, and pdfcpu's own validation.
//
// Check covers the file structure, graphics, annotations, forms, actions
// and metadata; CheckFonts covers the fonts (6.2.11). Each Finding names
// its clause. What is not checked is listed in the README ("Archival
// formats"): among others the content of ICC profiles beyond their header,
// rendering of Type 3 fonts, and anything only a renderer can see.
package pdfa

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"sort"
	"testing"

	"faldone/internal/pades"
)

// Finding is one failed requirement.
type Finding struct {
	Clause string // clause of ISO 19005-2, e.g. "6.1.2"
	What   string
}

func (f Finding) String() string { return f.Clause + ": " + f.What }

// Require fails tb with every finding of Check.
func Require(tb testing.TB, pdf []byte) {
	tb.Helper()
	report(tb, "PDF/A-2b", pdf, Check)
}

// RequireFonts fails tb with every finding of CheckFonts.
func RequireFonts(tb testing.TB, pdf []byte) {
	tb.Helper()
	report(tb, "PDF/A-2b fonts", pdf, CheckFonts)
}

func report(tb testing.TB, what string, pdf []byte, check func([]byte) ([]Finding, error)) {
	tb.Helper()
	fs, err := check(pdf)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	for _, f := range fs {
		tb.Errorf("%s: %s", what, f)
	}
}

func errAt(i int, format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", i, fmt.Sprintf(format, args...))
}

type checker struct {
	pdf      []byte
	r        *pades.Reader
	findings []Finding
	seen     map[Finding]bool
	catalog  pades.Dict
	// colour spaces of the PDF/A output intent's profile: "RGB ", "CMYK", "GRAY"
	intentSpace string
	visited     map[int]bool // content streams (and forms) read
}

func (c *checker) bad(clause, format string, args ...any) {
	f := Finding{clause, fmt.Sprintf(format, args...)}
	if c.seen[f] || len(c.findings) >= 200 {
		return
	}
	c.seen[f] = true
	c.findings = append(c.findings, f)
}

func newChecker(pdf []byte) (*checker, error) {
	r, err := pades.Open(pdf)
	if err != nil {
		return nil, fmt.Errorf("read pdf: %w", err)
	}
	c := &checker{pdf: pdf, r: r, seen: map[Finding]bool{}, visited: map[int]bool{}}
	c.catalog = r.Dict(r.Trailer()["Root"])
	if c.catalog == nil {
		return nil, fmt.Errorf("read pdf: no catalog")
	}
	return c, nil
}

// Check runs every check except the fonts' (see CheckFonts) and returns
// the findings, in clause order; an error only when the file cannot be read
// at all.
func Check(pdf []byte) ([]Finding, error) {
	c, err := newChecker(pdf)
	if err != nil {
		return nil, err
	}
	c.header()
	c.trailer()
	c.xrefTables()
	c.objects()
	c.outputIntent()
	c.catalogChecks()
	c.pages()
	c.metadata()
	c.signatures()
	c.pdfcpu()
	sort.SliceStable(c.findings, func(i, j int) bool { return c.findings[i].Clause < c.findings[j].Clause })
	return c.findings, nil
}

// 6.1.2: "%PDF-1.n" (n 0 to 7) at byte 0, one EOL, then "%" and at least
// four bytes above 127.
var reHeader = regexp.MustCompile(`^%PDF-1\.[0-7](\r\n|\r|\n)%`)

func (c *checker) header() {
	m := reHeader.Find(c.pdf)
	binary := m != nil && len(c.pdf) >= len(m)+4
	for i := 0; binary && i < 4; i++ {
		binary = c.pdf[len(m)+i] > 127
	}
	if !binary {
		n := min(len(c.pdf), 16)
		c.bad("6.1.2", "header %q is not %%PDF-1.[0-7], an EOL and a comment of four bytes above 127", c.pdf[:n])
	}
}

// 6.1.3: /ID in the trailer, no /Encrypt, nothing after the last %%EOF
// but an EOL; and (ISO 32000-1 14.4) every revision keeps the first
// element of /ID.
func (c *checker) trailer() {
	t := c.r.Trailer()
	if t["Encrypt"] != nil {
		c.bad("6.1.3", "the trailer has /Encrypt")
	}
	first, ok := idOf(c.r, t)
	if !ok {
		c.bad("6.1.3", "the last trailer has no /ID of two strings")
	}
	eof := bytes.LastIndex(c.pdf, []byte("%%EOF"))
	if eof < 0 {
		c.bad("6.1.3", "no %%%%EOF marker")
	} else if tail := c.pdf[eof+5:]; len(tail) > 0 && string(tail) != "\n" && string(tail) != "\r\n" && string(tail) != "\r" {
		c.bad("6.1.3", "%d bytes follow the last %%%%EOF", len(tail))
	}
	ends, err := pades.Revisions(c.pdf)
	if err != nil {
		c.bad("6.1.3", "revisions: %v", err)
		return
	}
	for i, end := range ends {
		if int(end) >= len(c.pdf) {
			continue
		}
		rr, err := pades.Open(c.pdf[:end])
		if err != nil {
			c.bad("6.1.3", "revision %d: %v", i+1, err)
			continue
		}
		id, ok := idOf(rr, rr.Trailer())
		if !ok {
			c.bad("6.1.3", "the trailer of revision %d has no /ID", i+1)
		} else if first != nil && !bytes.Equal(id, first) {
			c.bad("6.1.3", "revision %d changes the first element of /ID (ISO 32000-1 14.4)", i+1)
		}
	}
}

// idOf returns the first element of a trailer's /ID of two strings.
func idOf(r *pades.Reader, t pades.Dict) ([]byte, bool) {
	a := r.Array(t["ID"])
	if len(a) != 2 {
		return nil, false
	}
	s0, ok0 := r.Resolve(a[0]).(pades.String)
	_, ok1 := r.Resolve(a[1]).(pades.String)
	if !ok0 || !ok1 || len(s0) == 0 {
		return nil, false
	}
	return s0, true
}

// objects checks every object in use: streams (6.1.7), implementation
// limits (6.1.13), and dictionaries by kind.
func (c *checker) objects() {
	nums := c.r.Objects()
	if len(nums) > 8388607 {
		c.bad("6.1.13", "%d indirect objects, more than 8,388,607", len(nums))
	}
	for _, n := range nums {
		v, err := c.r.Object(n)
		if err != nil {
			c.bad("6.1", "object %d cannot be read: %v", n, err)
			continue
		}
		c.limits(n, v, 0)
		if s, ok := v.(*pades.Stream); ok {
			c.stream(n, s)
			c.dict(n, s.Dict)
		} else if d, ok := v.(pades.Dict); ok {
			c.dict(n, d)
		}
	}
}

// limits walks a value for the implementation limits of 6.1.13.
func (c *checker) limits(n int, v any, depth int) {
	if depth > 64 {
		return
	}
	switch x := v.(type) {
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			c.bad("6.1.13", "object %d: integer %d out of range", n, x)
		}
	case float64:
		if math.Abs(x) > 3.403e38 || (x != 0 && math.Abs(x) < 1.175e-38) {
			c.bad("6.1.13", "object %d: real %g out of range", n, x)
		}
	case pades.String:
		if len(x) > 32767 {
			c.bad("6.1.13", "object %d: string of %d bytes", n, len(x))
		}
	case pades.Name:
		if len(x) > 127 {
			c.bad("6.1.13", "object %d: name of %d bytes", n, len(x))
		}
	case pades.Array:
		for _, e := range x {
			c.limits(n, e, depth+1)
		}
	case pades.Dict:
		for k, e := range x {
			c.limits(n, k, depth+1)
			c.limits(n, e, depth+1)
		}
	case *pades.Stream:
		c.limits(n, x.Dict, depth+1)
	}
}

// stream checks 6.1.7: the stream keyword followed by CRLF or LF, endstream
// preceded by an EOL, /Length equal to the bytes between them, no external
// file keys; 6.1.7.2: no LZWDecode, no Crypt filter.
func (c *checker) stream(n int, s *pades.Stream) {
	for _, k := range []pades.Name{"F", "FFilter", "FDecodeParms"} {
		if s.Dict[k] != nil {
			c.bad("6.1.7.1", "stream %d has /%s (external data)", n, k)
		}
	}
	filters := []any{c.r.Resolve(s.Dict["Filter"])}
	if a, ok := filters[0].(pades.Array); ok {
		filters = a
	}
	for _, f := range filters {
		switch c.r.Resolve(f) {
		case pades.Name("LZWDecode"), pades.Name("LZW"):
			c.bad("6.1.7.2", "stream %d uses LZWDecode", n)
		case pades.Name("Crypt"):
			c.bad("6.1.7.2", "stream %d uses the Crypt filter", n)
		}
	}
	// The reader's data is a slice of the file: its start is where the
	// remaining capacity says.
	start := cap(c.pdf) - cap(s.Raw)
	if start <= 0 || start > len(c.pdf) || !bytes.Equal(c.pdf[start:start+len(s.Raw)], s.Raw) {
		return // from an object stream or a copy: not a stream of the file
	}
	before := c.pdf[:start]
	if !bytes.HasSuffix(before, []byte("stream\r\n")) && !bytes.HasSuffix(before, []byte("stream\n")) {
		c.bad("6.1.7.1", "stream %d: the stream keyword is not followed by CRLF or LF", n)
	}
	if l, ok := c.r.Resolve(s.Dict["Length"]).(int64); !ok || l != int64(len(s.Raw)) {
		c.bad("6.1.7.1", "stream %d: /Length %v does not count the %d bytes of its data", n, c.r.Resolve(s.Dict["Length"]), len(s.Raw))
	}
	after := c.pdf[start+len(s.Raw):]
	if !bytes.HasPrefix(after, []byte("\nendstream")) && !bytes.HasPrefix(after, []byte("\r\nendstream")) && !bytes.HasPrefix(after, []byte("\rendstream")) {
		c.bad("6.1.7.1", "stream %d: endstream is not preceded by an EOL", n)
	}
}

// Annotation subtypes PDF/A-2 allows (6.3.1).
var annotSubtypes = map[pades.Name]bool{
	"Text": true, "Link": true, "FreeText": true, "Line": true, "Square": true, "Circle": true,
	"Polygon": true, "PolyLine": true, "Highlight": true, "Underline": true, "Squiggly": true,
	"StrikeOut": true, "Stamp": true, "Caret": true, "Ink": true, "Popup": true,
	"FileAttachment": true, "Widget": true, "PrinterMark": true, "TrapNet": true,
	"Watermark": true, "Redact": true,
}

// Action types PDF/A-2 forbids (6.5.1).
var forbiddenActions = map[pades.Name]bool{
	"Launch": true, "Sound": true, "Movie": true, "ResetForm": true, "ImportData": true,
	"Hide": true, "SetOCGState": true, "Rendition": true, "Trans": true, "GoTo3DView": true,
	"JavaScript": true,
}

var blendModes = map[pades.Name]bool{
	"Normal": true, "Compatible": true, "Multiply": true, "Screen": true, "Overlay": true,
	"Darken": true, "Lighten": true, "ColorDodge": true, "ColorBurn": true, "HardLight": true,
	"SoftLight": true, "Difference": true, "Exclusion": true, "Hue": true, "Saturation": true,
	"Color": true, "Luminosity": true,
}

var intents = map[pades.Name]bool{
	"RelativeColorimetric": true, "AbsoluteColorimetric": true, "Perceptual": true, "Saturation": true,
}

func (c *checker) name(d pades.Dict, k pades.Name) pades.Name {
	n, _ := c.r.Resolve(d[k]).(pades.Name)
	return n
}

func (c *checker) num(v any) (float64, bool) {
	switch x := c.r.Resolve(v).(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// dict checks a dictionary by what it is.
func (c *checker) dict(n int, d pades.Dict) {
	typ, sub := c.name(d, "Type"), c.name(d, "Subtype")
	// 6.2.5 graphics state: no transfer functions or halftones of one's own.
	if d["TR"] != nil {
		c.bad("6.2.5", "object %d has a transfer function /TR", n)
	}
	if tr2 := d["TR2"]; tr2 != nil && c.r.Resolve(tr2) != pades.Name("Default") {
		c.bad("6.2.5", "object %d has /TR2 other than /Default", n)
	}
	if d["HTP"] != nil {
		c.bad("6.2.5", "object %d has /HTP", n)
	}
	if ht, ok := c.r.Resolve(d["HalftoneType"]).(int64); ok {
		if ht != 1 && ht != 5 {
			c.bad("6.2.5", "halftone %d of type %d (1 or 5 allowed)", n, ht)
		}
		if d["HalftoneName"] != nil {
			c.bad("6.2.5", "halftone %d has /HalftoneName", n)
		}
	}
	if bm := c.r.Resolve(d["BM"]); bm != nil {
		list := []any{bm}
		if a, ok := bm.(pades.Array); ok {
			list = a
		}
		for _, m := range list {
			if nm, ok := c.r.Resolve(m).(pades.Name); !ok || !blendModes[nm] {
				c.bad("6.2.10", "object %d: blend mode %v is not a standard one", n, m)
			}
		}
	}
	if ri := c.name(d, "RI"); ri != "" && !intents[ri] {
		c.bad("6.2.6", "object %d: rendering intent /%s", n, ri)
	}
	if ri := c.name(d, "Intent"); ri != "" && sub == "Image" && !intents[ri] {
		c.bad("6.2.6", "image %d: rendering intent /%s", n, ri)
	}
	switch {
	case sub == "Image":
		if d["Alternates"] != nil {
			c.bad("6.2.8", "image %d has /Alternates", n)
		}
		if d["OPI"] != nil {
			c.bad("6.2.8", "image %d has /OPI", n)
		}
		if b, _ := c.r.Resolve(d["Interpolate"]).(bool); b {
			c.bad("6.2.8", "image %d has /Interpolate true", n)
		}
		if bpc, ok := c.num(d["BitsPerComponent"]); ok && bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16 {
			c.bad("6.2.8", "image %d: %v bits per component", n, bpc)
		}
	case sub == "Form" && (typ == "XObject" || typ == ""):
		if d["OPI"] != nil || d["PS"] != nil || c.name(d, "Subtype2") == "PS" {
			c.bad("6.2.9", "form XObject %d has /OPI, /PS or /Subtype2 /PS", n)
		}
		if d["Ref"] != nil {
			c.bad("6.2.9", "form XObject %d is a reference XObject", n)
		}
	case sub == "PS":
		c.bad("6.2.9", "object %d is a PostScript XObject", n)
	}
	if typ == "Annot" || (d["Rect"] != nil && sub != "" && annotSubtypes[sub]) {
		c.annotation(n, d, sub)
	}
	if s := c.name(d, "S"); s != "" && (typ == "Action" || forbiddenActions[s] || s == "Named") {
		if forbiddenActions[s] {
			c.bad("6.5.1", "object %d: action /%s", n, s)
		}
		if s == "Named" {
			switch c.name(d, "N") {
			case "NextPage", "PrevPage", "FirstPage", "LastPage":
			default:
				c.bad("6.5.1", "object %d: named action /%s", n, c.name(d, "N"))
			}
		}
	}
	if d["AA"] != nil && (typ == "Catalog" || typ == "Page") {
		c.bad("6.5.2", "the %s (object %d) has additional actions /AA", typ, n)
	}
	if (d["FT"] != nil || (d["T"] != nil && d["Kids"] != nil)) && sub != "Widget" && (d["A"] != nil || d["AA"] != nil) {
		c.bad("6.4.1", "form field %d has an action /A or /AA", n)
	}
	if typ == "Page" && d["PresSteps"] != nil {
		c.bad("6.10", "page %d has /PresSteps", n)
	}
	if typ == "SigRef" || (d["TransformMethod"] != nil) {
		for _, k := range []pades.Name{"DigestLocation", "DigestMethod", "DigestValue"} {
			if d[k] != nil {
				c.bad("6.1.12", "signature reference %d has /%s", n, k)
			}
		}
	}
	if cs := c.r.Array(d["ColorSpace"]); len(cs) > 1 && c.r.Resolve(cs[0]) == pades.Name("DeviceN") {
		if comps := c.r.Array(cs[1]); len(comps) > 32 {
			c.bad("6.1.13", "object %d: DeviceN with %d components", n, len(comps))
		}
	}
}

// annotation checks 6.3.1 (allowed types), 6.3.2 (flags), 6.3.3
// (appearances) and 6.4.1 (widgets without actions).
func (c *checker) annotation(n int, d pades.Dict, sub pades.Name) {
	if !annotSubtypes[sub] {
		c.bad("6.3.1", "annotation %d of subtype /%s", n, sub)
	}
	rect := c.r.Array(d["Rect"])
	zero := false
	if len(rect) == 4 {
		x0, _ := c.num(rect[0])
		y0, _ := c.num(rect[1])
		x1, _ := c.num(rect[2])
		y1, _ := c.num(rect[3])
		zero = x0 == x1 && y0 == y1
	}
	f, hasF := c.r.Resolve(d["F"]).(int64)
	if !hasF && sub != "Popup" && !zero {
		c.bad("6.3.2", "annotation %d (/%s) has no /F", n, sub)
	}
	if hasF {
		const print, hidden, invisible, noView, toggleNoView = 4, 2, 1, 32, 256
		if f&print == 0 {
			c.bad("6.3.2", "annotation %d (/%s) is not printable (/F %d)", n, sub, f)
		}
		if f&(hidden|invisible|noView|toggleNoView) != 0 {
			c.bad("6.3.2", "annotation %d (/%s) is hidden, invisible or not viewable (/F %d)", n, sub, f)
		}
	}
	ap := c.r.Dict(d["AP"])
	if ap == nil && sub != "Popup" && sub != "Link" && !zero {
		c.bad("6.3.3", "annotation %d (/%s) has no appearance /AP", n, sub)
	}
	if ap != nil {
		for k := range ap {
			if k != "N" {
				c.bad("6.3.3", "annotation %d: appearance dictionary has /%s besides /N", n, k)
			}
		}
		nv := c.r.Resolve(ap["N"])
		_, isStream := nv.(*pades.Stream)
		isBtn := sub == "Widget" && c.fieldType(d) == "Btn"
		switch {
		case nv == nil:
			c.bad("6.3.3", "annotation %d: no normal appearance /N", n)
		case isBtn && isStream:
			c.bad("6.3.3", "button widget %d: /N is a stream, not a dictionary of states", n)
		case !isBtn && !isStream:
			c.bad("6.3.3", "annotation %d: /N is not an appearance stream", n)
		}
	}
	if sub == "Widget" && (d["A"] != nil || d["AA"] != nil) {
		c.bad("6.4.1", "widget %d has an action /A or /AA", n)
	}
}

func (c *checker) fieldType(d pades.Dict) pades.Name {
	for i := 0; i < 16 && d != nil; i++ {
		if ft := c.name(d, "FT"); ft != "" {
			return ft
		}
		d = c.r.Dict(d["Parent"])
	}
	return ""
}

// catalogChecks: 6.1.13 optional content, 6.4.1 NeedAppearances, 6.4.2 XFA
// and NeedsRendering, 6.5.1 JavaScript names, 6.8 embedded files, 6.11
// Requirements, permissions (6.1.12).
func (c *checker) catalogChecks() {
	cat := c.catalog
	if form := c.r.Dict(cat["AcroForm"]); form != nil {
		if b, _ := c.r.Resolve(form["NeedAppearances"]).(bool); b {
			c.bad("6.4.1", "the form has /NeedAppearances true")
		}
		if form["XFA"] != nil {
			c.bad("6.4.2", "the form has /XFA")
		}
	}
	if cat["NeedsRendering"] != nil {
		c.bad("6.4.2", "the catalog has /NeedsRendering")
	}
	if cat["Requirements"] != nil {
		c.bad("6.11", "the catalog has /Requirements")
	}
	names := c.r.Dict(cat["Names"])
	if names["AlternatePresentations"] != nil {
		c.bad("6.10", "the name dictionary has /AlternatePresentations")
	}
	if names["JavaScript"] != nil {
		c.bad("6.5.1", "the name dictionary has /JavaScript")
	}
	if ef := c.r.Dict(names["EmbeddedFiles"]); ef != nil && (len(c.r.Array(ef["Names"])) > 0 || len(c.r.Array(ef["Kids"])) > 0) {
		c.bad("6.8", "the document embeds files (each must itself be PDF/A; faldone embeds none)")
	}
	if perms := c.r.Dict(cat["Perms"]); perms != nil {
		for k := range perms {
			if k != "UR3" && k != "DocMDP" {
				c.bad("6.1.12", "/Perms has /%s besides /UR3 and /DocMDP", k)
			}
		}
	}
	if oc := c.r.Dict(cat["OCProperties"]); oc != nil {
		configs := []any{oc["D"]}
		configs = append(configs, c.r.Array(oc["Configs"])...)
		for i, cf := range configs {
			d := c.r.Dict(cf)
			if d == nil {
				continue
			}
			if _, ok := c.r.Resolve(d["Name"]).(pades.String); !ok {
				c.bad("6.9", "optional content configuration %d has no /Name", i)
			}
			if d["AS"] != nil {
				c.bad("6.9", "optional content configuration %d has /AS", i)
			}
		}
	}
	if v, ok := c.r.Resolve(cat["Version"]).(pades.Name); ok && (len(v) != 3 || v[0] != '1' || v[2] > '7') {
		c.bad("6.1.2", "the catalog declares /Version %s, beyond PDF 1.7", v)
	}
}

// outputIntent checks 6.2.3: a GTS_PDFA1 output intent with an embedded
// ICC profile of an output device class, and every output intent with a
// profile uses the same one.
func (c *checker) outputIntent() {
	var profile any
	for i, oi := range c.r.Array(c.catalog["OutputIntents"]) {
		d := c.r.Dict(oi)
		if d == nil {
			c.bad("6.2.3", "output intent %d is not a dictionary", i)
			continue
		}
		p := d["DestOutputProfile"]
		if p == nil {
			continue
		}
		if profile != nil && p != profile {
			c.bad("6.2.3", "output intents %d carries a different DestOutputProfile", i)
		}
		profile = p
		if c.name(d, "S") != "GTS_PDFA1" {
			continue
		}
		s, ok := c.r.Resolve(p).(*pades.Stream)
		if !ok {
			c.bad("6.2.3", "the PDF/A output intent's DestOutputProfile is not a stream")
			continue
		}
		data, err := c.r.Decode(s)
		if err != nil || len(data) < 128 {
			c.bad("6.2.3", "the ICC profile cannot be read: %v", err)
			continue
		}
		class, space := string(data[12:16]), string(data[16:20])
		if class != "mntr" && class != "prtr" {
			c.bad("6.2.3", "the ICC profile's class is %q, not an output device (mntr or prtr)", class)
		}
		if data[8] > 4 {
			c.bad("6.2.3", "ICC profile version %d.%d is later than 4", data[8], data[9]>>4)
		}
		if int(uint32(data[0])<<24|uint32(data[1])<<16|uint32(data[2])<<8|uint32(data[3])) != len(data) {
			c.bad("6.2.3", "the ICC profile's header size differs from its length")
		}
		want := map[string]int64{"RGB ": 3, "CMYK": 4, "GRAY": 1}[space]
		if nn, _ := c.r.Resolve(s.Dict["N"]).(int64); want == 0 || nn != want {
			c.bad("6.2.3", "ICC profile colour space %q with /N %v", space, s.Dict["N"])
		}
		if c.intentSpace == "" {
			c.intentSpace = space
		}
	}
	if c.intentSpace == "" {
		c.bad("6.2.3", "no /GTS_PDFA1 output intent with an embedded profile")
	}
}

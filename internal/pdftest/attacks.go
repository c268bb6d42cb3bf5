package pdftest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Attack is a file forged from a sealed letter, with what a verifier must
// say of it.
type Attack struct {
	// Name is "class/variant", such as "ISA/content replaced".
	Name string
	// PDF is the forged file.
	PDF []byte
	// Reasons are the reason codes, one of which the verdict must carry.
	Reasons []string
	// Visible says whether poppler and mupdf show the forgery (a changed
	// page), as opposed to a change of metadata or structure only.
	Visible bool
}

// Letter is what Attacks reads of a sealed letter: the objects of its
// newest revision by number, found by their text.
type Letter struct {
	PDF                   []byte
	Root, Info, Size      int
	StartXref             int
	Pages, Page, Contents int
	Resources             int
	AcroForm, Field, Sig  int
	SigBody               string // the seal's signature dictionary
	CatalogBody           string
	PageBody              string
	AcroFormBody          string
}

var (
	reTrailer = regexp.MustCompile(`(?s)trailer\s*<<(.*?)>>\s*startxref\s*(\d+)\s*%%EOF\s*$`)
	reRef     = func(key string) *regexp.Regexp { return regexp.MustCompile(`/` + key + `\s+(\d+)\s+0\s+R`) }
)

// ReadLetter finds the objects of a sealed letter (a classic
// cross-reference table, as gofpdf and the seal write it).
func ReadLetter(tb testing.TB, pdf []byte) *Letter {
	tb.Helper()
	m := reTrailer.FindSubmatch(pdf[max(0, bytes.LastIndex(pdf, []byte("trailer"))):])
	if m == nil {
		tb.Fatal("read letter: no trailer at the end of the file")
	}
	l := &Letter{PDF: pdf}
	l.StartXref, _ = strconv.Atoi(string(m[2]))
	l.Root = refIn(tb, string(m[1]), "Root")
	l.Info = refIn(tb, string(m[1]), "Info")
	sz := regexp.MustCompile(`/Size\s+(\d+)`).FindSubmatch(m[1])
	if sz == nil {
		tb.Fatal("read letter: no /Size")
	}
	l.Size, _ = strconv.Atoi(string(sz[1]))
	l.CatalogBody = l.Object(tb, l.Root)
	l.Pages = refIn(tb, l.CatalogBody, "Pages")
	kids := regexp.MustCompile(`/Kids\s*\[\s*(\d+)\s+0\s+R`).FindStringSubmatch(l.Object(tb, l.Pages))
	if kids == nil {
		tb.Fatal("read letter: no /Kids")
	}
	l.Page, _ = strconv.Atoi(kids[1])
	l.PageBody = l.Object(tb, l.Page)
	l.Contents = refIn(tb, l.PageBody, "Contents")
	l.Resources = refIn(tb, l.PageBody, "Resources")
	l.AcroForm = refIn(tb, l.CatalogBody, "AcroForm")
	l.AcroFormBody = l.Object(tb, l.AcroForm)
	f := regexp.MustCompile(`/Fields\s*\[\s*(\d+)\s+0\s+R`).FindStringSubmatch(l.AcroFormBody)
	if f == nil {
		tb.Fatal("read letter: no /Fields")
	}
	l.Field, _ = strconv.Atoi(f[1])
	l.Sig = refIn(tb, l.Object(tb, l.Field), "V")
	l.SigBody = l.Object(tb, l.Sig)
	return l
}

func refIn(tb testing.TB, body, key string) int {
	tb.Helper()
	m := reRef(key).FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("read letter: no /%s in %.200q", key, body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Object returns the text of object num's newest definition, between
// "obj" and "endobj" (a stream's data included).
func (l *Letter) Object(tb testing.TB, num int) string {
	tb.Helper()
	re := regexp.MustCompile(`(?m)(^|[\r\n])` + strconv.Itoa(num) + ` 0 obj\s`)
	all := re.FindAllIndex(l.PDF, -1)
	if all == nil {
		tb.Fatalf("read letter: object %d not found", num)
	}
	start := all[len(all)-1][1]
	end := bytes.Index(l.PDF[start:], []byte("endobj"))
	if end < 0 {
		tb.Fatalf("read letter: object %d has no endobj", num)
	}
	return strings.TrimSpace(string(l.PDF[start : start+end]))
}

// Update is an incremental update being written after a file.
type Update struct {
	base    []byte
	l       *Letter
	objs    map[int]string
	order   []int
	Root    int
	Info    int
	Prev    int
	Trailer string // more trailer entries
	next    int
}

// NewUpdate starts an update after the letter's bytes.
func (l *Letter) NewUpdate() *Update {
	return &Update{base: l.PDF, l: l, objs: map[int]string{}, Root: l.Root, Info: l.Info, Prev: l.StartXref, next: l.Size}
}

// New returns a fresh object number.
func (u *Update) New() int { u.next++; return u.next - 1 }

// Set (re)defines object num with body.
func (u *Update) Set(num int, body string) *Update {
	if _, ok := u.objs[num]; !ok {
		u.order = append(u.order, num)
	}
	u.objs[num] = body
	return u
}

// Stream returns the body of a stream object holding data.
func Stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// body writes the objects after the base and returns the bytes and the
// offsets by number.
func (u *Update) body() ([]byte, map[int]int) {
	var b bytes.Buffer
	b.Write(u.base)
	if n := len(u.base); n > 0 && u.base[n-1] != '\n' {
		b.WriteByte('\n')
	}
	offs := map[int]int{}
	for _, n := range u.order {
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, u.objs[n])
	}
	return b.Bytes(), offs
}

// xrefTable writes a classic table of offs.
func xrefTable(offs map[int]int) string {
	nums := make([]int, 0, len(offs))
	for n := range offs {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	var b strings.Builder
	b.WriteString("xref\n")
	for _, n := range nums {
		fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", n, offs[n])
	}
	return b.String()
}

func (u *Update) trailer() string {
	info := ""
	if u.Info > 0 {
		info = fmt.Sprintf(" /Info %d 0 R", u.Info)
	}
	return fmt.Sprintf("trailer\n<< /Size %d /Root %d 0 R%s /Prev %d %s>>\n", u.next, u.Root, info, u.Prev, u.Trailer)
}

// Bytes returns the file with the update: objects, a classic table, the
// trailer, startxref and %%EOF.
func (u *Update) Bytes() []byte {
	b, offs := u.body()
	x := len(b)
	return fmt.Appendf(b, "%s%sstartxref\n%d\n%%%%EOF\n", xrefTable(offs), u.trailer(), x)
}

// valueRE matches a simple PDF value: a reference, an array or a
// dictionary without nesting, a name, a string or a number.
const valueRE = `\s*(\d+\s+0\s+R|\[[^\]]*\]|<<[^<>]*>>|/[^\s/<>\[\]()]+|\([^)]*\)|<[0-9A-Fa-f]*>|[-\d.]+|null)`

// ReplaceKey sets key to value in a dictionary's text (added when absent).
func ReplaceKey(body, key, value string) string {
	re := regexp.MustCompile(`/` + key + valueRE)
	if re.MatchString(body) {
		return re.ReplaceAllLiteralString(body, "/"+key+" "+value)
	}
	i := strings.LastIndex(body, ">>")
	return body[:i] + " /" + key + " " + value + " " + body[i:]
}

// RemoveKey drops key and its value from a dictionary's text.
func RemoveKey(body, key string) string {
	return regexp.MustCompile(`/`+key+valueRE).ReplaceAllLiteralString(body, "")
}

// malicious is the content a forger draws: it changes what a page says.
const malicious = "BT /F1 28 Tf 60 420 Td (IMPORTO APPROVATO: 1.000.000 EUR) Tj ET 0 0 1 rg 50 380 500 100 re f"

// Attacks builds, from a sealed letter (certified, DocMDP P 2), the
// published attack classes on PDF signatures, each an incremental update
// a viewer would honour: Universal Signature Forgery, Incremental Saving
// and Signature Wrapping (Mladenov et al., 2019), Shadow hide, replace and
// hide-and-replace (Mainka et al., 2021), the Evil Annotation and Sneaky
// Signature certification attacks (IEEE S&P 2021), and the
// parser-differential files (trailing objects, startxref, /Prev, hybrid
// cross-references, duplicate objects, object streams). None is valid.
func Attacks(tb testing.TB, sealed []byte) []Attack {
	tb.Helper()
	l := ReadLetter(tb, sealed)
	var out []Attack
	add := func(name string, pdf []byte, visible bool, reasons ...string) {
		out = append(out, Attack{Name: name, PDF: pdf, Reasons: reasons, Visible: visible})
	}
	newContent := func(u *Update) int {
		n := u.New()
		u.Set(n, Stream("", malicious))
		return n
	}
	noRef := removeRef(l.SigBody)

	// Universal Signature Forgery: the seal's dictionary written again
	// without what makes it verifiable.
	for _, v := range []struct{ name, body string }{
		{"no contents", RemoveKey(l.SigBody, "Contents")},
		{"null byte range", ReplaceKey(l.SigBody, "ByteRange", "null")},
		{"zero byte range", ReplaceKey(l.SigBody, "ByteRange", "[0 0 0 0]")},
		{"empty contents", ReplaceKey(l.SigBody, "Contents", "<>")},
	} {
		u := l.NewUpdate()
		c := newContent(u)
		u.Set(l.Sig, v.body).Set(l.Page, ReplaceKey(l.PageBody, "Contents", ref(c)))
		add("USF/"+v.name, u.Bytes(), true, "signature_restated", "signature_invalid", "docmdp_violation")
	}

	// The seal's field removed from the form and the page: a file whose
	// signature a reader no longer lists.
	{
		u := l.NewUpdate()
		u.Set(l.AcroForm, ReplaceKey(l.AcroFormBody, "Fields", "[]"))
		u.Set(l.Page, ReplaceKey(l.PageBody, "Annots", "[]"))
		add("USF/signature field removed", u.Bytes(), false, "docmdp_violation")
	}

	// Bytes changed in place inside the signed range: not an update at
	// all. At /signed the file no longer begins with the sealed one.
	{
		b := bytes.Clone(sealed)
		i := bytes.Index(b, []byte("stream\n")) + 40
		b[i] ^= 0x01
		add("Tampered/signed byte changed", b, true, "content_modified", "not_prefix")
		b = bytes.Clone(sealed)
		i = bytes.LastIndex(b, []byte("/Contents <")) + len("/Contents <") + 600
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		add("Tampered/signature value changed", b, false, "content_modified", "signature_invalid", "not_prefix")
	}

	// Incremental Saving Attack: content changed in an update.
	{
		u := l.NewUpdate()
		u.Set(l.Contents, Stream("", malicious))
		add("ISA/content restated", u.Bytes(), true, "docmdp_violation")
		u = l.NewUpdate()
		c := newContent(u)
		u.Set(l.Page, ReplaceKey(l.PageBody, "Contents", ref(c)))
		add("ISA/page content replaced", u.Bytes(), true, "docmdp_violation")
		u = l.NewUpdate()
		c = newContent(u)
		u.Set(l.Page, ReplaceKey(l.PageBody, "Contents", fmt.Sprintf("[%d 0 R %d 0 R]", l.Contents, c)))
		add("ISA/content appended", u.Bytes(), true, "docmdp_violation")
		// The first class: the seal's dictionary without its
		// /Reference (no DocMDP any more), then the content replaced.
		u = l.NewUpdate()
		c = newContent(u)
		u.Set(l.Sig, noRef).Set(l.Page, ReplaceKey(l.PageBody, "Contents", ref(c)))
		add("ISA/docmdp reference dropped", u.Bytes(), true, "signature_restated", "docmdp_violation")
		u = l.NewUpdate()
		c = newContent(u)
		u.Set(l.Root, RemoveKey(l.CatalogBody, "Perms")).Set(l.Page, ReplaceKey(l.PageBody, "Contents", ref(c)))
		add("ISA/perms dropped", u.Bytes(), true, "docmdp_violation")
	}

	// Signature Wrapping: the seal's dictionary written again with a
	// byte range moved to a copy of the signed tail, placed after
	// forged objects.
	{
		br := regexp.MustCompile(`/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`).FindStringSubmatch(l.SigBody)
		if br == nil {
			tb.Fatal("read letter: no /ByteRange")
		}
		b1, _ := strconv.Atoi(br[1])
		b2, _ := strconv.Atoi(br[2])
		n2, _ := strconv.Atoi(br[3])
		u := l.NewUpdate()
		c := newContent(u)
		u.Set(l.Page, ReplaceKey(l.PageBody, "Contents", ref(c)))
		body, _ := u.body()
		moved := len(body) + len(l.SigBody) + 1000 // past the restated dictionary and the table
		u.Set(l.Sig, ReplaceKey(l.SigBody, "ByteRange", fmt.Sprintf("[0 %d %d %d]", b1, moved, n2)))
		pdf := u.Bytes()
		pad := moved - len(pdf)
		if pad > 0 {
			pdf = append(pdf, bytes.Repeat([]byte(" "), pad)...)
			pdf = append(pdf, sealed[b2:b2+n2]...)
		}
		add("SWA/byte range moved", pdf, true, "signature_restated", "signature_invalid", "docmdp_violation", "trailing_data")
	}

	// Shadow attacks: hide (an overlay over the page), replace (the
	// page's fonts swapped), hide-and-replace (a whole new document).
	{
		u := l.NewUpdate()
		c := u.New()
		u.Set(c, Stream("", "1 1 1 rg 0 0 612 792 re f"))
		u.Set(l.Page, ReplaceKey(l.PageBody, "Contents", fmt.Sprintf("[%d 0 R %d 0 R]", l.Contents, c)))
		add("Shadow/hide", u.Bytes(), true, "docmdp_violation")

		u = l.NewUpdate()
		res := l.Object(tb, l.Resources)
		u.Set(l.Resources, regexp.MustCompile(`/F\d+\s+\d+\s+0\s+R`).ReplaceAllString(res, "/F1 << /Type /Font /Subtype /Type1 /BaseFont /Courier >>"))
		add("Shadow/replace fonts", u.Bytes(), true, "docmdp_violation")

		u = l.NewUpdate()
		cat, pages, page, cont := u.New(), u.New(), u.New(), u.New()
		u.Set(cont, Stream("", malicious))
		u.Set(page, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>", pages, cont))
		u.Set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
		u.Set(cat, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R /AcroForm %d 0 R /Perms << /DocMDP %d 0 R >> >>", pages, l.AcroForm, l.Sig))
		u.Root = cat
		add("Shadow/hide and replace", u.Bytes(), true, "docmdp_violation")
	}

	// Certification attacks: the Evil Annotation Attack (an annotation
	// over the page), with and without /FT /Sig, and the Sneaky
	// Signature Attack (a visible signature field nobody signed).
	{
		annots := func(u *Update, extra int) {
			u.Set(l.Page, ReplaceKey(l.PageBody, "Annots", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, extra)))
		}
		u := l.NewUpdate()
		a := u.New()
		u.Set(a, fmt.Sprintf("<< /Type /Annot /Subtype /FreeText /Rect [50 380 550 480] /Contents (IMPORTO APPROVATO: 1.000.000 EUR) /DA (/Helv 24 Tf 0 0 1 rg) /P %d 0 R /F 4 >>", l.Page))
		annots(u, a)
		add("EAA/free text", u.Bytes(), true, "annotation_added")

		u = l.NewUpdate()
		a = u.New()
		ap := u.New()
		u.Set(ap, Stream("/Type /XObject /Subtype /Form /BBox [0 0 500 100] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>", "BT /F1 24 Tf 10 40 Td (IMPORTO APPROVATO) Tj ET"))
		u.Set(a, fmt.Sprintf("<< /Type /Annot /Subtype /Stamp /FT /Sig /T (Forged) /Rect [50 380 550 480] /AP << /N %d 0 R >> /P %d 0 R /F 4 >>", ap, l.Page))
		annots(u, a)
		u.Set(l.AcroForm, ReplaceKey(l.AcroFormBody, "Fields", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, a)))
		add("EAA/stamp claiming /FT /Sig", u.Bytes(), true, "sig_annotation_not_widget")

		u = l.NewUpdate()
		a = u.New()
		ap = u.New()
		u.Set(ap, Stream("/Type /XObject /Subtype /Form /BBox [0 0 500 100] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>", "BT /F1 24 Tf 10 40 Td (Firmato: Il Sindaco) Tj ET"))
		u.Set(a, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sneaky) /Rect [50 380 550 480] /AP << /N %d 0 R >> /P %d 0 R /F 4 >>", ap, l.Page))
		annots(u, a)
		u.Set(l.AcroForm, ReplaceKey(l.AcroFormBody, "Fields", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, a)))
		add("SSA/unsigned visible signature field", u.Bytes(), true, "unsigned_signature_appearance")

		// The same visible field with a value that looks like a new
		// signature but that no verifier checks: a widget only in the
		// page's /Annots, outside the form; and a field whose value sits
		// on a parent that its widget, the terminal field, does not carry.
		forged := func(u *Update) (ap, sd int) {
			ap, sd = u.New(), u.New()
			u.Set(ap, Stream("/Type /XObject /Subtype /Form /BBox [0 0 500 100] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>", "BT /F1 24 Tf 10 40 Td (Firmato: Il Sindaco) Tj ET"))
			u.Set(sd, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 99999999] /Contents <00> >>")
			return ap, sd
		}
		u = l.NewUpdate()
		a = u.New()
		ap, sd := forged(u)
		u.Set(a, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sindaco) /V %d 0 R /Rect [50 380 550 480] /AP << /N %d 0 R >> /P %d 0 R /F 4 >>", sd, ap, l.Page))
		annots(u, a)
		add("SSA/signature widget outside the form", u.Bytes(), true, "unsigned_signature_appearance")

		u = l.NewUpdate()
		a, f := u.New(), u.New()
		ap, sd = forged(u)
		u.Set(f, fmt.Sprintf("<< /FT /Sig /T (Sindaco) /V %d 0 R /Kids [%d 0 R] >>", sd, a))
		u.Set(a, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /Parent %d 0 R /Rect [50 380 550 480] /AP << /N %d 0 R >> /P %d 0 R /F 4 >>", f, ap, l.Page))
		annots(u, a)
		u.Set(l.AcroForm, ReplaceKey(l.AcroFormBody, "Fields", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, f)))
		add("SSA/signature value on a parent field", u.Bytes(), true, "unsigned_signature_appearance")
	}

	// Changes that are not on the page but change what readers show or
	// run: XFA, /Info, /Metadata.
	{
		u := l.NewUpdate()
		x := u.New()
		u.Set(x, Stream("", `<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform><draw><value><text>IMPORTO APPROVATO</text></value></draw></subform></template></xdp:xdp>`))
		u.Set(l.AcroForm, ReplaceKey(l.AcroFormBody, "XFA", ref(x)))
		add("Form/XFA added", u.Bytes(), false, "xfa_added")

		u = l.NewUpdate()
		u.Set(l.Info, "<< /Title (Approvazione di 1.000.000 EUR) /Producer (faldone) >>")
		add("Info/title changed", u.Bytes(), false, "info_changed")

		u = l.NewUpdate()
		info := u.New()
		u.Set(info, "<< /Title (Approvazione di 1.000.000 EUR) >>")
		u.Info = info
		add("Info/new information dictionary", u.Bytes(), false, "info_changed")

		u = l.NewUpdate()
		m := u.New()
		u.Set(m, Stream("/Type /Metadata /Subtype /XML", `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Approvazione di 1.000.000 EUR</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>`))
		u.Set(l.Root, ReplaceKey(l.CatalogBody, "Metadata", ref(m)))
		add("Info/metadata added", u.Bytes(), false, "metadata_changed")
	}

	// Parser differentials: what one reader sees and another does not.
	{
		// Objects after the last %%EOF, with no cross-reference: mupdf
		// repairs the file and shows them.
		var b bytes.Buffer
		b.Write(sealed)
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", l.Contents, Stream("", malicious))
		add("Differential/objects after the last EOF", b.Bytes(), true, "trailing_data", "unlisted_object")

		// One update defining the content twice: the table points at the
		// first, a reader that scans finds the second.
		u := l.NewUpdate()
		body, _ := u.body()
		first := len(body)
		body = fmt.Appendf(body, "%d 0 obj\n%s\nendobj\n", l.Contents, Stream("", "% nothing"))
		body = fmt.Appendf(body, "%d 0 obj\n%s\nendobj\n", l.Contents, Stream("", malicious))
		x := len(body)
		body = fmt.Appendf(body, "xref\n%d 1\n%010d 00000 n \n%sstartxref\n%d\n%%%%EOF\n", l.Contents, first, u.trailer(), x)
		add("Differential/object defined twice", body, true, "duplicate_object")

		// /Prev skipping the seal's revision.
		u = l.NewUpdate()
		u.Set(l.Contents, Stream("", malicious))
		first = firstStartxref(sealed)
		u.Prev = first
		add("Differential/prev skips a revision", u.Bytes(), true, "prev_chain_broken")

		// startxref not at the last section: two sections, startxref at
		// the first.
		u = l.NewUpdate()
		u.Set(l.Contents, Stream("", "% nothing"))
		body, offs := u.body()
		x1 := len(body)
		body = fmt.Appendf(body, "%s%s", xrefTable(offs), u.trailer())
		off2 := len(body)
		body = fmt.Appendf(body, "%d 0 obj\n%s\nendobj\n", l.Contents, Stream("", malicious))
		u2 := *u
		u2.Prev = x1
		body = fmt.Appendf(body, "%s%sstartxref\n%d\n%%%%EOF\n", xrefTable(map[int]int{l.Contents: off2}), u2.trailer(), x1)
		add("Differential/startxref not at the last section", body, true, "startxref_mismatch")

		// Hybrid section: the table lists only the /XRefStm stream, so a
		// reader that honours the table keeps the signed content; the
		// stream, which a stream-preferring parser reads, replaces it.
		row := func(typ, f1, f2 int) []byte {
			return []byte{byte(typ), byte(f1 >> 24), byte(f1 >> 16), byte(f1 >> 8), byte(f1), byte(f2 >> 8), byte(f2)}
		}
		u = l.NewUpdate()
		u.Set(l.Contents, Stream("", malicious))
		body, offs = u.body()
		stmNum := u.New()
		stmOff := len(body)
		data := row(1, offs[l.Contents], 0)
		body = fmt.Appendf(body, "%d 0 obj\n<< /Type /XRef /W [1 4 2] /Index [%d 1] /Size %d /Length %d >>\nstream\n%s\nendstream\nendobj\n", stmNum, l.Contents, u.next, len(data), data)
		x = len(body)
		u.Trailer = fmt.Sprintf("/XRefStm %d ", stmOff)
		body = fmt.Appendf(body, "%s%sstartxref\n%d\n%%%%EOF\n", xrefTable(map[int]int{stmNum: stmOff}), u.trailer(), x)
		add("Differential/hybrid table and stream disagree", body, true, "xref_hybrid_mismatch")

		// An object stream redefining the signed content object, listed
		// by a cross-reference stream.
		u = l.NewUpdate()
		body, _ = u.body()
		objNum, xNum := u.New(), u.New()
		pageBody := ReplaceKey(l.PageBody, "Contents", fmt.Sprintf("[%d 0 R]", l.Contents))
		pageBody = ReplaceKey(pageBody, "Rotate", "90")
		head := fmt.Sprintf("%d 0 ", l.Page)
		stm := head + pageBody
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write([]byte(stm))
		zw.Close()
		objOff := len(body)
		body = fmt.Appendf(body, "%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", objNum, len(head), z.Len(), z.Bytes())
		xOff := len(body)
		data = slices.Concat(row(1, objOff, 0), row(2, objNum, 0), row(1, xOff, 0))
		body = fmt.Appendf(body, "%d 0 obj\n<< /Type /XRef /W [1 4 2] /Index [%d 1 %d 1 %d 1] /Size %d /Root %d 0 R /Info %d 0 R /Prev %d /Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n",
			xNum, objNum, l.Page, xNum, u.next, l.Root, l.Info, l.StartXref, len(data), data, xOff)
		add("Differential/object stream redefines a signed object", body, true, "objstm_redefines_signed")
	}
	// Long-term validation data as cover: a /DSS added (the catalog
	// written again) with a page content changed in the same update, a
	// /DSS whose certificate "stream" is the page's content stream
	// written again, and a document time-stamp whose update also
	// replaces the page's content.
	{
		u := l.NewUpdate()
		cert, dss := u.New(), u.New()
		c := newContent(u)
		u.Set(cert, Stream("", "0"))
		u.Set(dss, fmt.Sprintf("<< /Type /DSS /Certs [%d 0 R] >>", cert))
		u.Set(l.Root, ReplaceKey(l.CatalogBody, "DSS", ref(dss)))
		u.Set(l.Page, ReplaceKey(l.PageBody, "Contents", ref(c)))
		add("LTV/DSS with page content replaced", u.Bytes(), true, "docmdp_violation")

		u = l.NewUpdate()
		dss = u.New()
		u.Set(dss, fmt.Sprintf("<< /Type /DSS /Certs [%d 0 R] >>", l.Contents))
		u.Set(l.Contents, Stream("", malicious))
		u.Set(l.Root, ReplaceKey(l.CatalogBody, "DSS", ref(dss)))
		add("LTV/DSS sharing the page content", u.Bytes(), true, "docmdp_violation")

		u = l.NewUpdate()
		field, sig := u.New(), u.New()
		c = newContent(u)
		u.Set(sig, "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange [0 0 0 0] /Contents <00> >>")
		u.Set(field, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Timestamp) /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d 0 R >>", sig, l.Page))
		u.Set(l.AcroForm, ReplaceKey(l.AcroFormBody, "Fields", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, field)))
		u.Set(l.Page, ReplaceKey(ReplaceKey(l.PageBody, "Annots", fmt.Sprintf("[%d 0 R %d 0 R]", l.Field, field)), "Contents", ref(c)))
		add("LTV/document time-stamp with page content replaced", u.Bytes(), true, "docmdp_violation")
	}

	return out
}

func ref(n int) string { return fmt.Sprintf("%d 0 R", n) }

// removeRef drops the /Reference array (the DocMDP transform) from a
// signature dictionary's text, keeping every offset after it.
func removeRef(sig string) string {
	re := regexp.MustCompile(`/Reference\s*\[.*?>>\s*>>\s*\]`)
	return re.ReplaceAllString(sig, "")
}

func firstStartxref(pdf []byte) int {
	m := regexp.MustCompile(`startxref\s+(\d+)`).FindSubmatch(pdf)
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

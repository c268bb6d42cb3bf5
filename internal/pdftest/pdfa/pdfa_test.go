package pdfa

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"faldone/internal/pades"
)

// fontsEnforced makes TestSampleFonts fail on any finding; false makes it
// skip instead, naming every finding (for a font change in progress).
const fontsEnforced = true

func samples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../../samples/*/*.pdf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	return files
}

// TestSamples: every committed sample is PDF/A-2b as far as Check reads.
func TestSamples(t *testing.T) {
	for _, f := range samples(t) {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			pdf, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			Require(t, pdf)
		})
	}
}

// TestSampleFonts runs the font clauses on every sample.
func TestSampleFonts(t *testing.T) {
	missing := map[string]bool{}
	reNum := regexp.MustCompile(`font \d+ `)
	for _, f := range samples(t) {
		pdf, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := CheckFonts(pdf)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, x := range fs {
			if fontsEnforced {
				t.Errorf("%s: %s", f, x)
			}
			missing[reNum.ReplaceAllString(x.String(), "font ")] = true
		}
	}
	if len(missing) > 0 && !fontsEnforced {
		list := make([]string, 0, len(missing))
		for m := range missing {
			list = append(list, m)
		}
		sort.Strings(list)
		t.Skipf("the font clauses are not met yet (set fontsEnforced once they are):\n%s", strings.Join(list, "\n"))
	}
}

func sample(t *testing.T) []byte {
	t.Helper()
	pdf, err := os.ReadFile("../../../samples/loiano/assessment.pdf")
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

// ser writes a value of package pades in PDF syntax.
func ser(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case pades.Name:
		return "/" + string(x)
	case pades.String:
		return fmt.Sprintf("<%X>", []byte(x))
	case pades.Ref:
		return fmt.Sprintf("%d %d R", x.Num, x.Gen)
	case pades.Array:
		var s []string
		for _, e := range x {
			s = append(s, ser(e))
		}
		return "[" + strings.Join(s, " ") + "]"
	case pades.Dict:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("<<")
		for _, k := range keys {
			fmt.Fprintf(&b, " /%s %s", k, ser(x[pades.Name(k)]))
		}
		return b.String() + " >>"
	}
	panic(fmt.Sprintf("ser %T", v))
}

var reStartxref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)

// update appends an incremental update with the objects given (bodies,
// "<< ... >>" or a stream) and a trailer with the old one's /Root, /Info
// and /ID, then the extra trailer entries.
func update(t *testing.T, pdf []byte, objs map[int]string, extra string) []byte {
	t.Helper()
	r, err := pades.Open(pdf)
	if err != nil {
		t.Fatal(err)
	}
	m := reStartxref.FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	tr := r.Trailer()
	size, _ := tr["Size"].(int64)
	var b bytes.Buffer
	b.Write(pdf)
	nums := make([]int, 0, len(objs))
	for n := range objs {
		nums = append(nums, n)
		size = max(size, int64(n+1))
	}
	sort.Ints(nums)
	off := map[int]int{}
	for _, n := range nums {
		off[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, objs[n])
	}
	start := b.Len()
	b.WriteString("xref\n")
	for _, n := range nums {
		fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", n, off[n])
	}
	t2 := pades.Dict{"Size": size, "Root": tr["Root"], "Prev": mustInt(t, m[1])}
	for _, k := range []pades.Name{"Info", "ID"} {
		if tr[k] != nil && !strings.Contains(extra, "/"+string(k)+" ") {
			t2[k] = tr[k]
		}
	}
	s := ser(t2)
	fmt.Fprintf(&b, "trailer\n%s %s>>\nstartxref\n%d\n%%%%EOF\n", s[:len(s)-2], extra, start)
	return b.Bytes()
}

func mustInt(t *testing.T, b []byte) int64 {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fixture reads the sample's catalog, first page and the next free object number.
type fixture struct {
	pdf     []byte
	r       *pades.Reader
	rootNum int
	catalog pades.Dict
	page    page
	next    int
}

func newFixture(t *testing.T) *fixture {
	pdf := sample(t)
	c, err := newChecker(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pl := c.pageList()
	size, _ := c.r.Trailer()["Size"].(int64)
	return &fixture{pdf: pdf, r: c.r, rootNum: c.r.Trailer()["Root"].(pades.Ref).Num, catalog: c.catalog, page: pl[0], next: int(size)}
}

func (f *fixture) withCatalog(k pades.Name, v any) map[int]string {
	c := pades.Dict{}
	for kk, vv := range f.catalog {
		c[kk] = vv
	}
	if v == nil {
		delete(c, k)
	} else {
		c[k] = v
	}
	return map[int]string{f.rootNum: ser(c)}
}

func (f *fixture) withPage(k pades.Name, v any) (int, string) {
	p := pades.Dict{}
	for kk, vv := range f.page.dict {
		p[kk] = vv
	}
	p[k] = v
	return f.page.num, ser(p)
}

func stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

func xmpWith(t *testing.T, pdf []byte, old, new string) string {
	t.Helper()
	r, _ := pades.Open(pdf)
	c := r.Dict(r.Trailer()["Root"])
	s := r.Resolve(c["Metadata"]).(*pades.Stream)
	b, err := r.Decode(s)
	if err != nil || !bytes.Contains(b, []byte(old)) {
		t.Fatalf("xmp has no %q", old)
	}
	return stream("/Type /Metadata /Subtype /XML", strings.Replace(string(b), old, new, 1))
}

// TestCheckFails: every check finds what it is written for, on a sample
// changed in that one respect, in place or by an incremental update.
func TestCheckFails(t *testing.T) {
	f := newFixture(t)
	metaNum := f.catalog["Metadata"].(pades.Ref).Num
	infoNum := f.r.Trailer()["Info"].(pades.Ref).Num
	info := f.r.Dict(f.r.Trailer()["Info"])
	replace := func(old, new string) []byte {
		if len(old) != len(new) || !bytes.Contains(f.pdf, []byte(old)) {
			t.Fatalf("cannot replace %q", old)
		}
		return bytes.Replace(f.pdf, []byte(old), []byte(new), 1)
	}
	n := f.next
	annot := func(body string) map[int]string {
		num, page := f.withPage("Annots", pades.Array{pades.Ref{Num: n}})
		return map[int]string{n: body, num: page}
	}
	content := func(ops string) map[int]string {
		contents := append(pades.Array{}, f.r.Array(f.page.dict["Contents"])...)
		if len(contents) == 0 {
			contents = pades.Array{f.page.dict["Contents"]}
		}
		num, page := f.withPage("Contents", append(contents, pades.Ref{Num: n}))
		return map[int]string{n: stream("", ops), num: page}
	}
	newInfo := func(k pades.Name, v string) map[int]string {
		d := pades.Dict{}
		for kk, vv := range info {
			d[kk] = vv
		}
		d[k] = pades.String(v)
		return map[int]string{infoNum: ser(d)}
	}
	for _, tc := range []struct {
		name, clause string
		pdf          []byte
	}{
		{"header version", "6.1.2", replace("%PDF-1.7", "%PDF-1.8")},
		{"no binary comment", "6.1.2", replace("%\xe2\xe3\xcf\xd3", "%abcd")},
		{"bytes after EOF", "6.1.3", append(bytes.Clone(f.pdf), "junk\n"...)},
		{"no ID", "6.1.3", replace("/ID [<", "/XD [<")},
		{"first ID element changed", "6.1.3", update(t, f.pdf, map[int]string{n: "<< >>"}, "/ID [<00> <00>] ")},
		{"Encrypt", "6.1.3", update(t, f.pdf, map[int]string{n: "<< >>"}, fmt.Sprintf("/Encrypt %d 0 R ", n))},
		{"xref keyword", "6.1.4", bytes.Replace(f.pdf, []byte("\nxref\n0 "), []byte("\nxref \n0 "), 1)}, // after every object: no offset moves
		{"LZW", "6.1.7.2", update(t, f.pdf, map[int]string{n: stream("/Filter /LZWDecode", "x")}, "")},
		{"external stream", "6.1.7.1", update(t, f.pdf, map[int]string{n: stream("/F (x.bin)", "x")}, "")},
		{"stream length", "6.1.7.1", update(t, f.pdf, map[int]string{n: "<< /Length 3 >>\nstream\nabcd\nendstream"}, "")},
		{"long name", "6.1.13", update(t, f.pdf, map[int]string{n: "<< /" + strings.Repeat("a", 128) + " 1 >>"}, "")},
		{"big integer", "6.1.13", update(t, f.pdf, map[int]string{n: "<< /A 3000000000 >>"}, "")},
		{"no output intent", "6.2.3", update(t, f.pdf, f.withCatalog("OutputIntents", nil), "")},
		{"device RGB without intent", "6.2.4.3", update(t, f.pdf, f.withCatalog("OutputIntents", nil), "")},
		{"device CMYK", "6.2.4.3", update(t, f.pdf, content("q 0 0 0 1 k Q"), "")},
		{"undefined operator", "6.2.2", update(t, f.pdf, content("q 1 2 foo Q"), "")},
		{"unknown resource", "6.2.2", update(t, f.pdf, content("q /Nope gs Q"), "")},
		{"q nesting", "6.1.13", update(t, f.pdf, content(strings.Repeat("q ", 29)+strings.Repeat("Q ", 29)), "")},
		{"rendering intent", "6.2.6", update(t, f.pdf, content("/Bogus ri"), "")},
		{"transfer function", "6.2.5", update(t, f.pdf, map[int]string{n: "<< /Type /ExtGState /TR /Identity >>"}, "")},
		{"blend mode", "6.2.10", update(t, f.pdf, map[int]string{n: "<< /Type /ExtGState /BM /Glow >>"}, "")},
		{"interpolated image", "6.2.8", update(t, f.pdf, map[int]string{n: stream("/Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray /Interpolate true", "\x00")}, "")},
		{"PostScript XObject", "6.2.9", update(t, f.pdf, map[int]string{n: stream("/Type /XObject /Subtype /PS", "x")}, "")},
		{"annotation type", "6.3.1", update(t, f.pdf, annot("<< /Type /Annot /Subtype /Movie /Rect [0 0 10 10] /F 4 /AP << /N 1 0 R >> >>"), "")},
		{"annotation not printed", "6.3.2", update(t, f.pdf, annot("<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /F 0 >>"), "")},
		{"annotation hidden", "6.3.2", update(t, f.pdf, annot("<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /F 6 >>"), "")},
		{"annotation without F", "6.3.2", update(t, f.pdf, annot("<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] >>"), "")},
		{"annotation without appearance", "6.3.3", update(t, f.pdf, annot("<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /F 4 >>"), "")},
		{"appearance with D", "6.3.3", update(t, f.pdf, annot("<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /F 4 /AP << /N 1 0 R /D 1 0 R >> >>"), "")},
		{"widget action", "6.4.1", update(t, f.pdf, annot("<< /Type /Annot /Subtype /Widget /FT /Sig /Rect [0 0 0 0] /F 4 /A << /S /URI /URI (x) >> >>"), "")},
		{"NeedAppearances", "6.4.1", update(t, f.pdf, f.withCatalog("AcroForm", pades.Dict{"Fields": pades.Array{}, "NeedAppearances": true}), "")},
		{"XFA", "6.4.2", update(t, f.pdf, f.withCatalog("AcroForm", pades.Dict{"Fields": pades.Array{}, "XFA": pades.Array{}}), "")},
		{"JavaScript action", "6.5.1", update(t, f.pdf, map[int]string{n: "<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>"}, "")},
		{"named action", "6.5.1", update(t, f.pdf, map[int]string{n: "<< /Type /Action /S /Named /N /Print >>"}, "")},
		{"catalog AA", "6.5.2", update(t, f.pdf, f.withCatalog("AA", pades.Dict{}), "")},
		{"embedded file", "6.8", update(t, f.pdf, f.withCatalog("Names", pades.Dict{"EmbeddedFiles": pades.Dict{"Names": pades.Array{pades.String("a"), pades.Dict{}}}}), "")},
		{"Requirements", "6.11", update(t, f.pdf, f.withCatalog("Requirements", pades.Array{}), "")},
		{"no metadata", "6.6.2.1", update(t, f.pdf, f.withCatalog("Metadata", nil), "")},
		{"metadata not well-formed", "6.6.2.1", update(t, f.pdf, map[int]string{metaNum: xmpWith(t, f.pdf, "</rdf:RDF>", "</rdf:RFD>")}, "")},
		{"xpacket encoding", "6.6.2.1", update(t, f.pdf, map[int]string{metaNum: xmpWith(t, f.pdf, "<?xpacket begin=\"\ufeff\"", "<?xpacket begin=\"\ufeff\" encoding=\"UTF-8\"")}, "")},
		{"pdfaid part", "6.6.4", update(t, f.pdf, map[int]string{metaNum: xmpWith(t, f.pdf, "<pdfaid:part>2<", "<pdfaid:part>1<")}, "")},
		{"unknown schema", "6.6.2.3.1", update(t, f.pdf, map[int]string{metaNum: xmpWith(t, f.pdf, "<pdfaid:part>", "<x:y xmlns:x=\"urn:x\">1</x:y><pdfaid:part>")}, "")},
		{"XMP producer differs", "6.6.3", update(t, f.pdf, map[int]string{metaNum: xmpWith(t, f.pdf, "</pdf:Producer>", " 2</pdf:Producer>")}, "")},
		{"Info title differs", "6.6.3", update(t, f.pdf, newInfo("Title", "Altro titolo"), "")},
		{"Info date differs", "6.6.3", update(t, f.pdf, newInfo("ModDate", "D:20200101000000Z"), "")},
		{"dc:language", "faldone", update(t, f.pdf, f.withCatalog("Lang", pades.String("en")), "")},
		{"page too small", "6.1.13", update(t, f.pdf, func() map[int]string {
			n, p := f.withPage("MediaBox", pades.Array{int64(0), int64(0), int64(2), int64(2)})
			return map[int]string{n: p}
		}(), "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := Check(tc.pdf)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range fs {
				if x.Clause == tc.clause {
					t.Log(x)
					return
				}
			}
			t.Errorf("no finding of %s among %v", tc.clause, fs)
		})
	}
}

// TestCheckFontsFails: every font check finds what it is written for, on
// the sample's first Type 0 font changed by an incremental update; and a
// tagged name ends the tag findings.
func TestCheckFontsFails(t *testing.T) {
	f := newFixture(t)
	var typ0, cid, fd pades.Ref
	var typ0D, cidD, fdD pades.Dict
	for _, v := range f.r.Dict(f.page.resources["Font"]) {
		if d := f.r.Dict(v); d != nil && d["DescendantFonts"] != nil {
			typ0, typ0D = v.(pades.Ref), d
			cid = f.r.Array(d["DescendantFonts"])[0].(pades.Ref)
			cidD = f.r.Dict(cid)
			fd = cidD["FontDescriptor"].(pades.Ref)
			fdD = f.r.Dict(fd)
			break
		}
	}
	if typ0D == nil {
		t.Fatal("no Type 0 font on page 1")
	}
	with := func(d pades.Dict, k pades.Name, v any) string {
		c := pades.Dict{}
		for kk, vv := range d {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return ser(c)
	}
	n := f.next
	zeros := strings.Repeat("\x00", 2*65536)
	tagged := func(d pades.Dict, k pades.Name) string {
		return with(d, k, pades.Name("ABCDEF+"+string(d[k].(pades.Name))))
	}
	for _, tc := range []struct {
		name, clause string
		objs         map[int]string
		absent       string // a finding that must not be there
	}{
		{"notdef", "6.2.11.8", map[int]string{cid.Num: with(cidD, "CIDToGIDMap", pades.Ref{Num: n}), n: stream("", zeros)}, ""},
		{"widths", "6.2.11.5", map[int]string{cid.Num: with(cidD, "W", pades.Array{int64(0), int64(65535), int64(1)})}, ""},
		{"not embedded", "6.2.11.4.1", map[int]string{fd.Num: with(fdD, "FontFile2", nil)}, ""},
		{"no CIDToGIDMap", "6.2.11.3.2", map[int]string{cid.Num: with(cidD, "CIDToGIDMap", nil)}, ""},
		{"no ToUnicode", "faldone", map[int]string{typ0.Num: with(typ0D, "ToUnicode", nil)}, ""},
		{"CMap", "6.2.11.3.3", map[int]string{typ0.Num: with(typ0D, "Encoding", pades.Name("BogusCMap"))}, ""},
		{"tagged", "", map[int]string{typ0.Num: tagged(typ0D, "BaseFont"), cid.Num: tagged(cidD, "BaseFont"), fd.Num: tagged(fdD, "FontName")},
			fmt.Sprintf("font %d (ABCDEF+%s): subset", typ0.Num, typ0D["BaseFont"].(pades.Name))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := CheckFonts(update(t, f.pdf, tc.objs, ""))
			if err != nil {
				t.Fatal(err)
			}
			found := tc.clause == ""
			for _, x := range fs {
				if x.Clause == tc.clause {
					t.Log(x)
					found = true
				}
				if tc.absent != "" && strings.Contains(x.What, tc.absent) {
					t.Errorf("still %s", x)
				}
			}
			if !found {
				t.Errorf("no finding of %s among %v", tc.clause, fs)
			}
		})
	}
}

package render

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/phpdave11/gofpdf"

	"faldone/internal/pdftest/pdfa"
)

// TestUAPartHook: an XMP packet that declares PDF/UA (PDFUAPart 1) is
// well-formed and describes pdfuaid in a PDF/A extension schema, so a
// tagged output can declare it with one field and stay PDF/A.
func TestUAPartHook(t *testing.T) {
	x := xmpMeta{Title: "Titolo <&>", Author: "Formez PA", Producer: "faldone", Lang: "it", Date: time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC), PDFUAPart: 1}
	p := x.packet()
	dec := xml.NewDecoder(bytes.NewReader(p))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("packet not well-formed: %v\n%s", err, p)
		}
	}
	for _, want := range []string{"<pdfuaid:part>1</pdfuaid:part>", "<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>", "Titolo &lt;&amp;&gt;"} {
		if !bytes.Contains(p, []byte(want)) {
			t.Errorf("packet lacks %s", want)
		}
	}
	// In a file: the metadata clauses hold with the extension schema.
	doc := gofpdf.New("P", "mm", "A4", "")
	doc.AddPage()
	var b bytes.Buffer
	if err := doc.Output(&b); err != nil {
		t.Fatal(err)
	}
	root, err := refIn(b.Bytes()[bytes.LastIndex(b.Bytes(), []byte("trailer")):], "/Root")
	if err != nil {
		t.Fatal(err)
	}
	out, err := archival(b.Bytes(), root, x)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := pdfa.Check(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if strings.HasPrefix(f.Clause, "6.6.2") || f.Clause == "6.6.4" {
			t.Error(f)
		}
	}
	if x.PDFUAPart = 0; bytes.Contains(x.packet(), []byte("pdfua")) {
		t.Error("a packet without PDFUAPart mentions PDF/UA")
	}
}

// BenchmarkArchival is what the PDF/A step adds to a render: the XMP
// packet, the cached sRGB profile, the copy of the file and its hash for
// the /ID, on the rendered assessment of Loiano (34 KB).
func BenchmarkArchival(b *testing.B) {
	pdf, err := os.ReadFile("../../samples/loiano/assessment.pdf")
	if err != nil {
		b.Fatal(err)
	}
	root, err := refIn(pdf[bytes.LastIndex(pdf, []byte("trailer")):], "/Root")
	if err != nil {
		b.Fatal(err)
	}
	x := xmpMeta{Title: "Report", Author: "Formez PA", Subject: "Assessment", Producer: "faldone", Lang: "it", Date: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := archival(pdf, root, x); err != nil {
			b.Fatal(err)
		}
	}
}

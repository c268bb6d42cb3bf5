package render

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	_ "embed"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"faldone/internal/faldone"
)

// ConformancePDFA2b names PDF/A-2 level B (ISO 19005-2), which every
// rendered document meets: checked clause by clause by
// internal/pdftest/pdfa on every sample and every sealed kind.
const ConformancePDFA2b = "PDF/A-2b"

// ConformancePDFUA1 names PDF/UA-1 (ISO 14289-1), which every rendered
// document declares in its XMP: its structure tree, marked content,
// alternate texts and languages are read back with poppler and qpdf for
// every kind (internal/docs TestTaggedReadingOrder, internal/pdftest).
const ConformancePDFUA1 = "PDF/UA-1"

// Conformance names the standards every rendered document meets, as the
// record, the API and the verification page report them.
func Conformance() []string {
	return []string{ConformancePDFA2b, ConformancePDFUA1}
}

// declaredUAPart is the part of ISO 14289 (PDF/UA) the output declares in
// its XMP metadata; 0 declares none. The output is tagged (tag.go).
const declaredUAPart = UAPart

// srgbProfile is the sRGB ICC profile of the PDF/A OutputIntent (from
// Debian's icc-profiles-free, Zlib licence: see icc/README.md).
//
//go:embed icc/sRGB.icc
var srgbProfile []byte

// srgbStream is the profile compressed once, as an ICC stream's data.
var srgbStream = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	_, _ = w.Write(srgbProfile)
	_ = w.Close()
	return b.Bytes()
})

// xmpMeta is what the XMP packet says: each entry equals its Info
// dictionary entry (ISO 19005-2 6.6.3), plus the conformance claims.
type xmpMeta struct {
	Title, Author, Subject, Keywords, Creator, Producer string
	Lang                                                string
	Date                                                time.Time // CreateDate and ModifyDate
	// PDFUAPart, when not 0, adds pdfuaid:part (ISO 14289) and the PDF/A
	// extension schema that describes it (ISO 19005-2 6.6.2.3).
	PDFUAPart int
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// packet renders the XMP packet: UTF-8, no bytes or encoding attributes in
// the xpacket header (6.6.2.1), only properties of the schemas PDF/A
// predefines, and an extension schema for pdfuaid.
func (x xmpMeta) packet() []byte {
	var b bytes.Buffer
	b.WriteString("<?xpacket begin=\"\ufeff\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n")
	b.WriteString("<rdf:Description rdf:about=\"\"\n xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"\n" +
		" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n" +
		" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"")
	if x.PDFUAPart != 0 {
		b.WriteString("\n xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\"\n" +
			" xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\"\n" +
			" xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\"\n" +
			" xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\"")
	}
	b.WriteString(">\n<pdfaid:part>2</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n")
	b.WriteString("<dc:format>application/pdf</dc:format>\n")
	if x.Title != "" {
		fmt.Fprintf(&b, "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">%s</rdf:li></rdf:Alt></dc:title>\n", xmlText(x.Title))
	}
	if x.Author != "" {
		fmt.Fprintf(&b, "<dc:creator><rdf:Seq><rdf:li>%s</rdf:li></rdf:Seq></dc:creator>\n", xmlText(x.Author))
	}
	if x.Subject != "" {
		fmt.Fprintf(&b, "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">%s</rdf:li></rdf:Alt></dc:description>\n", xmlText(x.Subject))
	}
	if x.Lang != "" {
		fmt.Fprintf(&b, "<dc:language><rdf:Bag><rdf:li>%s</rdf:li></rdf:Bag></dc:language>\n", xmlText(x.Lang))
	}
	d := x.Date.UTC().Format("2006-01-02T15:04:05Z")
	fmt.Fprintf(&b, "<xmp:CreateDate>%s</xmp:CreateDate>\n<xmp:ModifyDate>%s</xmp:ModifyDate>\n", d, d)
	if x.Creator != "" {
		fmt.Fprintf(&b, "<xmp:CreatorTool>%s</xmp:CreatorTool>\n", xmlText(x.Creator))
	}
	if x.Producer != "" {
		fmt.Fprintf(&b, "<pdf:Producer>%s</pdf:Producer>\n", xmlText(x.Producer))
	}
	if x.Keywords != "" {
		fmt.Fprintf(&b, "<pdf:Keywords>%s</pdf:Keywords>\n", xmlText(x.Keywords))
	}
	if x.PDFUAPart != 0 {
		fmt.Fprintf(&b, "<pdfuaid:part>%d</pdfuaid:part>\n", x.PDFUAPart)
		b.WriteString(`<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Part of ISO 14289 to which the document conforms</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
`)
	}
	b.WriteString("</rdf:Description>\n")
	b.WriteString("</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>")
	return b.Bytes()
}

// objectEdit changes the body of object num (between "num 0 obj\n" and
// "\nendobj") of a file archival rewrites.
type objectEdit struct {
	num  int
	body func(old []byte) []byte
}

// archival makes the single-revision file pdf (catalog object root) a
// PDF/A-2b file: it adds the XMP metadata stream and the sRGB OutputIntent
// to the catalog, and a trailer /ID of two equal strings, the first 16
// bytes of the SHA-256 of everything before the cross-reference table, so
// that the same document always gets the same identifier. It makes the
// edits too, those of one object in order and before its own, and shifts
// the offsets of the objects after each: the file is copied once.
func archival(pdf []byte, root int, x xmpMeta, edits ...objectEdit) ([]byte, error) {
	count, err := xrefCount(pdf)
	if err != nil {
		return nil, err
	}
	xmpNum, iccNum, intentNum := count, count+1, count+2
	edits = append(edits, objectEdit{root, func(old []byte) []byte {
		return insertBeforeEnd(old, fmt.Sprintf("/Metadata %d 0 R\n/OutputIntents [%d 0 R]\n", xmpNum, intentNum))
	}})
	xref := bytes.LastIndex(pdf, []byte("\nxref\n")) + 1
	trailer := bytes.LastIndex(pdf, []byte("\ntrailer\n"))
	if xref <= 0 || trailer < xref {
		return nil, fmt.Errorf("finish pdf: no xref table")
	}
	info, err := refIn(pdf[trailer:], "/Info")
	if err != nil {
		return nil, err
	}
	// The edited objects, in the order of the file.
	type span struct {
		num, start, end int // the old body is pdf[start:end]
		body            []byte
	}
	var spans []*span
	for _, e := range edits {
		i := slices.IndexFunc(spans, func(s *span) bool { return s.num == e.num })
		if i < 0 {
			head := []byte("\n" + strconv.Itoa(e.num) + " 0 obj\n")
			start := bytes.Index(pdf[:xref], head)
			if start < 0 {
				return nil, fmt.Errorf("finish pdf: object %d not found", e.num)
			}
			start += len(head)
			rel := bytes.Index(pdf[start:xref], []byte("\nendobj"))
			if rel < 0 {
				return nil, fmt.Errorf("finish pdf: object %d has no end", e.num)
			}
			spans = append(spans, &span{num: e.num, start: start, end: start + rel, body: pdf[start : start+rel]})
			i = len(spans) - 1
		}
		spans[i].body = e.body(spans[i].body)
	}
	slices.SortFunc(spans, func(a, b *span) int { return a.start - b.start })
	shift := func(off int) int {
		n := off
		for _, s := range spans {
			if off >= s.end {
				n += len(s.body) - (s.end - s.start)
			}
		}
		return n
	}
	xmp := x.packet()
	icc := srgbStream()
	var b bytes.Buffer
	b.Grow(len(pdf) + len(xmp) + len(icc) + 2048)
	at := 0
	for _, s := range spans {
		if s.start < at {
			return nil, fmt.Errorf("finish pdf: object %d overlaps another", s.num)
		}
		b.Write(pdf[at:s.start])
		b.Write(s.body)
		at = s.end
	}
	b.Write(pdf[at:xref])
	offsets := make([]int, 0, 3)
	offsets = append(offsets, b.Len())
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n", xmpNum, len(xmp))
	b.Write(xmp)
	b.WriteString("\nendstream\nendobj\n")
	offsets = append(offsets, b.Len())
	fmt.Fprintf(&b, "%d 0 obj\n<< /N 3 /Filter /FlateDecode /Length %d >>\nstream\n", iccNum, len(icc))
	b.Write(icc)
	b.WriteString("\nendstream\nendobj\n")
	offsets = append(offsets, b.Len())
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1)"+
		" /RegistryName (http://www.color.org) /Info (sRGB IEC61966-2.1) /DestOutputProfile %d 0 R >>\nendobj\n", intentNum, iccNum)
	id := sha256.Sum256(b.Bytes())
	start := b.Len()
	// The old table's entries, shifted past the edits; the three objects
	// follow. Entries: "0000000009 00000 n \n", 20 bytes each.
	entries := pdf[xref:trailer]
	nl := bytes.IndexByte(entries[len("xref\n"):], '\n')
	if nl < 0 {
		return nil, fmt.Errorf("finish pdf: bad xref header")
	}
	fmt.Fprintf(&b, "xref\n0 %d\n", count+3)
	old := entries[len("xref\n")+nl+1:]
	if len(old) < 20*count-1 {
		return nil, fmt.Errorf("finish pdf: truncated xref")
	}
	for i := range count {
		e := old[20*i : min(len(old), 20*i+20)]
		if e[17] != 'n' {
			b.Write(e)
			continue
		}
		off, err := strconv.Atoi(string(e[:10]))
		if err != nil {
			return nil, fmt.Errorf("finish pdf: bad xref entry: %w", err)
		}
		fmt.Fprintf(&b, "%010d", shift(off))
		b.Write(e[10:])
	}
	b.Write(old[min(len(old), 20*count):])
	for _, o := range offsets {
		fmt.Fprintf(&b, "\n%010d 00000 n ", o)
	}
	fmt.Fprintf(&b, "\ntrailer\n<<\n/Size %d\n/Root %d 0 R\n/Info %d 0 R\n/ID [<%x> <%x>]\n>>\nstartxref\n%d\n%%%%EOF\n",
		count+3, root, info, id[:16], id[:16], start)
	return b.Bytes(), nil
}

// xrefCount is the number of entries of the writer's single xref subsection "0 n".
func xrefCount(pdf []byte) (int, error) {
	xref := bytes.LastIndex(pdf, []byte("\nxref\n0 "))
	if xref < 0 {
		return 0, fmt.Errorf("finish pdf: no xref table")
	}
	p := xref + len("\nxref\n0 ")
	nl := bytes.IndexByte(pdf[p:], '\n')
	if nl < 0 {
		return 0, fmt.Errorf("finish pdf: bad xref header")
	}
	return strconv.Atoi(string(pdf[p : p+nl]))
}

// xmpFor is the XMP of a document with these facts, as finish writes them
// into the Info dictionary.
func xmpFor(meta faldone.Meta, lang string, date time.Time) xmpMeta {
	return xmpMeta{
		Title: meta.Title, Author: meta.Author, Subject: meta.Subject, Keywords: meta.Keywords,
		Creator: meta.Creator, Producer: meta.Producer, Lang: lang, Date: date,
		PDFUAPart: declaredUAPart,
	}
}

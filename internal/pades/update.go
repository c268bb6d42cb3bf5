package pades

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
)

// update is a planned incremental update: the objects to append, with
// the signature dictionary rendered last so its placeholders can be sized.
type update struct {
	doc     *document
	objects []pendingObject // rewritten and new objects, signature excluded
	sigRef  Ref
	sigDict string // signature dictionary without /ByteRange and /Contents
	size    int    // /Size of the new xref section
	xrefNum int    // object number of the xref stream, 0 for a table
}

type pendingObject struct {
	ref Ref
	val any
}

// planUpdate decides which objects the signature adds or rewrites:
// signature dictionary, merged field/widget, page 1 /Annots, AcroForm
// and, when needed, the catalog.
func planUpdate(doc *document, o *Options, t time.Time) (*update, error) {
	if doc.trailer["Encrypt"] != nil {
		return nil, errors.New("encrypted PDFs are not supported")
	}
	rootRef := doc.trailer["Root"].(Ref)
	catalog := doc.dict(rootRef)
	if catalog == nil {
		return nil, errors.New("catalog not found")
	}
	if err := checkCanSign(doc, catalog, o.Certify); err != nil {
		return nil, err
	}
	pageRef, page, err := firstPage(doc, catalog)
	if err != nil {
		return nil, err
	}
	size := 0
	if s, ok := doc.trailer.int("Size"); ok && s > 0 && s < maxObjects {
		size = int(s)
	}
	for n := range doc.xref {
		size = max(size, n+1)
	}
	next := func() Ref { size++; return Ref{Num: size - 1} }
	up := &update{doc: doc}
	up.sigRef = next()
	fieldRef := next()

	newCatalog := maps.Clone(catalog)
	catalogChanged := false
	rewrite := func(r Ref, v any) { up.objects = append(up.objects, pendingObject{r, v}) }

	// AcroForm and its /Fields.
	var form Dict
	formRef, formIsRef := catalog["AcroForm"].(Ref)
	if f := doc.dict(catalog["AcroForm"]); f != nil {
		form = maps.Clone(f)
	} else {
		form = Dict{}
		formRef, formIsRef = next(), true
		newCatalog["AcroForm"] = formRef
		catalogChanged = true
	}
	name := fieldName(doc, form, o.FieldName)
	if fr, ok := form["Fields"].(Ref); ok && doc.array(fr) != nil {
		rewrite(fr, append(append(Array{}, doc.array(fr)...), fieldRef))
	} else {
		form["Fields"] = append(append(Array{}, doc.array(form["Fields"])...), fieldRef)
	}
	flags, _ := form.int("SigFlags")
	form["SigFlags"] = flags | 3
	if formIsRef {
		rewrite(formRef, form)
	} else {
		newCatalog["AcroForm"] = form
		catalogChanged = true
	}

	// Page 1 /Annots.
	if ar, ok := page["Annots"].(Ref); ok && doc.array(ar) != nil {
		rewrite(ar, append(append(Array{}, doc.array(ar)...), fieldRef))
	} else {
		np := maps.Clone(page)
		np["Annots"] = append(append(Array{}, doc.array(page["Annots"])...), fieldRef)
		rewrite(pageRef, np)
	}

	if o.Certify {
		perms := Dict{}
		if p := doc.dict(catalog["Perms"]); p != nil {
			perms = maps.Clone(p)
		}
		perms["DocMDP"] = up.sigRef
		newCatalog["Perms"] = perms
		catalogChanged = true
		// The catalog's /Perms and the ETSI.CAdES.detached sub-filter are
		// PDF 1.5 and 1.7 features: a file that says it is older (maroto
		// upstream writes %PDF-1.3) is declared 1.7, or validators that honour the
		// version (pdfcpu) ignore /Perms and miss the certification.
		if pdfVersion(doc, catalog) < "1.7" {
			newCatalog["Version"] = Name("1.7")
		}
	}
	if catalogChanged {
		rewrite(rootRef, newCatalog)
	}
	// The widget is printable (F: Print and Locked) and has an appearance,
	// an empty form of zero size, as PDF/A (ISO 19005-2 6.3.2, 6.3.3) asks
	// of every annotation that a reader could show.
	apRef := next()
	rewrite(apRef, &Stream{Dict: Dict{
		"Type": Name("XObject"), "Subtype": Name("Form"),
		"BBox": Array{int64(0), int64(0), int64(0), int64(0)},
	}})
	widget := Dict{
		"Type": Name("Annot"), "Subtype": Name("Widget"), "FT": Name("Sig"),
		"T": textString(name), "V": up.sigRef, "F": int64(132),
		"Rect": Array{int64(0), int64(0), int64(0), int64(0)}, "P": pageRef,
		"AP": Dict{"N": apRef},
	}
	// PDF/UA: the field's description, and its place in a tagged document's
	// structure - for the certification only: after it, DocMDP /P 2 allows
	// a signature's update no change to the structure tree.
	if o.Description != "" {
		widget["TU"] = textString(o.Description)
	}
	if o.Certify {
		if sp := tagWidget(doc, catalog, rewrite, next, fieldRef, pageRef, o.Description); sp >= 0 {
			widget["StructParent"] = sp
		}
	}
	rewrite(fieldRef, widget)
	up.sigDict = sigDictBody(o, t)
	if doc.xrefStream {
		up.xrefNum = next().Num
	}
	up.size = size
	return up, nil
}

// sigDictBody renders the fixed part of the signature dictionary.
func sigDictBody(o *Options, t time.Time) string {
	var b bytes.Buffer
	b.WriteString("/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M ")
	_ = writeObject(&b, String(pdfDate(t)))
	for _, f := range []struct {
		k Name
		v string
	}{{"Name", o.Name}, {"Reason", o.Reason}, {"Location", o.Location}, {"ContactInfo", o.ContactInfo}} {
		if f.v != "" {
			b.WriteByte(' ')
			writeName(&b, f.k)
			b.WriteByte(' ')
			_ = writeObject(&b, textString(f.v))
		}
	}
	if o.Certify {
		b.WriteString(" /Reference [<< /Type /SigRef /TransformMethod /DocMDP" +
			" /TransformParams << /Type /TransformParams /P 2 /V /1.2 >> >>]")
	}
	return b.String()
}

// checkCanSign refuses documents whose existing signatures forbid a new one.
func checkCanSign(doc *document, catalog Dict, certify bool) error {
	if p := doc.dict(doc.dict(catalog["Perms"])["DocMDP"]); p != nil {
		if docMDPLevel(doc, p) == 1 {
			return ErrCertified
		}
	}
	if certify {
		for _, f := range sigFields(doc, catalog) {
			if doc.dict(f.dict["V"]) != nil {
				return errors.New("a certification signature must be the first signature")
			}
		}
	}
	return nil
}

// firstPage walks the page tree down to the first leaf.
func firstPage(doc *document, catalog Dict) (Ref, Dict, error) {
	node := catalog["Pages"]
	for depth := 0; depth < maxDepth; depth++ {
		r, ok := node.(Ref)
		d := doc.dict(node)
		if !ok || d == nil {
			return Ref{}, nil, errors.New("page tree: node is not an indirect dictionary")
		}
		if d.name("Type") == "Page" {
			return r, d, nil
		}
		kids := doc.array(d["Kids"])
		if len(kids) == 0 {
			return Ref{}, nil, errors.New("page tree: no pages")
		}
		node = kids[0]
	}
	return Ref{}, nil, errors.New("page tree: too deep")
}

// fieldName returns want (default "Signature1") made unique among the
// form's top-level field names.
func fieldName(doc *document, form Dict, want string) string {
	taken := map[string]bool{}
	for _, f := range doc.array(form["Fields"]) {
		if d := doc.dict(f); d != nil {
			t, _ := d["T"].(String)
			taken[decodeText(t)] = true
		}
	}
	if want != "" && !taken[want] {
		return want
	}
	base := strings.TrimRight(want, "0123456789")
	if base == "" {
		base = "Signature"
	}
	for i := 1; ; i++ {
		if n := base + strconv.Itoa(i); !taken[n] {
			return n
		}
	}
}

// writeObjects writes pdf to b, then the update's objects, and returns
// their offsets.
func (up *update) writeObjects(b *bytes.Buffer, pdf []byte) (map[int]int64, error) {
	b.Write(pdf)
	if n := len(pdf); n > 0 && pdf[n-1] != '\n' && pdf[n-1] != '\r' {
		b.WriteByte('\n')
	}
	offsets := make(map[int]int64, len(up.objects)+1)
	for _, p := range up.objects {
		offsets[p.ref.Num] = int64(b.Len())
		fmt.Fprintf(b, "%d %d obj\n", p.ref.Num, p.ref.Gen)
		if err := writeObject(b, p.val); err != nil {
			return nil, err
		}
		b.WriteString("\nendobj\n")
	}
	return offsets, nil
}

// render appends the update to pdf with a /Contents placeholder of
// contentsLen bytes and returns the output and its byte range.
func (up *update) render(pdf []byte, contentsLen int) ([]byte, [4]int64, error) {
	var br [4]int64
	var b bytes.Buffer
	b.Grow(len(pdf) + 2*contentsLen + 4096)
	offsets, err := up.writeObjects(&b, pdf)
	if err != nil {
		return nil, br, err
	}
	offsets[up.sigRef.Num] = int64(b.Len())
	fmt.Fprintf(&b, "%d 0 obj\n<< %s /ByteRange ", up.sigRef.Num, up.sigDict)
	brPos := b.Len()
	b.WriteString("[0 0000000000 0000000000 0000000000]")
	b.WriteString(" /Contents ")
	contentsPos := b.Len()
	b.WriteByte('<')
	b.WriteString(strings.Repeat("0", 2*contentsLen))
	b.WriteString("> >>\nendobj\n")
	contentsEnd := contentsPos + 2*contentsLen + 2
	if err := up.writeXref(&b, offsets); err != nil {
		return nil, br, err
	}
	out := b.Bytes()
	br = [4]int64{0, int64(contentsPos), int64(contentsEnd), int64(len(out) - contentsEnd)}
	s := fmt.Sprintf("[0 %d %d %d]", br[1], br[2], br[3])
	const width = len("[0 0000000000 0000000000 0000000000]")
	if len(s) > width {
		return nil, br, errors.New("file too large for byte range placeholder")
	}
	copy(out[brPos:], s+strings.Repeat(" ", width-len(s)))
	return out, br, nil
}

// pdfVersion returns the version a file declares, "1.0" to "2.0": the
// catalog's /Version when it is later than the header's, as ISO 32000-1
// 7.5.2 says; "" when neither can be read.
func pdfVersion(doc *document, catalog Dict) string {
	v := ""
	if h, ok := bytes.CutPrefix(doc.data, []byte("%PDF-")); ok && len(h) >= 3 && h[0] >= '1' && h[0] <= '2' && h[1] == '.' && h[2] >= '0' && h[2] <= '9' {
		v = string(h[:3])
	}
	if c := string(catalog.name("Version")); len(c) == 3 && c[1] == '.' && c > v {
		v = c
	}
	return v
}

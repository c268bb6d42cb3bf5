package render

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf16"

	"faldone/internal/faldone"
)

// The PDF writer stamps its own producer and the wall-clock ModDate into the
// document information, which would make every render different. finish
// rewrites the Info dictionary with the document's own facts and adds the
// document language and title display to the catalog, then fixes the
// cross-reference table; archival (pdfa.go) then adds what PDF/A-2b asks. It only understands the classic single-revision
// layout the writer produces and fails on anything else.
func finish(pdf []byte, meta faldone.Meta) ([]byte, error) {
	trailer := bytes.LastIndex(pdf, []byte("\ntrailer\n"))
	if trailer < 0 {
		return nil, fmt.Errorf("finish pdf: no trailer")
	}
	info, err := refIn(pdf[trailer:], "/Info")
	if err != nil {
		return nil, err
	}
	root, err := refIn(pdf[trailer:], "/Root")
	if err != nil {
		return nil, err
	}
	date := meta.Date
	if date.IsZero() {
		date = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	d := pdfString("D:" + date.UTC().Format("20060102150405") + "Z")
	var ib bytes.Buffer
	ib.WriteString("<<\n")
	for _, kv := range [][2]string{
		{"Producer", meta.Producer}, {"Title", meta.Title}, {"Subject", meta.Subject},
		{"Author", meta.Author}, {"Keywords", meta.Keywords}, {"Creator", meta.Creator},
	} {
		if kv[1] != "" {
			fmt.Fprintf(&ib, "/%s %s\n", kv[0], pdfString(kv[1]))
		}
	}
	fmt.Fprintf(&ib, "/CreationDate %s\n/ModDate %s\n>>", d, d)
	out, err := replaceObject(pdf, info, func([]byte) []byte { return ib.Bytes() })
	if err != nil {
		return nil, err
	}
	lang := meta.Lang
	if lang == "" {
		lang = "it"
	}
	out, err = replaceObject(out, root, func(old []byte) []byte {
		end := bytes.LastIndex(old, []byte(">>"))
		if end < 0 {
			return old
		}
		extra := fmt.Sprintf("/Lang %s\n/ViewerPreferences << /DisplayDocTitle true >>\n", pdfString(lang))
		return append(append(append([]byte{}, old[:end]...), extra...), old[end:]...)
	})
	if err != nil {
		return nil, err
	}
	return archival(out, root, xmpFor(meta, lang, date))
}

var reRef = map[string]*regexp.Regexp{
	"/Info": regexp.MustCompile(`/Info (\d+) 0 R`),
	"/Root": regexp.MustCompile(`/Root (\d+) 0 R`),
}

func refIn(b []byte, key string) (int, error) {
	m := reRef[key].FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("finish pdf: no %s in trailer", key)
	}
	return strconv.Atoi(string(m[1]))
}

// replaceObject replaces the body of object num (between "num 0 obj\n" and
// "\nendobj") and shifts the offsets of the objects after it.
func replaceObject(pdf []byte, num int, body func(old []byte) []byte) ([]byte, error) {
	head := []byte(fmt.Sprintf("\n%d 0 obj\n", num))
	start := bytes.Index(pdf, head)
	if start < 0 {
		return nil, fmt.Errorf("finish pdf: object %d not found", num)
	}
	bodyStart := start + len(head)
	rel := bytes.Index(pdf[bodyStart:], []byte("\nendobj"))
	if rel < 0 {
		return nil, fmt.Errorf("finish pdf: object %d has no end", num)
	}
	bodyEnd := bodyStart + rel
	nb := body(pdf[bodyStart:bodyEnd])
	delta := len(nb) - (bodyEnd - bodyStart)
	out := make([]byte, 0, len(pdf)+delta)
	out = append(out, pdf[:bodyStart]...)
	out = append(out, nb...)
	out = append(out, pdf[bodyEnd:]...)

	xref := bytes.LastIndex(out, []byte("\nxref\n"))
	if xref < 0 {
		return nil, fmt.Errorf("finish pdf: no xref table")
	}
	// Entries: "0000000009 00000 n \n", 20 bytes each, after the subsection header.
	p := xref + len("\nxref\n")
	nl := bytes.IndexByte(out[p:], '\n')
	if nl < 0 {
		return nil, fmt.Errorf("finish pdf: bad xref header")
	}
	var first, count int
	if _, err := fmt.Sscanf(string(out[p:p+nl]), "%d %d", &first, &count); err != nil {
		return nil, fmt.Errorf("finish pdf: bad xref header: %w", err)
	}
	p += nl + 1
	if p+20*count > len(out) {
		return nil, fmt.Errorf("finish pdf: truncated xref")
	}
	for i := 0; i < count; i++ {
		e := out[p+20*i : p+20*i+20]
		if e[17] != 'n' {
			continue
		}
		off, err := strconv.Atoi(string(e[:10]))
		if err != nil {
			return nil, fmt.Errorf("finish pdf: bad xref entry: %w", err)
		}
		if off >= bodyEnd {
			copy(e[:10], fmt.Sprintf("%010d", off+delta))
		}
	}
	sx := bytes.LastIndex(out, []byte("\nstartxref\n"))
	if sx < 0 {
		return nil, fmt.Errorf("finish pdf: no startxref")
	}
	q := sx + len("\nstartxref\n")
	e := bytes.IndexByte(out[q:], '\n')
	if e < 0 {
		return nil, fmt.Errorf("finish pdf: bad startxref")
	}
	old, err := strconv.Atoi(string(out[q : q+e]))
	if err != nil {
		return nil, fmt.Errorf("finish pdf: bad startxref: %w", err)
	}
	res := append([]byte{}, out[:q]...)
	res = append(res, strconv.Itoa(old+delta)...)
	res = append(res, out[q+e:]...)
	return res, nil
}

// pdfString encodes s as a PDF text string: a literal for ASCII, else
// UTF-16BE with a byte-order mark, in hex.
func pdfString(s string) string {
	ascii := true
	for _, r := range s {
		if r > 126 || r < 32 {
			ascii = false
			break
		}
	}
	if ascii {
		var b bytes.Buffer
		b.WriteByte('(')
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '(' || c == ')' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte(')')
		return b.String()
	}
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

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
// document language and title display to the catalog; archival (pdfa.go)
// makes these changes, adds what PDF/A-2b asks and rewrites the
// cross-reference table, in one copy of the file. It only understands the
// classic single-revision layout the writer produces and fails on anything
// else.
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
	lang := meta.Lang
	if lang == "" {
		lang = "it"
	}
	return archival(pdf, root, xmpFor(meta, lang, date),
		objectEdit{info, func([]byte) []byte { return ib.Bytes() }},
		objectEdit{root, func(old []byte) []byte {
			extra := fmt.Sprintf("/Lang %s\n/ViewerPreferences << /DisplayDocTitle true >>\n", pdfString(lang))
			return insertBeforeEnd(old, extra)
		}})
}

// insertBeforeEnd inserts extra into the dictionary old before its
// closing ">>" (old itself when it has none).
func insertBeforeEnd(old []byte, extra string) []byte {
	end := bytes.LastIndex(old, []byte(">>"))
	if end < 0 {
		return old
	}
	return append(append(append(make([]byte, 0, len(old)+len(extra)), old[:end]...), extra...), old[end:]...)
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

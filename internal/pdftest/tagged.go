package pdftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"faldone/internal/testenv"
)

// StructNode is an element of a PDF's structure tree as poppler reads it
// (pdfinfo -struct-text): its type, attributes as printed, and its kids in
// order. The text of its marked content is a kid of type "#text" whose Text
// is that text; an object reference is a kid of type "Object" whose
// attribute is "num gen".
type StructNode struct {
	Type  string
	Attrs []string
	Text  []string
	Kids  []*StructNode
}

// AllText is the text of the node and its descendants, in tree order.
func (n *StructNode) AllText() []string {
	out := append([]string{}, n.Text...)
	for _, k := range n.Kids {
		out = append(out, k.AllText()...)
	}
	return out
}

// Elements are the node's kids that are elements, without its text.
func (n *StructNode) Elements() []*StructNode {
	var out []*StructNode
	for _, k := range n.Kids {
		if k.Type != "#text" {
			out = append(out, k)
		}
	}
	return out
}

// Walk calls f on n and every descendant (text too), depth first.
func (n *StructNode) Walk(f func(*StructNode)) {
	f(n)
	for _, k := range n.Kids {
		k.Walk(f)
	}
}

var reStructLine = regexp.MustCompile(`^( *)(?:"(.*)"|(/.*)|([A-Za-z0-9]+)(?: \([A-Za-z]+\))?:?|Object (\d+ \d+))$`)

// StructTree reads the structure tree with pdfinfo -struct-text; it fails
// the test if the file has none.
func StructTree(tb testing.TB, pdf []byte) *StructNode {
	tb.Helper()
	bin := testenv.Tool(tb, "pdfinfo")
	out, err := exec.Command(bin, "-struct-text", write(tb, pdf)).Output()
	if err != nil {
		tb.Fatalf("pdfinfo -struct-text: %v", err)
	}
	root := &StructNode{Type: "(root)"}
	stack := []*StructNode{root}
	depths := []int{-1}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		m := reStructLine.FindStringSubmatch(line)
		if m == nil {
			tb.Fatalf("pdfinfo -struct-text: cannot read line %q", line)
		}
		d := len(m[1])
		// A line belongs to the nearest element above it that is indented
		// less: an element's text and kids are indented more than it.
		for len(depths) > 1 && depths[len(depths)-1] >= d {
			stack, depths = stack[:len(stack)-1], depths[:len(depths)-1]
		}
		switch {
		case m[5] != "": // an object reference (OBJR), such as a widget
			n := stack[len(stack)-1]
			n.Kids = append(n.Kids, &StructNode{Type: "Object", Attrs: []string{m[5]}})
		case m[4] != "":
			n := &StructNode{Type: m[4]}
			p := stack[len(stack)-1]
			p.Kids = append(p.Kids, n)
			stack, depths = append(stack, n), append(depths, d)
		case m[3] != "":
			n := stack[len(stack)-1]
			n.Attrs = append(n.Attrs, strings.TrimSpace(m[3]))
		default:
			n := stack[len(stack)-1]
			n.Kids = append(n.Kids, &StructNode{Type: "#text", Text: []string{m[2]}})
		}
	}
	if len(root.Kids) != 1 {
		tb.Fatalf("pdfinfo -struct-text: %d roots in %q", len(root.Kids), out)
	}
	return root.Kids[0]
}

// Objects are the file's objects as qpdf reads them (qpdf --json=2), by
// "obj:N 0 R"; strings are qpdf's "u:..." text.
func Objects(tb testing.TB, pdf []byte) map[string]any {
	tb.Helper()
	bin := testenv.Tool(tb, "qpdf")
	out, err := exec.Command(bin, "--json=2", "--json-key=qpdf", write(tb, pdf)).Output()
	if err != nil {
		tb.Fatalf("qpdf --json: %v", err)
	}
	var doc struct {
		QPDF []json.RawMessage `json:"qpdf"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.QPDF) < 2 {
		tb.Fatalf("qpdf --json: %v", err)
	}
	var objs map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(doc.QPDF[1], &objs); err != nil {
		tb.Fatalf("qpdf --json: %v", err)
	}
	res := make(map[string]any, len(objs))
	for k, v := range objs {
		res[k] = v.Value
	}
	return res
}

// PageContents are the decoded content streams of the pages, in page order
// (qpdf --qdf).
func PageContents(tb testing.TB, pdf []byte) [][]byte {
	tb.Helper()
	bin := testenv.Tool(tb, "qpdf")
	in := write(tb, pdf)
	outPath := filepath.Join(filepath.Dir(in), "qdf.pdf")
	if out, err := exec.Command(bin, "--qdf", "--object-streams=disable", in, outPath).CombinedOutput(); err != nil {
		tb.Fatalf("qpdf --qdf: %v: %s", err, out)
	}
	q, err := os.ReadFile(outPath)
	if err != nil {
		tb.Fatal(err)
	}
	var pages [][]byte
	for n := 1; ; n++ {
		i := bytes.Index(q, []byte(fmt.Sprintf("%%%% Contents for page %d\n", n)))
		if i < 0 {
			break
		}
		s := bytes.Index(q[i:], []byte("stream\n"))
		e := bytes.Index(q[i:], []byte("\nendstream"))
		if s < 0 || e < s {
			tb.Fatalf("qpdf --qdf: page %d has no content stream", n)
		}
		pages = append(pages, q[i+s+len("stream\n"):i+e])
	}
	return pages
}

// Unmarked reads every page's content stream and returns what a tagged
// PDF must not have (ISO 14289-1, 7.1): a text, path-painting, shading or
// XObject operator outside any marked-content sequence that is either
// tagged with an MCID or an /Artifact, marked content left open at the end
// of a page or closed without being opened, and an MCID used twice on a
// page. It returns the count of marked sequences with an MCID too.
func Unmarked(tb testing.TB, pdf []byte) (problems []string, mcids int) {
	tb.Helper()
	for p, content := range PageContents(tb, pdf) {
		var stack []bool // true: inside tagged content or an artifact
		seen := map[int]bool{}
		var operands []string
		inside := func() bool { return len(stack) > 0 && stack[len(stack)-1] }
		for _, tok := range tokens(content) {
			if !tok.op {
				operands = append(operands, tok.s)
				continue
			}
			switch tok.s {
			case "BMC":
				stack = append(stack, inside() || (len(operands) > 0 && operands[0] == "/Artifact"))
			case "BDC":
				ok := inside()
				if len(operands) > 0 && operands[0] == "/Artifact" {
					ok = true
				}
				if len(operands) > 1 {
					if m := mcidRe.FindStringSubmatch(operands[1]); m != nil {
						id, _ := strconv.Atoi(m[1])
						if seen[id] {
							problems = append(problems, fmt.Sprintf("page %d: MCID %d used twice", p+1, id))
						}
						seen[id] = true
						mcids++
						ok = true
					}
				}
				stack = append(stack, ok)
			case "EMC":
				if len(stack) == 0 {
					problems = append(problems, fmt.Sprintf("page %d: EMC without BMC/BDC", p+1))
				} else {
					stack = stack[:len(stack)-1]
				}
			case "Tj", "TJ", "'", "\"", "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "BI":
				if !inside() {
					problems = append(problems, fmt.Sprintf("page %d: %s %s outside marked content", p+1, strings.Join(operands, " "), tok.s))
				}
			}
			operands = operands[:0]
		}
		if len(stack) > 0 {
			problems = append(problems, fmt.Sprintf("page %d: %d marked-content sequences left open", p+1, len(stack)))
		}
	}
	return problems, mcids
}

// mcidRe finds the MCID of a BDC property list.
var mcidRe = regexp.MustCompile(`/MCID (\d+)`)

type token struct {
	s  string
	op bool
}

// tokens splits a content stream into operands (numbers, names, strings,
// arrays and dictionaries, each whole) and operators.
func tokens(b []byte) []token {
	var out []token
	i := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0:
			i++
		case c == '%':
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '(':
			j := skipString(b, i)
			out = append(out, token{s: string(b[i:j])})
			i = j
		case c == '[' || (c == '<' && i+1 < len(b) && b[i+1] == '<'):
			j := skipNested(b, i)
			out = append(out, token{s: string(b[i:j])})
			i = j
		case c == '<':
			j := bytes.IndexByte(b[i:], '>')
			if j < 0 {
				j = len(b) - i - 1
			}
			out = append(out, token{s: string(b[i : i+j+1])})
			i += j + 1
		case c == '/':
			j := i + 1
			for j < len(b) && !delim(b[j]) {
				j++
			}
			out = append(out, token{s: string(b[i:j])})
			i = j
		default:
			j := i
			for j < len(b) && !delim(b[j]) {
				j++
			}
			if j == i {
				j++
			}
			s := string(b[i:j])
			_, err := strconv.ParseFloat(s, 64)
			out = append(out, token{s: s, op: err != nil && s != "true" && s != "false" && s != "null"})
			i = j
			if s == "ID" { // inline image data up to EI
				k := bytes.Index(b[i:], []byte("EI"))
				if k < 0 {
					return out
				}
				i += k + 2
			}
		}
	}
	return out
}

func delim(c byte) bool {
	return strings.IndexByte(" \t\r\n\f\x00()<>[]{}/%", c) >= 0
}

// skipString returns the end of the literal string starting at b[i] == '('.
func skipString(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(b)
}

// skipNested returns the end of the array or dictionary starting at b[i].
func skipNested(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch {
		case b[j] == '(':
			j = skipString(b, j) - 1
		case b[j] == '[':
			depth++
		case b[j] == ']':
			depth--
		case b[j] == '<' && j+1 < len(b) && b[j+1] == '<':
			depth++
			j++
		case b[j] == '<': // a hex string
			if k := bytes.IndexByte(b[j:], '>'); k > 0 {
				j += k
			}
		case b[j] == '>' && j+1 < len(b) && b[j+1] == '>':
			depth--
			j++
		}
		if depth == 0 {
			return j + 1
		}
	}
	return len(b)
}

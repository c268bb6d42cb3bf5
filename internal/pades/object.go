package pades

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The PDF object model used by the parser and the writer. Values are
// nil (null), bool, int64, float64, Name, String, Array, Dict, Ref and
// *Stream.

// Name is a PDF name object without the leading slash.
type Name string

// String is a PDF string object (literal or hexadecimal), decoded.
type String []byte

// Array is a PDF array.
type Array []any

// Dict is a PDF dictionary keyed by name.
type Dict map[Name]any

// Ref is an indirect reference "Num Gen R".
type Ref struct{ Num, Gen int }

// Stream is a PDF stream: its dictionary and its raw (still encoded) bytes.
type Stream struct {
	Dict Dict
	Raw  []byte
}

// maxDepth bounds the nesting of arrays and dictionaries.
const maxDepth = 64

var errSyntax = errors.New("pdf syntax error")

func isWhite(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// lexer reads PDF tokens from a byte slice.
type lexer struct {
	b   []byte
	pos int
	// skim reads only where values end: hex strings read as empty, and
	// an object's dictionary keeps only the entries that locate and decode
	// a stream (skimKeys), the others skipped without being built.
	skim bool
}

// skimKeys are the dictionary entries a skimming lexer keeps.
var skimKeys = map[Name]bool{"Length": true, "Type": true, "N": true, "First": true, "Filter": true, "DecodeParms": true}

func (l *lexer) skipSpace() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isWhite(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		return
	}
}

// keyword reads a regular token (number, keyword) at the current position.
func (l *lexer) keyword() []byte {
	l.skipSpace()
	start := l.pos
	for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
		l.pos++
	}
	return l.b[start:l.pos]
}

// peekKeyword reports whether the next regular token equals kw, without consuming it.
func (l *lexer) peekKeyword(kw string) bool {
	save := l.pos
	ok := string(l.keyword()) == kw
	l.pos = save
	return ok
}

// object parses one direct object; "N G R" references are recognised.
func (l *lexer) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nesting too deep", errSyntax)
	}
	l.skipSpace()
	if l.pos >= len(l.b) {
		return nil, fmt.Errorf("%w: unexpected end of data", errSyntax)
	}
	switch c := l.b[l.pos]; c {
	case '/':
		l.pos++
		return l.name(), nil
	case '(':
		l.pos++
		return l.literal()
	case '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			return l.dict(depth)
		}
		l.pos++
		return l.hex()
	case '[':
		l.pos++
		arr := Array{}
		for {
			l.skipSpace()
			if l.pos >= len(l.b) {
				return nil, fmt.Errorf("%w: unterminated array", errSyntax)
			}
			if l.b[l.pos] == ']' {
				l.pos++
				return arr, nil
			}
			v, err := l.object(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	}
	tok := l.keyword()
	switch string(tok) {
	case "":
		return nil, fmt.Errorf("%w: unexpected %q at %d", errSyntax, l.b[l.pos], l.pos)
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if c := tok[0]; c != '+' && c != '-' && c != '.' && (c < '0' || c > '9') {
		return nil, fmt.Errorf("%w: unexpected token %q", errSyntax, truncate(tok))
	}
	if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		// Look ahead for "G R".
		save := l.pos
		g := l.keyword()
		if gen, err := strconv.Atoi(string(g)); err == nil && gen >= 0 && n >= 0 && n <= 1<<31 {
			if string(l.keyword()) == "R" {
				return Ref{Num: int(n), Gen: gen}, nil
			}
		}
		l.pos = save
		return n, nil
	}
	if f, err := strconv.ParseFloat(string(tok), 64); err == nil {
		return f, nil
	}
	return nil, fmt.Errorf("%w: unexpected token %q", errSyntax, truncate(tok))
}

func truncate(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return string(b)
}

func (l *lexer) dict(depth int) (Dict, error) {
	d := Dict{}
	for {
		l.skipSpace()
		if l.pos+1 < len(l.b) && l.b[l.pos] == '>' && l.b[l.pos+1] == '>' {
			l.pos += 2
			return d, nil
		}
		if l.pos >= len(l.b) || l.b[l.pos] != '/' {
			return nil, fmt.Errorf("%w: dictionary key expected at %d", errSyntax, l.pos)
		}
		l.pos++
		k := l.name()
		if l.skim && depth == 0 && !skimKeys[k] {
			if err := l.skipValue(depth + 1); err != nil {
				return nil, err
			}
			continue
		}
		v, err := l.object(depth + 1)
		if err != nil {
			return nil, err
		}
		d[k] = v
	}
}

// skipValue moves past one value, a reference "N G R" included, without
// building it.
func (l *lexer) skipValue(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nesting too deep", errSyntax)
	}
	l.skipSpace()
	if l.pos >= len(l.b) {
		return fmt.Errorf("%w: unexpected end of data", errSyntax)
	}
	switch l.b[l.pos] {
	case '/':
		l.pos++
		for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
			l.pos++
		}
		return nil
	case '(':
		l.pos++
		return l.skipLiteral()
	case '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			for {
				l.skipSpace()
				if l.pos+1 < len(l.b) && l.b[l.pos] == '>' && l.b[l.pos+1] == '>' {
					l.pos += 2
					return nil
				}
				if l.pos >= len(l.b) || l.b[l.pos] != '/' {
					return fmt.Errorf("%w: dictionary key expected at %d", errSyntax, l.pos)
				}
				l.pos++
				l.name()
				if err := l.skipValue(depth + 1); err != nil {
					return err
				}
			}
		}
		end := bytes.IndexByte(l.b[l.pos:], '>')
		if end < 0 {
			return fmt.Errorf("%w: unterminated hex string", errSyntax)
		}
		l.pos += end + 1
		return nil
	case '[':
		l.pos++
		for {
			l.skipSpace()
			if l.pos >= len(l.b) {
				return fmt.Errorf("%w: unterminated array", errSyntax)
			}
			if l.b[l.pos] == ']' {
				l.pos++
				return nil
			}
			if err := l.skipValue(depth + 1); err != nil {
				return err
			}
		}
	}
	tok := l.keyword()
	if len(tok) == 0 {
		return fmt.Errorf("%w: unexpected %q at %d", errSyntax, l.b[l.pos], l.pos)
	}
	if c := tok[0]; c >= '0' && c <= '9' {
		// a reference is three tokens: "N G R"
		save := l.pos
		if g := l.keyword(); len(g) > 0 && g[0] >= '0' && g[0] <= '9' && string(l.keyword()) == "R" {
			return nil
		}
		l.pos = save
	}
	return nil
}

// skipLiteral moves past a literal string, after its "(".
func (l *lexer) skipLiteral() error {
	nest := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			nest++
		case ')':
			if nest--; nest == 0 {
				return nil
			}
		case '\\':
			l.pos++
		}
	}
	return fmt.Errorf("%w: unterminated string", errSyntax)
}

func (l *lexer) name() Name {
	var out []byte
	for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
		c := l.b[l.pos]
		if c == '#' && l.pos+2 < len(l.b) {
			if v, err := strconv.ParseUint(string(l.b[l.pos+1:l.pos+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				l.pos += 3
				continue
			}
		}
		out = append(out, c)
		l.pos++
	}
	return Name(out)
}

func (l *lexer) literal() (String, error) {
	var out []byte
	nest := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			nest++
		case ')':
			nest--
			if nest == 0 {
				return String(out), nil
			}
		case '\\':
			if l.pos >= len(l.b) {
				break
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; i++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return nil, fmt.Errorf("%w: unterminated string", errSyntax)
}

func (l *lexer) hex() (String, error) {
	end := bytes.IndexByte(l.b[l.pos:], '>')
	if end < 0 {
		return nil, fmt.Errorf("%w: unterminated hex string", errSyntax)
	}
	raw := l.b[l.pos : l.pos+end]
	l.pos += end + 1
	if l.skim {
		return String{}, nil
	}
	out := make([]byte, 0, len(raw)/2+1)
	var hi byte
	half := false
	for _, c := range raw {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case isWhite(c):
			continue
		default:
			return nil, fmt.Errorf("%w: bad hex digit", errSyntax)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return String(out), nil
}

// Helpers to read typed values out of dictionaries.

func (d Dict) name(k Name) Name {
	n, _ := d[k].(Name)
	return n
}

func (d Dict) int(k Name) (int64, bool) {
	switch v := d[k].(type) {
	case int64:
		return v, true
	case float64:
		return int64(v), true
	}
	return 0, false
}

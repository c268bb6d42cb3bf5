package pdfa

import (
	"bytes"
	"strconv"

	"faldone/internal/pades"
)

// op is one operator of a content stream with its operands, parsed into the
// types of package pades (numbers are int64 or float64).
type op struct {
	name     string
	operands []any
}

// contentOps tokenises a content stream. It understands the whole syntax
// of operands (strings, names, arrays, dictionaries) and skips the data of
// inline images; it stops at the first byte it cannot read and says so.
func contentOps(b []byte) ([]op, error) {
	var ops []op
	var stack []any
	var nest []int // starts of open arrays and dictionaries in stack
	i := 0
	for i < len(b) {
		c := b[i]
		switch {
		case isSpace(c):
			i++
		case c == '%':
			for i < len(b) && b[i] != '\n' && b[i] != '\r' {
				i++
			}
		case c == '(':
			s, n, err := literal(b[i:])
			if err != nil {
				return ops, err
			}
			stack = append(stack, pades.String(s))
			i += n
		case c == '<' && i+1 < len(b) && b[i+1] == '<':
			nest = append(nest, len(stack))
			stack = append(stack, dictMark{})
			i += 2
		case c == '>' && i+1 < len(b) && b[i+1] == '>':
			if len(nest) == 0 {
				return ops, errAt(i, "unbalanced >>")
			}
			start := nest[len(nest)-1]
			nest = nest[:len(nest)-1]
			d := pades.Dict{}
			items := stack[start+1:]
			for k := 0; k+1 < len(items); k += 2 {
				if n, ok := items[k].(pades.Name); ok {
					d[n] = items[k+1]
				}
			}
			stack = append(stack[:start], d)
			i += 2
		case c == '<':
			e := bytes.IndexByte(b[i:], '>')
			if e < 0 {
				return ops, errAt(i, "unterminated hex string")
			}
			stack = append(stack, pades.String(unhex(b[i+1:i+e])))
			i += e + 1
		case c == '[':
			nest = append(nest, len(stack))
			stack = append(stack, arrayMark{})
			i++
		case c == ']':
			if len(nest) == 0 {
				return ops, errAt(i, "unbalanced ]")
			}
			start := nest[len(nest)-1]
			nest = nest[:len(nest)-1]
			a := append(pades.Array{}, stack[start+1:]...)
			stack = append(stack[:start], a)
			i++
		case c == '/':
			j := i + 1
			for j < len(b) && !isSpace(b[j]) && !isDelim(b[j]) {
				j++
			}
			stack = append(stack, pades.Name(b[i+1:j]))
			i = j
		default:
			j := i
			for j < len(b) && !isSpace(b[j]) && !isDelim(b[j]) {
				j++
			}
			if j == i {
				return ops, errAt(i, "unexpected %q", c)
			}
			tok := string(b[i:j])
			i = j
			if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
				stack = append(stack, n)
				continue
			}
			if f, err := strconv.ParseFloat(tok, 64); err == nil && (tok[0] == '.' || tok[0] == '-' || tok[0] == '+' || (tok[0] >= '0' && tok[0] <= '9')) {
				stack = append(stack, f)
				continue
			}
			switch tok {
			case "true", "false":
				stack = append(stack, tok == "true")
				continue
			case "null":
				stack = append(stack, nil)
				continue
			}
			if len(nest) > 0 {
				return ops, errAt(i, "operator %s inside an array or dictionary", tok)
			}
			ops = append(ops, op{tok, stack})
			stack = nil
			if tok == "ID" {
				// Inline image data: up to whitespace, "EI", whitespace.
				k := i + 1
				for {
					e := bytes.Index(b[k:], []byte("EI"))
					if e < 0 {
						return ops, errAt(i, "inline image without EI")
					}
					k += e
					if isSpace(b[k-1]) && (k+2 == len(b) || isSpace(b[k+2])) {
						break
					}
					k += 2
				}
				ops = append(ops, op{name: "EI"})
				i = k + 2
			}
		}
	}
	return ops, nil
}

type dictMark struct{}
type arrayMark struct{}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// literal reads a literal string at the start of b and returns its bytes
// and length in b.
func literal(b []byte) ([]byte, int, error) {
	var out []byte
	depth := 0
	for i := 1; i < len(b); i++ {
		c := b[i]
		switch c {
		case '\\':
			i++
			if i >= len(b) {
				return nil, 0, errAt(i, "unterminated string")
			}
			switch e := b[i]; e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if i+1 < len(b) && b[i+1] == '\n' {
					i++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := 0
					k := 0
					for ; k < 3 && i+k < len(b) && b[i+k] >= '0' && b[i+k] <= '7'; k++ {
						v = v*8 + int(b[i+k]-'0')
					}
					i += k - 1
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		case '(':
			depth++
			out = append(out, c)
		case ')':
			if depth == 0 {
				return out, i + 1, nil
			}
			depth--
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return nil, 0, errAt(len(b), "unterminated string")
}

func unhex(h []byte) []byte {
	var out []byte
	var hi byte
	half := false
	for _, c := range h {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue
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
	return out
}

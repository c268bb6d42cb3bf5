package pades

import (
	"bytes"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"
)

// writeObject serialises a direct object in PDF syntax, or a stream as
// the value of an indirect object.
func writeObject(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case float64:
		buf.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case Name:
		writeName(buf, x)
	case String:
		fmt.Fprintf(buf, "<%X>", []byte(x))
	case Ref:
		fmt.Fprintf(buf, "%d %d R", x.Num, x.Gen)
	case Array:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(' ')
			}
			if err := writeObject(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case *Stream:
		d := maps.Clone(x.Dict)
		if d == nil {
			d = Dict{}
		}
		d["Length"] = int64(len(x.Raw))
		if err := writeObject(buf, d); err != nil {
			return err
		}
		buf.WriteString("\nstream\n")
		buf.Write(x.Raw)
		buf.WriteString("\nendstream")
	case Dict:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		buf.WriteString("<<")
		for _, k := range keys {
			buf.WriteByte(' ')
			writeName(buf, Name(k))
			buf.WriteByte(' ')
			if err := writeObject(buf, x[Name(k)]); err != nil {
				return err
			}
		}
		buf.WriteString(" >>")
	default:
		return fmt.Errorf("write object: unsupported value %T", v)
	}
	return nil
}

func writeName(buf *bytes.Buffer, n Name) {
	buf.WriteByte('/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '#' || isDelim(c) {
			fmt.Fprintf(buf, "#%02X", c)
			continue
		}
		buf.WriteByte(c)
	}
}

// textString encodes s as a PDF text string: ASCII as is, anything else
// as UTF-16BE with a byte order mark.
func textString(s string) String {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return String(s)
	}
	out := []byte{0xfe, 0xff}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return String(out)
}

// pdfDate formats t as a PDF date string, D:YYYYMMDDHHmmSS+HH'mm'.
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("D:%s%c%02d'%02d'", t.Format("20060102150405"), sign, off/3600, off/60%60)
}

// parsePDFDate parses a PDF date string; it returns the zero time on error.
func parsePDFDate(s string) time.Time {
	if len(s) >= 2 && s[:2] == "D:" {
		s = s[2:]
	}
	if len(s) < 4 {
		return time.Time{}
	}
	layout := "20060102150405"
	n := min(len(s), len(layout))
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			n = i
			break
		}
	}
	n -= n % 2
	t, err := time.Parse(layout[:n], s[:n])
	if err != nil {
		return time.Time{}
	}
	rest := s[n:]
	if len(rest) >= 3 && (rest[0] == '+' || rest[0] == '-') {
		h, _ := strconv.Atoi(rest[1:3])
		m := 0
		if len(rest) >= 6 {
			m, _ = strconv.Atoi(rest[4:6])
		}
		off := h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone("", off))
	}
	return t
}

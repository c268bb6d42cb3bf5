package tmpl

import (
	"bytes"
	"encoding/json"
	"errors"
	"faldone/fonts"
	"fmt"
	"io"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"faldone/internal/faldone"
)

// MaxStringLength bounds every string without a declared max.
const MaxStringLength = 4000

// MaxItems bounds every array without a declared max.
const MaxItems = 200

var (
	rePhone = regexp.MustCompile(`^\+?[0-9][0-9 ./-]{4,20}$`)
	reDoc   = regexp.MustCompile(`^[a-z0-9]{10,64}$`)
)

// Input is a decoded, validated input.
type Input struct {
	Lang      string
	Data      map[string]any // the input, as decoded JSON values
	Canonical []byte         // canonical JSON of the input (sorted keys, no spaces)
	Cited     map[string]any // the archived document the input cites, if any
	Draft     bool           // render as an unsealed draft: marked on every page, a footer that claims no signature
}

// Decode parses a JSON request body. A body that is not one JSON object
// is EMALFORMED.
func Decode(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &faldone.Error{Code: faldone.EMALFORMED, MessageID: "error.malformed", Message: "the body is not valid JSON: " + jsonErr(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &faldone.Error{Code: faldone.EMALFORMED, MessageID: "error.malformed", Message: "the body has data after the JSON object"}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &faldone.Error{Code: faldone.EMALFORMED, MessageID: "error.malformed", Message: "the body must be a JSON object"}
	}
	return m, nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// validator collects the field errors of one input.
type validator struct {
	s    *Set
	t    *Template
	lang string
	errs []faldone.FieldError
}

func (v *validator) fail(path, code string, params map[string]any) {
	v.errs = append(v.errs, faldone.FieldError{Path: path, Code: code, Params: params})
}

// Validate checks a decoded input against kind's template. The language comes
// from the input's "lang" field when present, else from fallbackLang. It
// returns EINVALID with one localised FieldError per offending field.
func (s *Set) Validate(kind string, data map[string]any, fallbackLang string) (*Input, error) {
	t, ok := s.byID[kind]
	if !ok {
		return nil, &faldone.Error{Code: faldone.ENOTFOUND, MessageID: "error.unknown_kind", Params: map[string]any{"Kind": kind}, Message: fmt.Sprintf("unknown document kind %q", kind)}
	}
	lang := MatchLanguage("", "")
	if fallbackLang != "" {
		lang = MatchLanguage(fallbackLang, "")
	}
	v := &validator{s: s, t: t, lang: lang}
	if raw, present := data["lang"]; present {
		l, _ := raw.(string)
		if !contains(Languages, l) {
			v.fail("$.lang", "enum", map[string]any{"Values": strings.Join(Languages, ", ")})
		} else {
			v.lang = l
		}
	}
	v.object(t.Fields, data, "$", true)
	if len(v.errs) > 0 {
		return nil, s.invalid(v.lang, v.errs)
	}
	canon, err := Canonical(data)
	if err != nil {
		return nil, fmt.Errorf("canonical input: %w", err)
	}
	return &Input{Lang: v.lang, Data: data, Canonical: canon}, nil
}

// invalid localises field errors into one EINVALID error.
func (s *Set) invalid(lang string, errs []faldone.FieldError) error {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
	l := s.msgs.localizer(lang)
	for i := range errs {
		params := map[string]any{"Path": errs[i].Path}
		for k, val := range errs[i].Params {
			params[k] = val
		}
		msg, err := l.T("error."+errs[i].Code, params)
		if err != nil {
			msg = errs[i].Code
		}
		errs[i].Message = msg
	}
	return &faldone.Error{Code: faldone.EINVALID, MessageID: "error.invalid", Message: "the input is not valid", Fields: errs}
}

// FieldErrors returns an EINVALID error with the given field errors,
// localised in lang, for checks made outside the template (such as the
// archive's).
func (s *Set) FieldErrors(lang string, errs ...faldone.FieldError) error {
	return s.invalid(lang, errs)
}

// Localize renders message id in lang with params (for error messages).
func (s *Set) Localize(lang, id string, params map[string]any) string {
	msg, err := s.msgs.localizer(lang).T(id, params)
	if err != nil {
		return id
	}
	return msg
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *validator) object(fields []Field, obj map[string]any, path string, top bool) {
	known := map[string]bool{}
	for i := range fields {
		f := &fields[i]
		known[f.Name] = true
		val, present := obj[f.Name]
		p := path + "." + f.Name
		if !present || val == nil || val == "" {
			if f.Required {
				v.fail(p, "required", nil)
			}
			continue
		}
		v.value(f, val, p)
	}
	for k := range obj {
		if !known[k] && !(top && k == "lang") {
			v.fail(path+"."+k, "unknown_field", nil)
		}
	}
	// Date order inside the object ("after").
	for _, f := range fields {
		if f.After == "" {
			continue
		}
		a, aok := obj[f.After].(string)
		b, bok := obj[f.Name].(string)
		if !aok || !bok {
			continue
		}
		ta, err1 := time.Parse(time.DateOnly, a)
		tb, err2 := time.Parse(time.DateOnly, b)
		if err1 == nil && err2 == nil && tb.Before(ta) {
			v.fail(path+"."+f.Name, "date_order", map[string]any{"After": f.After, "Date": FormatDate(v.lang, a, false)})
		}
	}
}

func (v *validator) value(f *Field, val any, p string) {
	switch f.Type {
	case "string", "text", "email", "url", "phone", "enum", "date", "comune", "docref":
		s, ok := val.(string)
		if !ok {
			v.fail(p, "type_string", nil)
			return
		}
		v.str(f, s, p)
	case "integer", "number":
		n, ok := val.(json.Number)
		if !ok {
			v.fail(p, "type_number", nil)
			return
		}
		x, err := n.Float64()
		if err != nil || math.IsInf(x, 0) {
			v.fail(p, "type_number", nil)
			return
		}
		if f.Type == "integer" {
			if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
				v.fail(p, "type_integer", nil)
				return
			}
		}
		if f.Min != nil && x < *f.Min {
			v.fail(p, "min", map[string]any{"Min": *f.Min})
		}
		if f.Max != nil && x > *f.Max {
			v.fail(p, "max", map[string]any{"Max": *f.Max})
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.fail(p, "type_boolean", nil)
		}
	case "object":
		o, ok := val.(map[string]any)
		if !ok {
			v.fail(p, "type_object", nil)
			return
		}
		v.object(f.Fields, o, p, false)
	case "array":
		a, ok := val.([]any)
		if !ok {
			v.fail(p, "type_array", nil)
			return
		}
		maxItems := MaxItems
		if f.Max != nil {
			maxItems = int(*f.Max)
		}
		if f.Min != nil && len(a) < int(*f.Min) {
			v.fail(p, "min_items", map[string]any{"Min": *f.Min})
		}
		if len(a) > maxItems {
			v.fail(p, "max_items", map[string]any{"Max": maxItems})
			return
		}
		for i, item := range a {
			ip := fmt.Sprintf("%s[%d]", p, i)
			if item == nil {
				v.fail(ip, "required", nil)
				continue
			}
			v.value(f.Items, item, ip)
		}
	case "checklist":
		v.checklist(val, p)
	}
}

func (v *validator) str(f *Field, s, p string) {
	if !utf8.ValidString(s) {
		v.fail(p, "type_string", nil)
		return
	}
	n := utf8.RuneCountInString(s)
	maxLen := MaxStringLength
	if f.Max != nil {
		maxLen = int(*f.Max)
	}
	if n > maxLen {
		v.fail(p, "max_length", map[string]any{"Max": maxLen})
		return
	}
	if f.Min != nil && n < int(*f.Min) {
		v.fail(p, "min_length", map[string]any{"Min": *f.Min})
	}
	if strings.ContainsAny(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f") {
		v.fail(p, "control_chars", nil)
		return
	}
	for _, r := range s {
		if r != '\r' && !fonts.Printable(r) {
			// No embedded face draws it: refused before anything is rendered.
			v.fail(p, "unprintable", map[string]any{"Char": fmt.Sprintf("%c", r), "Code": fmt.Sprintf("U+%04X", r)})
			return
		}
	}
	if f.re != nil && !f.re.MatchString(s) {
		v.fail(p, "pattern", map[string]any{"Pattern": f.Pattern})
	}
	switch f.Type {
	case "enum":
		if !contains(f.Enum, s) {
			v.fail(p, "enum", map[string]any{"Values": strings.Join(f.Enum, ", ")})
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			v.fail(p, "date", nil)
		}
	case "email":
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
			v.fail(p, "email", nil)
		}
	case "url":
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.fail(p, "url", nil)
		}
	case "phone":
		if !rePhone.MatchString(s) {
			v.fail(p, "phone", nil)
		}
	case "docref":
		if !reDoc.MatchString(s) {
			v.fail(p, "docref", nil)
		}
	case "comune":
		c, ok := v.s.reg.Lookup(s)
		switch {
		case !ok:
			v.fail(p, "comune_unknown", map[string]any{"Code": s})
		case !c.Small():
			v.fail(p, "comune_too_large", map[string]any{"Name": c.Name, "Population": c.Population, "Max": 5000})
		}
	}
}

func (v *validator) checklist(val any, p string) {
	m, ok := val.(map[string]any)
	if !ok {
		v.fail(p, "type_object", nil)
		return
	}
	known := map[string]bool{}
	for _, a := range v.t.Catalog {
		for _, it := range a.Items {
			known[it.ID] = true
			ip := p + "." + it.ID
			r, present := m[it.ID]
			if !present {
				v.fail(ip, "item_missing", map[string]any{"Item": it.ID})
				continue
			}
			o, ok := r.(map[string]any)
			if !ok {
				v.fail(ip, "type_object", nil)
				continue
			}
			v.object(ratingFields, o, ip, false)
		}
	}
	for k := range m {
		if !known[k] {
			v.fail(p+"."+k, "item_unknown", map[string]any{"Item": k})
		}
	}
}

var ratingFields = []Field{
	{Name: "rating", Type: "enum", Enum: Ratings, Required: true},
	{Name: "note", Type: "text", Max: ptr(1000)},
}

func ptr(f float64) *float64 { return &f }

// Canonical returns the canonical JSON form of a decoded input: object keys
// sorted, no insignificant space, no HTML escaping, numbers as written.
func Canonical(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

package tmpl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
	"time"
)

var monthNames = map[string][12]string{
	"it": {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
}

// funcStubs has the names of the template functions, for syntax checks.
var funcStubs = funcsFor("it", nil)

// funcsFor returns the template functions of one language:
//
//	t "id" [data]   the message id, rendered with data (default: none)
//	date v          a date (YYYY-MM-DD) as 24/11/2026 (24.11.2026 in German)
//	longdate v      a date as "24 novembre 2026", "24 November 2026", "24. November 2026"
//	euro v          an amount as "€ 1.234,56" (en: "€1,234.56")
//	num v           an integer with thousands separators: "4.434" (en: "4,434")
//	pct v           a number in [0,1] as a percentage, "75%"
//	join list sep   the items of a list joined with sep
//	upper, lower    change case
//	default d v     v, or d when v is empty
//	inc n           n+1 (row numbers)
//	delta a b       the change from a to b with its sign: "+12", "-3", "0"
//	decimal v       a number with one decimal, "4,3" ("4.3" in English)
//	sum list key    the sum of the numbers at key of a list of objects
func funcsFor(lang string, l *localizer) template.FuncMap {
	return template.FuncMap{
		"t": func(id string, data ...any) (string, error) {
			if l == nil {
				return "", nil
			}
			var d any
			if len(data) > 0 {
				d = data[0]
			}
			return l.T(id, d)
		},
		"date":     func(v any) string { return FormatDate(lang, v, false) },
		"longdate": func(v any) string { return FormatDate(lang, v, true) },
		"euro":     func(v any) string { return formatEuro(lang, v) },
		"num": func(v any) string {
			f, ok := toFloat(v)
			if !ok {
				return str(v)
			}
			return FormatInt(lang, int64(math.Round(f)))
		},
		"pct": func(v any) string {
			f, _ := toFloat(v)
			return fmt.Sprintf("%.0f%%", math.Round(f*100))
		},
		"join": func(v any, sep string) string {
			list, _ := v.([]any)
			parts := make([]string, 0, len(list))
			for _, x := range list {
				parts = append(parts, fmt.Sprint(x))
			}
			return strings.Join(parts, sep)
		},
		"upper": func(v any) string { return strings.ToUpper(str(v)) },
		"lower": func(v any) string { return strings.ToLower(str(v)) },
		"default": func(d, v any) any {
			if str(v) == "" {
				return d
			}
			return v
		},
		"delta": func(a, b any) string {
			x, _ := toFloat(a)
			y, _ := toFloat(b)
			d := math.Round(y - x)
			switch {
			case d > 0:
				return fmt.Sprintf("+%.0f", d)
			case d < 0:
				return fmt.Sprintf("-%.0f", -d)
			}
			return "0"
		},
		"decimal": func(v any) string {
			x, ok := toFloat(v)
			if !ok {
				return str(v)
			}
			s := fmt.Sprintf("%.1f", x)
			if lang != "en" {
				s = strings.Replace(s, ".", ",", 1)
			}
			return s
		},
		"sum": func(v any, key string) float64 {
			list, _ := v.([]any)
			total := 0.0
			for _, x := range list {
				m, _ := x.(map[string]any)
				f, _ := toFloat(m[key])
				total += f
			}
			return total
		},
		"inc": func(v any) int {
			f, _ := toFloat(v)
			return int(f) + 1
		},
	}
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// FormatDate formats a YYYY-MM-DD date (or time.Time) in lang, short
// (24/11/2026) or long (24 novembre 2026). Anything else is printed as is.
func FormatDate(lang string, v any, long bool) string {
	var tm time.Time
	switch x := v.(type) {
	case time.Time:
		tm = x
	case string:
		p, err := time.Parse(time.DateOnly, x)
		if err != nil {
			return x
		}
		tm = p
	default:
		return str(v)
	}
	if !long {
		if lang == "de" {
			return tm.Format("02.01.2006")
		}
		return tm.Format("02/01/2006")
	}
	months, ok := monthNames[lang]
	if !ok {
		months = monthNames["it"]
	}
	m := months[tm.Month()-1]
	if lang == "de" {
		return fmt.Sprintf("%d. %s %d", tm.Day(), m, tm.Year())
	}
	return fmt.Sprintf("%d %s %d", tm.Day(), m, tm.Year())
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	case interface{ Float64() (float64, error) }:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func formatEuro(lang string, v any) string {
	f, ok := toFloat(v)
	if !ok {
		return str(v)
	}
	cents := int64(math.Round(math.Abs(f) * 100))
	whole, frac := cents/100, cents%100
	digits := strconv.FormatInt(whole, 10)
	thousands, decimal := ".", ","
	if lang == "en" {
		thousands, decimal = ",", "."
	}
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(r)
	}
	sign := ""
	if f < 0 {
		sign = "-"
	}
	if lang == "en" {
		return fmt.Sprintf("%s€%s%s%02d", sign, b.String(), decimal, frac)
	}
	return fmt.Sprintf("%s€ %s%s%02d", sign, b.String(), decimal, frac)
}

// Number is an integer of the template data that prints with the thousands
// separator of the document's language: 4.434 (it, de), 4,434 (en).
type Number struct {
	N    int64
	Lang string
}

// String formats n for its language.
func (n Number) String() string { return FormatInt(n.Lang, n.N) }

// FormatInt writes n with the thousands separator of lang.
func FormatInt(lang string, n int64) string {
	sep := "."
	if lang == "en" {
		sep = ","
	}
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

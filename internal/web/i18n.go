package web

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gofiber/fiber/v2"
)

// Languages of the pages; the first is the default.
var Languages = []string{"it", "en", "de"}

//go:embed locales/*.toml
var localeFS embed.FS

// catalog holds the texts of the pages per language. A text may name
// parameters in braces, {name}, filled by T's pairs of arguments.
type catalog struct {
	texts map[string]map[string]string
}

func loadCatalog() (*catalog, error) {
	c := &catalog{texts: map[string]map[string]string{}}
	for _, l := range Languages {
		var tree map[string]any
		if _, err := toml.DecodeFS(localeFS, "locales/"+l+".toml", &tree); err != nil {
			return nil, fmt.Errorf("web messages %s: %w", l, err)
		}
		m := map[string]string{}
		if err := flatten(m, "", tree); err != nil {
			return nil, fmt.Errorf("web messages %s: %w", l, err)
		}
		c.texts[l] = m
	}
	// Every language has every text.
	for _, l := range Languages[1:] {
		if d := diffKeys(c.texts[Languages[0]], c.texts[l]); d != "" {
			return nil, fmt.Errorf("web messages: %s and %s differ: %s", Languages[0], l, d)
		}
	}
	return c, nil
}

// flatten puts the texts of a TOML tree in m under dotted ids:
// [verify] title = "..." is "verify.title".
func flatten(m map[string]string, prefix string, tree map[string]any) error {
	for k, v := range tree {
		switch v := v.(type) {
		case string:
			m[prefix+k] = v
		case map[string]any:
			if err := flatten(m, prefix+k+".", v); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s%s is not a text", prefix, k)
		}
	}
	return nil
}

func diffKeys(a, b map[string]string) string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, "-"+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "+"+k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// T returns text id in lang with {name} parameters filled from pairs of
// args (name, value). An unknown id is returned as is, so it shows.
func (c *catalog) T(lang, id string, args ...any) string {
	s, ok := c.texts[lang][id]
	if !ok {
		if s, ok = c.texts[Languages[0]][id]; !ok {
			return id
		}
	}
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Has reports whether id is a text.
func (c *catalog) Has(id string) bool {
	_, ok := c.texts[Languages[0]][id]
	return ok
}

const langCookie = "faldone_lang"

// pageLang picks the language of a page: ?lang= (remembered in a cookie),
// else the cookie, else Italian: the pages are Italian unless the visitor
// switches.
func (p *Pages) pageLang(c *fiber.Ctx) string {
	if q := strings.ToLower(c.Query("lang")); q != "" {
		for _, l := range Languages {
			if q == l {
				p.setCookie(c, &fiber.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: fiber.CookieSameSiteLaxMode, HTTPOnly: true})
				return l
			}
		}
	}
	if v := c.Cookies(langCookie); v != "" {
		for _, l := range Languages {
			if v == l {
				return l
			}
		}
	}
	return Languages[0]
}

var rome = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Rome"); err == nil {
		return l
	}
	return time.UTC
}()

var mesi = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}

var monate = [...]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

// longTime writes t in Italian time as people read it: "24 novembre 2026,
// ore 14:05", "24. November 2026, 14:05 Uhr" or "24 November 2026, 14:05".
func longTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(rome)
	if lang == "it" {
		return fmt.Sprintf("%d %s %d, ore %s", t.Day(), mesi[t.Month()-1], t.Year(), t.Format("15:04"))
	}
	if lang == "de" {
		return fmt.Sprintf("%d. %s %d, %s Uhr", t.Day(), monate[t.Month()-1], t.Year(), t.Format("15:04"))
	}
	return t.Format("2 January 2006, 15:04")
}

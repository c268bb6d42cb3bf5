package tmpl

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"text/template"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	i18ntemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
)

// messages are the locale files, one go-i18n bundle, localizer and caching
// template parser per language. A set loaded by LoadChecked reads the
// default language at once and each other one the first time it is asked
// for (a command in Italian reads one file, one in German two).
type messages struct {
	ids   map[string]map[string]string // lang -> id -> source text: every language for Load, the default one for LoadChecked
	langs map[string]*localizer
	// lazy is, for LoadChecked, the locale files not read yet.
	lazy map[string]*lazyLang
}

// lazyLang is a language whose locale file is read at its first use.
type lazyLang struct {
	once sync.Once
	fsys fs.FS
	l    *localizer
}

type localizer struct {
	lang   string
	err    error // its locale file could not be read (LoadChecked): every message fails with it
	loc    *i18n.Localizer
	parser *parser
	// exprs holds the parsed template expressions of the templates'
	// fields (source -> *template.Template), shared by every document of
	// this language: a parsed template may be executed concurrently.
	exprs sync.Map
}

// parser is a go-i18n template parser whose functions are bound to one
// language, so that its parsed templates can be cached.
type parser struct{ funcs template.FuncMap }

func (p *parser) Cacheable() bool { return true }

func (p *parser) Parse(src, left, right string) (i18ntemplate.ParsedTemplate, error) {
	t, err := template.New("").Delims(left, right).Funcs(withText(p.funcs)).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, err
	}
	return &parsed{printMissingAsEmpty(t)}, nil
}

type parsed struct{ t *template.Template }

func (p *parsed) Execute(data any) (string, error) {
	var b strings.Builder
	if err := p.t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func loadMessages(fsys fs.FS, full bool) (*messages, error) {
	m := &messages{ids: map[string]map[string]string{}, langs: map[string]*localizer{}}
	for i, lang := range Languages {
		if !full && i > 0 {
			if m.lazy == nil {
				m.lazy = map[string]*lazyLang{}
			}
			m.lazy[lang] = &lazyLang{fsys: fsys}
			continue
		}
		l, ids, err := loadLanguage(fsys, lang, full)
		if err != nil {
			return nil, err
		}
		m.ids[lang], m.langs[lang] = ids, l
	}
	// Every message must exist in every language.
	for _, lang := range Languages {
		if !full {
			break
		}
		for _, other := range Languages {
			var missing []string
			for id := range m.ids[lang] {
				if _, ok := m.ids[other][id]; !ok {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				sort.Strings(missing)
				return nil, fmt.Errorf("load messages locales/active.%s.toml: missing %s (present in active.%s.toml)", other, strings.Join(missing, ", "), lang)
			}
		}
	}
	return m, nil
}

// loadLanguage reads the locale file of lang into a bundle of its own and
// returns its localizer and its messages' source texts; full also checks
// each message's syntax.
func loadLanguage(fsys fs.FS, lang string, full bool) (*localizer, map[string]string, error) {
	bundle := i18n.NewBundle(language.Italian)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	file := path.Join("locales", "active."+lang+".toml")
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, nil, fmt.Errorf("load messages: %w", err)
	}
	mf, err := bundle.ParseMessageFileBytes(b, file)
	if err != nil {
		return nil, nil, fmt.Errorf("load messages %s: %w", file, err)
	}
	ids := make(map[string]string, len(mf.Messages))
	for _, msg := range mf.Messages {
		if msg.Other == "" {
			return nil, nil, fmt.Errorf("load messages %s: message %q has no text", file, msg.ID)
		}
		if full {
			if _, err := template.New("").Funcs(funcStubs).Parse(msg.Other); err != nil {
				return nil, nil, fmt.Errorf("load messages %s: message %q: %w", file, msg.ID, err)
			}
		}
		ids[msg.ID] = msg.Other
	}
	l := &localizer{lang: lang, loc: i18n.NewLocalizer(bundle, lang)}
	l.parser = &parser{funcs: funcsFor(lang, l)}
	return l, ids, nil
}

// has reports whether a message id exists (in every language, which
// loadMessages guarantees).
func (m *messages) has(id string) bool {
	_, ok := m.ids[Languages[0]][id]
	return ok
}

// source returns the text of a message in the default language.
func (m *messages) source(id string) string { return m.ids[Languages[0]][id] }

// localizer returns the localizer of lang, or of the default language for
// one it does not know. A language of LoadChecked is read here the first
// time; its file is checked by the tests like every embedded one
// (TestLoadChecked), and if it could not be read every message in it
// fails with the reason instead of speaking another language.
func (m *messages) localizer(lang string) *localizer {
	if l, ok := m.langs[lang]; ok {
		return l
	}
	if z, ok := m.lazy[lang]; ok {
		z.once.Do(func() {
			l, _, err := loadLanguage(z.fsys, lang, false)
			if err != nil {
				l = &localizer{lang: lang, err: err}
				l.parser = &parser{funcs: funcsFor(lang, l)}
			}
			z.l = l
		})
		return z.l
	}
	return m.langs[Languages[0]]
}

// T renders message id with data.
func (l *localizer) T(id string, data any) (string, error) {
	if l.err != nil {
		return "", fmt.Errorf("message %s (%s): %w", id, l.lang, l.err)
	}
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, TemplateParser: l.parser})
	if err != nil {
		return "", fmt.Errorf("message %s (%s): %w", id, l.lang, err)
	}
	return s, nil
}

// MatchLanguage picks the supported language for an explicit choice or an
// Accept-Language header; explicit wins, Italian is the default.
func MatchLanguage(explicit, acceptLanguage string) string {
	if explicit != "" {
		for _, l := range Languages {
			if strings.EqualFold(explicit, l) {
				return l
			}
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	supported := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		supported[i] = language.Make(l)
	}
	_, idx, conf := language.NewMatcher(supported).Match(tags...)
	if conf == language.No {
		return Languages[0]
	}
	return Languages[idx]
}

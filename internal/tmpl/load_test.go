package tmpl_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"faldone/internal/comuni"
	"faldone/internal/faldone"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// copyFS copies the embedded templates into a map the test can edit.
func copyFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func edit(t *testing.T, m fstest.MapFS, file, old, new string) {
	t.Helper()
	s := string(m[file].Data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s lacks %q", file, old)
	}
	m[file] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

// TestLoadRefusesBrokenTemplates: each broken template stops the load with
// the file and the reason.
func TestLoadRefusesBrokenTemplates(t *testing.T) {
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, old, new string
		want                 []string
	}{
		{"unknown block", "adesione.yaml", "type: heading", "type: banner", []string{"adesione.yaml", `unknown block type "banner"`}},
		{"unknown key", "adesione.yaml", "    text: adesione.premessa", "    txt: adesione.premessa", []string{"adesione.yaml", "txt"}},
		{"undeclared field in an expression", "adesione.yaml", `value: "{{.pec}}"`, `value: "{{.fax}}"`, []string{"adesione.yaml", ".fax is used but not declared"}},
		{"undeclared field in a message", "locales/active.de.toml", "Gemeinde {{.comune.name}} ({{.comune.sigla}})", "Gemeinde {{.comune.nome}} ({{.comune.sigla}})", []string{"adesione.yaml", `a comune has no "nome"`, "(de)"}},
		{"undeclared sub-field", "piano.yaml", `{{.item.ufficio}}`, `{{.item.stanza}}`, []string{"piano.yaml", ".item.stanza"}},
		{"message missing everywhere", "approvazione.yaml", "text: approvazione.seguito", "text: approvazione.saluti", []string{"approvazione.yaml", `"approvazione.saluti" is missing`}},
		{"message missing in one language", "locales/active.en.toml", "ore = \"Hours\"\n", "", []string{"active.en.toml", "field.ore"}},
		{"bad template syntax", "locales/active.it.toml", `premessa = "Il/La sottoscritto/a {{.firmatario.nome}}`, `premessa = "Il/La sottoscritto/a {{.firmatario.nome`, []string{"active.it.toml", "adesione.premessa"}},
		{"unknown field type", "assessment.yaml", "type: checklist, required: true", "type: grid, required: true", []string{"assessment.yaml", `unknown type "grid"`}},
		{"table widths", "piano.yaml", `value: "{{.item.ore}}", width: 2`, `value: "{{.item.ore}}", width: 3`, []string{"piano.yaml", "add up to 12"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := copyFS(t)
			edit(t, m, tc.file, tc.old, tc.new)
			_, err := tmpl.Load(m, reg)
			if err == nil {
				t.Fatal("Load accepted a broken template")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestTemplateChangeNeedsNoRebuild edits a message and a layout at run time.
func TestTemplateChangeNeedsNoRebuild(t *testing.T) {
	reg, _ := comuni.Default()
	m := copyFS(t)
	edit(t, m, "locales/active.it.toml", `dichiara = "A tal fine il Comune si impegna a:"`, `dichiara = "Il Comune si impegna in particolare a:"`)
	s, err := tmpl.Load(m, reg)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := tmpl.Decode([]byte(`{"comune":"037034","ambito":"A","firmatario":{"nome":"Fabrizio Morganti","ruolo":"sindaco"},"referente":{"nome":"Elena Bonfiglioli","ruolo":"RTD","email":"e.b@comune.loiano.bo.it","telefono":"051 654 3611"},"pec":"comune.loiano@cert.provincia.bo.it","protocollo":{"numero":"0012345","data":"2026-11-24"},"luogo":"Loiano","data":"2026-11-24"}`))
	in, err := s.Validate("adesione", data, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Fill("adesione", in)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range f.Layout.Blocks {
		for _, tx := range b.Text {
			found = found || tx == "Il Comune si impegna in particolare a:"
		}
	}
	if !found {
		t.Error("edited message not used")
	}
}

func TestMatchLanguage(t *testing.T) {
	for _, tc := range []struct{ explicit, accept, want string }{
		{"", "", "it"}, {"", "de-AT,de;q=0.9", "de"}, {"", "en-GB", "en"}, {"", "fr-FR", "it"},
		{"en", "de", "en"}, {"xx", "de", "de"}, {"", "garbage;;;", "it"},
	} {
		if got := tmpl.MatchLanguage(tc.explicit, tc.accept); got != tc.want {
			t.Errorf("MatchLanguage(%q, %q) = %q, want %q", tc.explicit, tc.accept, got, tc.want)
		}
	}
}

// TestLoadChecked: the embedded templates pass every check of Load, so
// that LoadChecked may skip the checks for them, and both make the same
// set: the same templates, schemas and messages. A fault that only the
// skipped checks find is still refused by Load.
func TestLoadChecked(t *testing.T) {
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	full, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := tmpl.LoadChecked(templates.FS, reg)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Join(full.Kinds(), ","), strings.Join(fast.Kinds(), ","); a != b {
		t.Fatalf("kinds %s, checked %s", a, b)
	}
	for _, k := range full.Kinds() {
		a, _ := full.Template(k)
		b, _ := fast.Template(k)
		if a.SHA256 != b.SHA256 || len(a.Fields) != len(b.Fields) {
			t.Errorf("%s: template differs", k)
		}
		sa, _ := full.Schema(k)
		sb, _ := fast.Schema(k)
		if fmt.Sprint(sa) != fmt.Sprint(sb) {
			t.Errorf("%s: schema differs", k)
		}
		for _, lang := range tmpl.Languages {
			if x, y := full.Localize(lang, a.Title, nil), fast.Localize(lang, a.Title, nil); x != y {
				t.Errorf("%s %s: title %q, checked %q", k, lang, x, y)
			}
		}
	}
	// LoadChecked reads a language at its first use: many requests in
	// every language at once, on a set just loaded, read each file once
	// and say what Load's set says.
	lazy, err := tmpl.LoadChecked(templates.FS, reg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		for _, lang := range tmpl.Languages {
			wg.Go(func() {
				for _, k := range full.Kinds() {
					a, _ := full.Template(k)
					if x, y := full.Localize(lang, a.Oggetto, nil), lazy.Localize(lang, a.Oggetto, nil); x != y {
						t.Errorf("%s %s: oggetto %q, read at first use %q", k, lang, x, y)
					}
				}
			})
		}
	}
	wg.Wait()
	// A locale file LoadChecked cannot read when its language is first
	// asked for fails every message of that language, naming the file,
	// and leaves the others speaking.
	broken := copyFS(t)
	broken["locales/active.de.toml"].Data = []byte("title = [\n")
	half, err := tmpl.LoadChecked(broken, reg)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := full.Template(full.Kinds()[0])
	if got := half.Localize("de", first.Title, nil); got != first.Title {
		t.Errorf("a message of an unreadable language: %q, want its id", got)
	}
	var fe *faldone.Error
	if _, err := half.Validate(first.ID, map[string]any{}, "de"); !errors.As(err, &fe) || len(fe.Fields) == 0 || fe.Fields[0].Message != fe.Fields[0].Code {
		t.Errorf("validation in an unreadable language: %v, want field errors named by their codes", err)
	}
	if x, y := full.Localize("it", first.Title, nil), half.Localize("it", first.Title, nil); x != y {
		t.Errorf("Italian beside an unreadable German: %q, want %q", y, x)
	}
	m := copyFS(t)
	m["locales/active.en.toml"].Data = append(m["locales/active.en.toml"].Data, "\n[\"zz.broken\"]\nother = \"{{.X\"\n"...)
	if _, err := tmpl.Load(m, reg); err == nil {
		t.Error("Load accepted a message that does not parse")
	}
}

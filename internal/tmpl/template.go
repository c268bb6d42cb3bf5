// Package tmpl loads the declarative document templates and their message
// files, checks them, validates inputs against them and fills them into a
// faldone.Layout.
//
// A template is a YAML file: its id and version, the input fields, an
// optional checklist catalogue, and the body as a list of blocks. Every text
// a block shows is a message id of the locale files (templates/locales/
// active.{it,en,de}.toml), rendered with the input as template data; block
// values ("value", "name", "place", "item") are Go text/template expressions
// over the same data.
package tmpl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"faldone/internal/comuni"
	"faldone/internal/faldone"
)

// Template is one document kind's declaration.
type Template struct {
	ID      string  `yaml:"id"`
	Version string  `yaml:"version"`
	Title   string  `yaml:"title"`   // Required. Message id of the document's title.
	Oggetto string  `yaml:"oggetto"` // Required. Message id of the subject line.
	Date    string  `yaml:"date"`    // Required. Name of the date field that dates the document.
	Comune  string  `yaml:"comune"`  // Required. Name of the field naming the comune.
	Cites   string  `yaml:"cites"`   // Optional. Name of a docref field citing an earlier document.
	Fields  []Field `yaml:"fields"`
	Catalog []Area  `yaml:"catalog"` // Optional. Checklist catalogue.
	Body    []Block `yaml:"body"`

	File   string `yaml:"-"`
	SHA256 string `yaml:"-"`
}

// Ref returns the reference stored with each document made from t.
func (t *Template) Ref() faldone.TemplateRef {
	return faldone.TemplateRef{ID: t.ID, Version: t.Version, SHA256: t.SHA256}
}

// Field declares one input field.
type Field struct {
	Name     string   `yaml:"name"`
	Type     string   `yaml:"type"`
	Required bool     `yaml:"required"`
	Min      *float64 `yaml:"min"` // minimum value, length or item count
	Max      *float64 `yaml:"max"` // maximum value, length or item count
	Pattern  string   `yaml:"pattern"`
	Enum     []string `yaml:"enum"`
	After    string   `yaml:"after"` // date field of the same object this one must not precede
	Fields   []Field  `yaml:"fields"`
	Items    *Field   `yaml:"items"`
	Example  any      `yaml:"example"`

	re *regexp.Regexp // compiled Pattern
}

// Area is a group of checklist items, such as "Sicurezza".
type Area struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"` // message id
	Items []Item `yaml:"items"`
}

// Item is one checklist item the assessment rates.
type Item struct {
	ID    string `yaml:"id"`
	Ref   string `yaml:"ref"`   // reference to the rule, e.g. "CAD art. 17"
	Label string `yaml:"label"` // message id
}

// Block is one block of a template's body.
type Block struct {
	Type    string    `yaml:"type"`
	Text    string    `yaml:"text"`  // message id
	Title   string    `yaml:"title"` // message id
	Lines   []string  `yaml:"lines"` // message ids
	Level   int       `yaml:"level"`
	Align   string    `yaml:"align"`
	When    string    `yaml:"when"` // field path: the block shows only when it is set
	Rows    []KVRow   `yaml:"rows"`
	Source  string    `yaml:"source"` // array field (table, list) or checklist field (chart)
	Columns []Column  `yaml:"columns"`
	Item    string    `yaml:"item"`   // expression, list items
	Empty   string    `yaml:"empty"`  // message id shown for an empty table or list
	Value   string    `yaml:"value"`  // expression, QR code content
	Place   string    `yaml:"place"`  // expression, signature place and date
	Role    string    `yaml:"role"`   // message id, signature role
	Name    string    `yaml:"name"`   // expression, signatory name
	Note    string    `yaml:"note"`   // message id, under the signature
	Legend  []string  `yaml:"legend"` // message ids, paired chart: the two series
	Pairs   []PairRow `yaml:"pairs"`  // paired chart rows
	Max     float64   `yaml:"max"`    // paired chart: the scale's top
}

// PairRow is one row of a paired chart: a label and two expressions giving
// the numbers before and after.
type PairRow struct {
	Label  string `yaml:"label"` // message id
	Before string `yaml:"before"`
	After  string `yaml:"after"`
}

// KVRow is one row of a key-value table.
type KVRow struct {
	Label string `yaml:"label"` // message id
	Value string `yaml:"value"` // expression
	When  string `yaml:"when"`
}

// Column is one column of a table bound to an array field.
type Column struct {
	Label string `yaml:"label"` // message id
	Value string `yaml:"value"` // expression over .item
	Width int    `yaml:"width"` // out of 12
	Below bool   `yaml:"below"` // set under the row's other cells, across the full width (no width)
}

// Set is the loaded, checked collection of templates and messages.
type Set struct {
	byID    map[string]*Template
	ids     []string
	msgs    *messages
	reg     *comuni.Registry
	Version string // producing software version, printed in the PDF metadata
}

// Languages are the languages every message must exist in; the first is the default.
var Languages = []string{"it", "en", "de"}

var blockTypes = map[string]bool{
	"letterhead": true, "heading": true, "paragraph": true, "kv": true, "table": true,
	"list": true, "chart": true, "qr": true, "signature": true, "footer": true, "paired": true,
}

// Load reads every *.yaml template and locales/active.*.toml file of fsys and
// checks them: an unknown block or key, a field the body uses but does not
// declare, or a message missing in any language is an error naming the file
// and the reason.
func Load(fsys fs.FS, reg *comuni.Registry) (*Set, error) {
	return load(fsys, reg, true)
}

// LoadChecked is Load for a set of templates that Load has already
// accepted, such as the templates embedded in the binary (TestLoadChecked
// and every test that renders load them with Load): it skips the checks of
// the blocks' expressions and of the messages' syntax, which change
// nothing and took most of a command's start-up, and does everything else
// Load does. A directory given by a user goes through Load.
func LoadChecked(fsys fs.FS, reg *comuni.Registry) (*Set, error) {
	return load(fsys, reg, false)
}

func load(fsys fs.FS, reg *comuni.Registry, full bool) (*Set, error) {
	msgs, err := loadMessages(fsys, full)
	if err != nil {
		return nil, err
	}
	s := &Set{byID: map[string]*Template{}, msgs: msgs, reg: reg}
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("load templates: no *.yaml template found")
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("load templates: %w", err)
		}
		t, err := parseTemplate(f, b)
		if err != nil {
			return nil, err
		}
		if err := s.check(t, full); err != nil {
			return nil, fmt.Errorf("template %s: %w", f, err)
		}
		if _, dup := s.byID[t.ID]; dup {
			return nil, fmt.Errorf("template %s: id %q declared twice", f, t.ID)
		}
		s.byID[t.ID] = t
		s.ids = append(s.ids, t.ID)
	}
	sort.Slice(s.ids, func(i, j int) bool { return kindOrder(s.ids[i]) < kindOrder(s.ids[j]) })
	return s, nil
}

func kindOrder(id string) string {
	for i, k := range []faldone.Kind{faldone.KindAdesione, faldone.KindAssessment, faldone.KindPiano, faldone.KindApprovazione, faldone.KindChiusura} {
		if string(k) == id {
			return fmt.Sprint(i)
		}
	}
	return "9" + id
}

func parseTemplate(file string, b []byte) (*Template, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("template %s: %w", file, err)
	}
	sum := sha256.Sum256(b)
	t.SHA256 = hex.EncodeToString(sum[:])
	t.File = path.Base(file)
	if t.ID == "" || t.Version == "" {
		return nil, fmt.Errorf("template %s: id and version are required", file)
	}
	if want := strings.TrimSuffix(t.File, ".yaml"); t.ID != want {
		return nil, fmt.Errorf("template %s: id %q does not match the file name", file, t.ID)
	}
	return &t, nil
}

// Template returns the template of a kind.
func (s *Set) Template(kind string) (*Template, bool) {
	t, ok := s.byID[kind]
	return t, ok
}

// Kinds returns the template ids in workflow order.
func (s *Set) Kinds() []string { return append([]string(nil), s.ids...) }

// Registry returns the comuni registry the templates resolve comuni with.
func (s *Set) Registry() *comuni.Registry { return s.reg }

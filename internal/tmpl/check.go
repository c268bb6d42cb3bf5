package tmpl

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
)

var fieldTypes = map[string]bool{
	"string": true, "text": true, "date": true, "email": true, "url": true, "phone": true,
	"integer": true, "number": true, "boolean": true, "enum": true, "comune": true,
	"docref": true, "object": true, "array": true, "checklist": true,
}

// comuneKeys are the properties a comune field resolves to.
var comuneKeys = map[string]bool{
	"name": true, "istat": true, "province": true, "sigla": true, "region": true,
	"population": true, "catastale": true, "ipa": true, "cap": true,
	"name_it": true, "other_name": true, "higher": true, "higher_kind": true,
}

// citedKeys are the properties of .cited, the archived document a new one
// cites (set by the archive, absent in offline renders).
var citedKeys = map[string]bool{
	"id": true, "sha256": true, "version": true, "date": true, "kind": true, "title": true,
	"oggetto": true, "protocol_number": true, "protocol_date": true, "chain": true,
}

// citedChain is what a table over .cited.chain sees: the documents of the
// chain the archive supplies, oldest first (the chiusura prints its whole
// dossier).
var citedChain = Field{Name: "chain", Type: "array", Items: &Field{Name: "item", Type: "object", Fields: []Field{
	{Name: "id", Type: "string"}, {Name: "sha256", Type: "string"}, {Name: "version", Type: "integer"}, {Name: "date", Type: "date"},
	{Name: "kind", Type: "string"}, {Name: "title", Type: "string"}, {Name: "oggetto", Type: "string"},
	{Name: "protocol_number", Type: "string"}, {Name: "protocol_date", Type: "date"},
}}}

// Ratings are the values an assessment gives a checklist item, with the
// weight each one adds to an area's maturity (non_applicabile is left out).
var Ratings = []string{"attuato", "parziale", "non_attuato", "non_applicabile"}

var reName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checklistRow is what .item holds in a table bound to a checklist.
var checklistRow = Field{Name: "item", Type: "object", Fields: []Field{
	{Name: "area", Type: "string"}, {Name: "id", Type: "string"}, {Name: "ref", Type: "string"},
	{Name: "label", Type: "string"}, {Name: "rating", Type: "string"}, {Name: "note", Type: "string"},
}}

// scope is what an expression may refer to.
type scope struct {
	fields map[string]*Field
	item   *Field // the array items in a table or list, if any
}

func (s *Set) check(t *Template, full bool) error {
	top := scope{fields: map[string]*Field{}}
	if err := checkFields(t, t.Fields, "", top.fields); err != nil {
		return err
	}
	if !full {
		return nil // the rest only checks
	}
	for _, id := range []string{t.Title, t.Oggetto} {
		if id == "" || !s.msgs.has(id) {
			return fmt.Errorf("title and oggetto must name messages (got %q)", id)
		}
	}
	// Messages every document uses: the author, the page label, and a
	// draft's mark and footer; a chart says how many items each bar covers.
	need := []string{"common.author", "common.page", "draft.mark", "draft.footer"}
	for _, b := range t.Body {
		if b.Type == "chart" {
			need = append(need, "chart.applicabili", "rating.non_applicabile")
		}
	}
	for _, id := range need {
		if !s.msgs.has(id) {
			return fmt.Errorf("message %q is missing", id)
		}
	}
	for _, name := range []struct{ key, val, typ string }{{"date", t.Date, "date"}, {"comune", t.Comune, "comune"}, {"cites", t.Cites, "docref"}} {
		if name.val == "" && name.key == "cites" {
			continue
		}
		f := top.fields[name.val]
		if f == nil || f.Type != name.typ {
			return fmt.Errorf("%s: %q must name a declared %s field", name.key, name.val, name.typ)
		}
	}
	for _, a := range t.Catalog {
		if a.ID == "" || !s.msgs.has(a.Title) {
			return fmt.Errorf("catalog area %q: id and a title message are required", a.ID)
		}
		for _, it := range a.Items {
			if it.ID == "" || !s.msgs.has(it.Label) {
				return fmt.Errorf("catalog item %q of area %q: id and a label message are required", it.ID, a.ID)
			}
		}
	}
	// Messages are checked against the template's top-level scope.
	checked := map[string]bool{}
	for i, b := range t.Body {
		if err := s.checkBlock(t, b, top, checked); err != nil {
			return fmt.Errorf("body[%d] (%s): %w", i, b.Type, err)
		}
	}
	return nil
}

func checkFields(t *Template, fields []Field, prefix string, into map[string]*Field) error {
	for i := range fields {
		f := &fields[i]
		p := prefix + f.Name
		if !reName.MatchString(f.Name) {
			return fmt.Errorf("field %q: name must be lower-case letters, digits and _", p)
		}
		if f.Name == "lang" {
			return fmt.Errorf("field %q: lang is reserved", p)
		}
		if !fieldTypes[f.Type] {
			return fmt.Errorf("field %q: unknown type %q", p, f.Type)
		}
		if _, dup := into[f.Name]; dup {
			return fmt.Errorf("field %q declared twice", p)
		}
		if f.Pattern != "" {
			re, err := regexp.Compile(f.Pattern)
			if err != nil {
				return fmt.Errorf("field %q: pattern: %w", p, err)
			}
			f.re = re
		}
		if f.Type == "enum" && len(f.Enum) == 0 {
			return fmt.Errorf("field %q: enum needs values", p)
		}
		if f.Type == "checklist" && len(t.Catalog) == 0 {
			return fmt.Errorf("field %q: a checklist needs the template's catalog", p)
		}
		into[f.Name] = f
		switch f.Type {
		case "object":
			sub := map[string]*Field{}
			if err := checkFields(t, f.Fields, p+".", sub); err != nil {
				return err
			}
			for _, sf := range f.Fields {
				if sf.After != "" {
					if o := sub[sf.After]; o == nil || o.Type != "date" || sf.Type != "date" {
						return fmt.Errorf("field %q: after must name a date field beside it", p+"."+sf.Name)
					}
				}
			}
		case "array":
			if f.Items == nil {
				return fmt.Errorf("field %q: array needs items", p)
			}
			if f.Items.Name == "" {
				f.Items.Name = "item"
			}
			items := []Field{*f.Items}
			if err := checkFields(t, items, p+"[].", map[string]*Field{}); err != nil {
				return err
			}
			f.Items = &items[0]
		}
	}
	return nil
}

func (s *Set) checkBlock(t *Template, b Block, top scope, checked map[string]bool) error {
	if !blockTypes[b.Type] {
		return fmt.Errorf("unknown block type %q", b.Type)
	}
	msg := func(id string, sc scope, required bool) error {
		if id == "" {
			if required {
				return fmt.Errorf("a message id is required")
			}
			return nil
		}
		if !s.msgs.has(id) {
			return fmt.Errorf("message %q is missing from the locale files", id)
		}
		key := id
		if sc.item != nil {
			key += "\x00item"
		}
		if checked[key] {
			return nil
		}
		checked[key] = true
		for _, lang := range Languages {
			if err := s.checkExpr(s.msgs.ids[lang][id], sc, checked); err != nil {
				return fmt.Errorf("message %q (%s): %w", id, lang, err)
			}
		}
		return nil
	}
	expr := func(src string, sc scope, required bool) error {
		if src == "" {
			if required {
				return fmt.Errorf("an expression is required")
			}
			return nil
		}
		return s.checkExpr(src, sc, checked)
	}
	if b.When != "" {
		if err := checkPath(strings.Split(b.When, "."), top); err != nil {
			return fmt.Errorf("when: %w", err)
		}
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch b.Type {
	case "letterhead", "footer":
		if len(b.Lines) == 0 {
			return fmt.Errorf("lines are required")
		}
		for _, l := range b.Lines {
			add(msg(l, top, true))
		}
	case "heading", "paragraph":
		add(msg(b.Text, top, true))
	case "kv":
		add(msg(b.Title, top, false))
		if len(b.Rows) == 0 {
			return fmt.Errorf("rows are required")
		}
		for _, r := range b.Rows {
			add(msg(r.Label, top, true))
			add(expr(r.Value, top, true))
			if r.When != "" {
				add(checkPath(strings.Split(r.When, "."), top))
			}
		}
	case "table", "list":
		add(msg(b.Title, top, false))
		add(msg(b.Empty, top, false))
		f := fieldAt(top, b.Source)
		if b.Source == "cited.chain" {
			f = &citedChain
		}
		var sc scope
		switch {
		case f != nil && f.Type == "array":
			sc = scope{fields: top.fields, item: f.Items}
		case f != nil && f.Type == "checklist" && b.Type == "table":
			sc = scope{fields: top.fields, item: &checklistRow}
		default:
			return fmt.Errorf("source %q must name a declared array field (or checklist, for a table)", b.Source)
		}
		if b.Type == "list" {
			add(expr(b.Item, sc, true))
			break
		}
		width := 0
		for _, c := range b.Columns {
			add(msg(c.Label, top, true))
			add(expr(c.Value, sc, true))
			if c.Below {
				if c.Width != 0 {
					return fmt.Errorf("column %q is set below the row and takes no width", c.Label)
				}
				continue
			}
			width += c.Width
		}
		if len(b.Columns) == 0 || width != 12 {
			return fmt.Errorf("columns must be given and the widths of those not set below must add up to 12 (got %d)", width)
		}
	case "chart":
		add(msg(b.Title, top, false))
		f := top.fields[b.Source]
		if f == nil || f.Type != "checklist" {
			return fmt.Errorf("source %q must name a declared checklist field", b.Source)
		}
	case "paired":
		add(msg(b.Title, top, false))
		if len(b.Legend) != 2 || len(b.Pairs) == 0 || b.Max <= 0 {
			return fmt.Errorf("a paired chart needs two legend messages, rows and a max")
		}
		for _, l := range b.Legend {
			add(msg(l, top, true))
		}
		for _, r := range b.Pairs {
			add(msg(r.Label, top, true))
			add(expr(r.Before, top, true))
			add(expr(r.After, top, true))
		}
	case "qr":
		add(expr(b.Value, top, true))
		add(msg(b.Text, top, false))
	case "signature":
		add(expr(b.Place, top, false))
		add(msg(b.Role, top, true))
		add(expr(b.Name, top, true))
		add(msg(b.Note, top, false))
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// checkExpr parses a text/template source and checks that every field it
// refers to is declared and every literal message id it localises exists.
func (s *Set) checkExpr(src string, sc scope, checked map[string]bool) error {
	tr, err := template.New("").Funcs(funcStubs).Parse(src)
	if err != nil {
		return err
	}
	var walkErr error
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if walkErr != nil || n == nil {
			return
		}
		switch x := n.(type) {
		case *parse.ListNode:
			if x != nil {
				for _, c := range x.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(x.Pipe)
		case *parse.PipeNode:
			if x == nil {
				return
			}
			for _, c := range x.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			if id, ok := x.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" && len(x.Args) > 1 {
				if lit, ok := x.Args[1].(*parse.StringNode); ok && !s.msgs.has(lit.Text) {
					walkErr = fmt.Errorf("message %q is missing from the locale files", lit.Text)
					return
				}
				if lit, ok := x.Args[1].(*parse.StringNode); ok && !checked[lit.Text] && len(x.Args) > 2 {
					checked[lit.Text] = true
					for _, lang := range Languages {
						if err := s.checkExpr(s.msgs.ids[lang][lit.Text], sc, checked); err != nil {
							walkErr = fmt.Errorf("message %q (%s): %w", lit.Text, lang, err)
							return
						}
					}
				}
			}
			for _, a := range x.Args {
				walk(a)
			}
		case *parse.FieldNode:
			walkErr = checkPath(x.Ident, sc)
		case *parse.VariableNode:
			if len(x.Ident) > 1 && x.Ident[0] == "$" {
				walkErr = checkPath(x.Ident[1:], sc)
			}
		case *parse.ChainNode:
			walk(x.Node)
		case *parse.IfNode:
			walk(x.Pipe)
			walk(x.List)
			walk(x.ElseList)
		case *parse.RangeNode:
			walk(x.Pipe)
			walk(x.ElseList)
		case *parse.WithNode:
			walk(x.Pipe)
			walk(x.ElseList)
		}
	}
	walk(tr.Tree.Root)
	return walkErr
}

// fieldAt returns the field at a dotted path through objects
// ("questionario.domande"), or nil.
func fieldAt(sc scope, path string) *Field {
	parts := strings.Split(path, ".")
	f := sc.fields[parts[0]]
	for _, p := range parts[1:] {
		if f == nil || f.Type != "object" {
			return nil
		}
		var next *Field
		for j := range f.Fields {
			if f.Fields[j].Name == p {
				next = &f.Fields[j]
			}
		}
		f = next
	}
	return f
}

// checkPath checks a field path (["referente", "email"]) against a scope.
func checkPath(path []string, sc scope) error {
	if len(path) == 0 {
		return nil
	}
	var f *Field
	switch path[0] {
	case "lang", "index":
		return nil
	case "cited":
		if len(path) > 1 && !citedKeys[path[1]] {
			return fmt.Errorf("field .%s: a cited document has no %q", strings.Join(path, "."), path[1])
		}
		return nil
	case "item":
		if sc.item == nil {
			return fmt.Errorf("field .item is used outside a table or list")
		}
		f = sc.item
	default:
		f = sc.fields[path[0]]
	}
	if f == nil {
		return fmt.Errorf("field .%s is used but not declared", strings.Join(path, "."))
	}
	for i, p := range path[1:] {
		switch f.Type {
		case "object":
			var next *Field
			for j := range f.Fields {
				if f.Fields[j].Name == p {
					next = &f.Fields[j]
				}
			}
			if next == nil {
				return fmt.Errorf("field .%s is used but not declared", strings.Join(path[:i+2], "."))
			}
			f = next
		case "comune":
			if !comuneKeys[p] {
				return fmt.Errorf("field .%s: a comune has no %q", strings.Join(path[:i+2], "."), p)
			}
			return nil
		default:
			return fmt.Errorf("field .%s: %s field %q has no members", strings.Join(path[:i+2], "."), f.Type, f.Name)
		}
	}
	return nil
}

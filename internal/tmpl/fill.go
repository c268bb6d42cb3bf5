package tmpl

import (
	"fmt"
	"math"
	"strings"
	"text/template"
	"time"

	"faldone/internal/faldone"
)

// Filled is a template filled with one input.
type Filled struct {
	Layout   faldone.Layout
	Template *Template
	Comune   string // ISTAT code
	IPA      string
	Oggetto  string
	Date     time.Time
	Cites    string // id of the cited document, if any
	Protocol faldone.Protocol
}

// Fill fills kind's template with a validated input.
func (s *Set) Fill(kind string, in *Input) (*Filled, error) {
	t, ok := s.byID[kind]
	if !ok {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "unknown document kind %q", kind)
	}
	f := &filler{s: s, t: t, l: s.msgs.localizer(in.Lang)}
	data := f.data(in)
	out := &Filled{Template: t}
	if c, ok := data[t.Comune].(map[string]any); ok {
		out.Comune, _ = c["istat"].(string)
		out.IPA, _ = c["ipa"].(string)
	}
	if d, ok := data[t.Date].(string); ok {
		out.Date, _ = time.Parse(time.DateOnly, d)
	}
	if t.Cites != "" {
		out.Cites, _ = data[t.Cites].(string)
	}
	if p, ok := data["protocollo"].(map[string]any); ok {
		out.Protocol.Number, _ = p["numero"].(string)
		out.Protocol.Date, _ = p["data"].(string)
	}
	var err error
	if out.Oggetto, err = f.msg(t.Oggetto, data); err != nil {
		return nil, err
	}
	title, err := f.msg(t.Title, data)
	if err != nil {
		return nil, err
	}
	author, err := f.msg("common.author", data)
	if err != nil {
		return nil, err
	}
	pageLabel, err := f.msg("common.page", data)
	if err != nil {
		return nil, err
	}
	comuneName := ""
	if c, ok := data[t.Comune].(map[string]any); ok {
		comuneName, _ = c["name"].(string)
	}
	out.Layout.Meta = faldone.Meta{
		Title:     title,
		Subject:   out.Oggetto,
		Author:    author,
		Keywords:  strings.Join([]string{"FAST Piccoli Comuni", t.ID, comuneName, "ISTAT " + out.Comune}, ", "),
		Creator:   "faldone " + s.Version,
		Producer:  "faldone " + s.Version,
		Lang:      in.Lang,
		Date:      out.Date,
		PageLabel: pageLabel,
	}
	if c, ok := s.reg.Lookup(out.Comune); ok && c.OtherLang() != "" {
		// A bilingual comune's names, each tagged with its language where it
		// is not the letter's.
		for _, p := range []faldone.Phrase{{Text: c.OtherName, Lang: c.OtherLang()}, {Text: c.Name, Lang: "it"}} {
			if p.Lang != in.Lang && p.Text != "" {
				out.Layout.Meta.Foreign = append(out.Layout.Meta.Foreign, p)
			}
		}
	}
	if in.Draft {
		if out.Layout.Meta.Draft, err = f.msg("draft.mark", data); err != nil {
			return nil, err
		}
	}
	for i, b := range t.Body {
		if b.When != "" && !present(lookup(data, b.When)) {
			continue
		}
		if b.Type == "footer" && in.Draft {
			// A draft's footer claims no signature.
			b.Lines = []string{"draft.footer"}
		}
		blk, err := f.block(b, data)
		if err != nil {
			return nil, fmt.Errorf("fill %s body[%d] (%s): %w", t.ID, i, b.Type, err)
		}
		out.Layout.Blocks = append(out.Layout.Blocks, blk)
	}
	return out, nil
}

type filler struct {
	s *Set
	t *Template
	l *localizer
}

// data builds the template data: the input with comuni resolved from the
// registry and the language added.
func (f *filler) data(in *Input) map[string]any {
	data := make(map[string]any, len(in.Data)+1)
	for k, v := range in.Data {
		data[k] = v
	}
	data["lang"] = in.Lang
	if in.Cited != nil {
		cited := make(map[string]any, len(in.Cited)+1)
		for k, v := range in.Cited {
			cited[k] = v
		}
		title := func(m map[string]any) {
			if k, ok := m["kind"].(string); ok && f.s.msgs.has(k+".title") {
				m["title"], _ = f.l.T(k+".title", nil)
			}
		}
		title(cited)
		if chain, ok := cited["chain"].([]any); ok {
			out := make([]any, len(chain))
			for i, c := range chain {
				m, _ := c.(map[string]any)
				cp := make(map[string]any, len(m)+1)
				for k, v := range m {
					cp[k] = v
				}
				title(cp)
				out[i] = cp
			}
			cited["chain"] = out
		}
		data["cited"] = cited
	}
	for _, fl := range f.t.Fields {
		if fl.Type != "comune" {
			continue
		}
		code, _ := data[fl.Name].(string)
		if c, ok := f.s.reg.Lookup(code); ok {
			// name is the official name a letter in this language uses
			// (both names where the comune has two); higher is the body
			// above the comune, "" where there is none.
			data[fl.Name] = map[string]any{
				"name": c.DisplayName(in.Lang), "name_it": c.Name, "other_name": c.OtherName,
				"istat": c.ISTAT, "province": c.Province, "sigla": c.Sigla,
				"region": c.Region, "population": Number{int64(c.Population), in.Lang}, "catastale": c.Catastale,
				"ipa": c.IPA(), "cap": strings.Join(c.CAP, ", "),
				"higher": c.HigherBody(in.Lang), "higher_kind": c.Body,
			}
		}
	}
	return data
}

func (f *filler) msg(id string, data any) (string, error) {
	if id == "" {
		return "", nil
	}
	return f.l.T(id, data)
}

func (f *filler) expr(src string, data any) (string, error) {
	if src == "" {
		return "", nil
	}
	var tp *template.Template
	if v, ok := f.l.exprs.Load(src); ok {
		tp = v.(*template.Template)
	} else {
		t, err := template.New("").Funcs(withText(f.l.parser.funcs)).Option("missingkey=zero").Parse(src)
		if err != nil {
			return "", err
		}
		v, _ := f.l.exprs.LoadOrStore(src, printMissingAsEmpty(t))
		tp = v.(*template.Template)
	}
	var b strings.Builder
	if err := tp.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (f *filler) block(b Block, data map[string]any) (faldone.Block, error) {
	out := faldone.Block{Type: faldone.BlockType(b.Type), Level: b.Level, Align: b.Align}
	var err error
	if out.Title, err = f.msg(b.Title, data); err != nil {
		return out, err
	}
	switch b.Type {
	case "letterhead", "footer":
		for _, id := range b.Lines {
			s, err := f.msg(id, data)
			if err != nil {
				return out, err
			}
			if s = strings.TrimSpace(s); s != "" {
				out.Text = append(out.Text, s)
			}
		}
	case "heading", "paragraph":
		s, err := f.msg(b.Text, data)
		if err != nil {
			return out, err
		}
		out.Text = []string{s}
	case "kv":
		for _, r := range b.Rows {
			if r.When != "" && !present(lookup(data, r.When)) {
				continue
			}
			label, err := f.msg(r.Label, data)
			if err != nil {
				return out, err
			}
			val, err := f.expr(r.Value, data)
			if err != nil {
				return out, err
			}
			out.Rows = append(out.Rows, [2]string{label, val})
		}
	case "table", "list":
		items, err := f.items(b.Source, data)
		if err != nil {
			return out, err
		}
		if out.Text, err = f.emptyText(b, items); err != nil {
			return out, err
		}
		if b.Type == "list" {
			for i, it := range items {
				s, err := f.expr(b.Item, withItem(data, it, i))
				if err != nil {
					return out, err
				}
				out.Text = append(out.Text, s)
			}
			break
		}
		tb := &faldone.Table{}
		if tb.Empty, err = f.msg(b.Empty, data); err != nil {
			return out, err
		}
		for _, c := range b.Columns {
			label, err := f.msg(c.Label, data)
			if err != nil {
				return out, err
			}
			tb.Columns = append(tb.Columns, faldone.Column{Label: label, Width: c.Width, Below: c.Below})
		}
		for i, it := range items {
			d := withItem(data, it, i)
			row := make([]string, len(b.Columns))
			for j, c := range b.Columns {
				if row[j], err = f.expr(c.Value, d); err != nil {
					return out, err
				}
			}
			tb.Rows = append(tb.Rows, row)
		}
		out.Table = tb
	case "chart":
		bars, err := f.maturity(data[b.Source])
		if err != nil {
			return out, err
		}
		out.Bars = bars
	case "paired":
		for i, id := range b.Legend {
			if out.Legend[i], err = f.msg(id, data); err != nil {
				return out, err
			}
		}
		for _, r := range b.Pairs {
			p := faldone.Pair{Max: b.Max}
			if p.Label, err = f.msg(r.Label, data); err != nil {
				return out, err
			}
			if p.BeforeText, err = f.expr(r.Before, data); err != nil {
				return out, err
			}
			if p.AfterText, err = f.expr(r.After, data); err != nil {
				return out, err
			}
			p.Before, _ = toFloat(strings.TrimSpace(p.BeforeText))
			p.After, _ = toFloat(strings.TrimSpace(p.AfterText))
			out.Pairs = append(out.Pairs, p)
		}
	case "qr":
		if out.QR, err = f.expr(b.Value, data); err != nil {
			return out, err
		}
		s, err := f.msg(b.Text, data)
		if err != nil {
			return out, err
		}
		if s != "" {
			out.Text = []string{s}
		}
	case "signature":
		sig := &faldone.SignatureBlock{}
		if sig.PlaceDate, err = f.expr(b.Place, data); err != nil {
			return out, err
		}
		if sig.Role, err = f.msg(b.Role, data); err != nil {
			return out, err
		}
		if sig.Name, err = f.expr(b.Name, data); err != nil {
			return out, err
		}
		if sig.Note, err = f.msg(b.Note, data); err != nil {
			return out, err
		}
		out.Sign = sig
	}
	return out, nil
}

func (f *filler) emptyText(b Block, items []any) ([]string, error) {
	if len(items) > 0 || b.Empty == "" || b.Type == "table" {
		return nil, nil
	}
	s, err := f.msg(b.Empty, nil)
	return []string{s}, err
}

// items returns the rows of a table or list: an array field's items, or one
// row per catalogue item for a checklist.
func (f *filler) items(source string, data map[string]any) ([]any, error) {
	switch v := lookup(data, source).(type) {
	case []any:
		return v, nil
	case map[string]any:
		var rows []any
		for _, a := range f.t.Catalog {
			area, err := f.msg(a.Title, nil)
			if err != nil {
				return nil, err
			}
			for _, it := range a.Items {
				r, _ := v[it.ID].(map[string]any)
				label, err := f.msg(it.Label, nil)
				if err != nil {
					return nil, err
				}
				rating, _ := r["rating"].(string)
				rl, err := f.msg("rating."+rating, nil)
				if err != nil {
					return nil, err
				}
				rows = append(rows, map[string]any{
					"area": area, "id": it.ID, "ref": it.Ref, "label": label, "rating": rl, "note": r["note"],
				})
			}
		}
		return rows, nil
	}
	return nil, nil
}

// Weights of the ratings in an area's maturity; non_applicabile is left out.
var ratingWeight = map[string]float64{"attuato": 1, "parziale": 0.5, "non_attuato": 0}

// Maturity returns, per catalogue area, the share of applicable items that
// are in place (attuato = 1, parziale = 1/2, non attuato = 0), in [0, 1],
// and whether any item of the area applies.
func (t *Template) Maturity(ratings map[string]any) (values []float64, applicable []bool) {
	values, counts, _ := t.maturity(ratings)
	for _, n := range counts {
		applicable = append(applicable, n > 0)
	}
	return values, applicable
}

// maturity returns, per catalogue area, the share in place, the number of
// applicable items and the number of items.
func (t *Template) maturity(ratings map[string]any) (values []float64, applicable, items []int) {
	for _, a := range t.Catalog {
		sum, n := 0.0, 0
		for _, it := range a.Items {
			r, _ := ratings[it.ID].(map[string]any)
			rating, _ := r["rating"].(string)
			if w, ok := ratingWeight[rating]; ok {
				sum += w
				n++
			}
		}
		items = append(items, len(a.Items))
		applicable = append(applicable, n)
		if n == 0 {
			values = append(values, 0)
			continue
		}
		values = append(values, sum/float64(n))
	}
	return values, applicable, items
}

func (f *filler) maturity(v any) ([]faldone.Bar, error) {
	ratings, _ := v.(map[string]any)
	values, applicable, items := f.t.maturity(ratings)
	na, err := f.msg("rating.non_applicabile", nil)
	if err != nil {
		return nil, err
	}
	bars := make([]faldone.Bar, 0, len(values))
	for i, a := range f.t.Catalog {
		title, err := f.msg(a.Title, nil)
		if err != nil {
			return nil, err
		}
		text := fmt.Sprintf("%.0f%%", math.Round(values[i]*100))
		note, err := f.msg("chart.applicabili", map[string]any{"N": applicable[i], "Of": items[i]})
		if err != nil {
			return nil, err
		}
		if applicable[i] == 0 {
			text = na
		}
		bars = append(bars, faldone.Bar{Label: title, Value: values[i], Max: 1, Text: text, Note: note, NA: applicable[i] == 0})
	}
	return bars, nil
}

func withItem(data map[string]any, item any, i int) map[string]any {
	d := make(map[string]any, len(data)+2)
	for k, v := range data {
		d[k] = v
	}
	d["item"] = item
	d["index"] = i
	return d
}

func lookup(data map[string]any, path string) any {
	var cur any = data
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case bool:
		return x
	}
	return true
}

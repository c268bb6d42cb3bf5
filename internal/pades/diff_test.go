package pades

import (
	"testing"
)

// TestDiffDirectAgainstShared: two pages whose inline resources an
// update replaces by one shared object are two changes, not one.
func TestDiffDirectAgainstShared(t *testing.T) {
	doc := func(objs map[int]any) *document {
		d := &document{xref: map[int]xrefEntry{}, cache: map[int]any{}, objstm: map[int]*objStream{}, busy: map[int]bool{}, cost: &costs{}}
		for n, v := range objs {
			d.xref[n] = xrefEntry{typ: 1}
			d.cache[n] = v
		}
		d.trailer = Dict{"Root": Ref{Num: 1}}
		return d
	}
	fontA := Dict{"F1": Name("Helvetica")}
	fontB := Dict{"F1": Name("Courier")}
	old := doc(map[int]any{
		1: Dict{"Type": Name("Catalog"), "Pages": Ref{Num: 2}},
		2: Dict{"Type": Name("Pages"), "Kids": Array{Ref{Num: 3}, Ref{Num: 4}}},
		3: Dict{"Type": Name("Page"), "Resources": Dict{"Font": fontA}},
		4: Dict{"Type": Name("Page"), "Resources": Dict{"Font": fontB}},
	})
	cur := doc(map[int]any{
		1: Dict{"Type": Name("Catalog"), "Pages": Ref{Num: 2}},
		2: Dict{"Type": Name("Pages"), "Kids": Array{Ref{Num: 3}, Ref{Num: 4}}},
		3: Dict{"Type": Name("Page"), "Resources": Ref{Num: 5}},
		4: Dict{"Type": Name("Page"), "Resources": Ref{Num: 5}},
		5: Dict{"Font": fontA},
	})
	budget := maxDiffVisits
	changes := judgeChanges(old, cur, map[int]bool{3: true, 4: true}, 2, 0, &budget)
	var paths []string
	for _, c := range changes {
		if !c.Allowed {
			paths = append(paths, c.Path)
		}
	}
	if len(paths) != 1 || paths[0] != "/Root/Pages/Kids[1]/Resources/Font/F1" {
		t.Fatalf("forbidden changes at %v, want the second page's font", paths)
	}
}

// TestDiffZones: an object the /DSS shares with a page, changed by an
// update, is a forbidden change of the page even if the /DSS comes first.
func TestDiffZones(t *testing.T) {
	doc := func(objs map[int]any) *document {
		d := &document{xref: map[int]xrefEntry{}, cache: map[int]any{}, objstm: map[int]*objStream{}, busy: map[int]bool{}, cost: &costs{}}
		for n, v := range objs {
			d.xref[n] = xrefEntry{typ: 1}
			d.cache[n] = v
		}
		d.trailer = Dict{"Root": Ref{Num: 1}}
		return d
	}
	old := doc(map[int]any{
		1: Dict{"Type": Name("Catalog"), "Pages": Ref{Num: 2}, "DSS": Dict{"Certs": Array{Ref{Num: 5}}}},
		2: Dict{"Type": Name("Pages"), "Kids": Array{Ref{Num: 3}}},
		3: Dict{"Type": Name("Page"), "Contents": Ref{Num: 5}},
		5: &Stream{Dict: Dict{}, Raw: []byte("BT (signed) Tj ET")},
	})
	cur := doc(map[int]any{
		1: Dict{"Type": Name("Catalog"), "Pages": Ref{Num: 2}, "DSS": Dict{"Certs": Array{Ref{Num: 5}}}},
		2: Dict{"Type": Name("Pages"), "Kids": Array{Ref{Num: 3}}},
		3: Dict{"Type": Name("Page"), "Contents": Ref{Num: 5}},
		5: &Stream{Dict: Dict{}, Raw: []byte("BT (forged) Tj ET")},
	})
	for _, first := range []Name{"Pages", "DSS"} {
		keyRankFirst = first
		budget := maxDiffVisits
		var forbidden []string
		for _, c := range judgeChanges(old, cur, map[int]bool{5: true}, 2, 0, &budget) {
			if !c.Allowed {
				forbidden = append(forbidden, c.Path)
			}
		}
		if len(forbidden) != 1 || forbidden[0] != "/Root/Pages/Kids[0]/Contents" {
			t.Errorf("walking /%s first: forbidden %v", first, forbidden)
		}
	}
	keyRankFirst = "Pages"
}

// TestSkipValue: skipping a value ends where parsing it does.
func TestSkipValue(t *testing.T) {
	for _, in := range []string{
		"12 0 R /Next", "12 /Next", "-3.5 ]", "/Name#20x 1", "(a (nested) \\) string) x", "<48656C6C6F> x",
		"<< /A [1 2 3 0 R [4]] /B << /C (x) /D <00> >> /E 5 0 R >> rest", "[1 0 R 2 0 R 3] z", "true false", "null x",
		"<< /Length 7 0 R /Type /XObject /W [1 2 3] >>stream",
	} {
		a, b := &lexer{b: []byte(in)}, &lexer{b: []byte(in)}
		_, err := a.object(0)
		if err2 := b.skipValue(0); (err == nil) != (err2 == nil) || a.pos != b.pos {
			t.Errorf("%q: object ends at %d (%v), skipValue at %d (%v)", in, a.pos, err, b.pos, err2)
		}
	}
	l := &lexer{b: []byte("<< /Type /ObjStm /N 2 /Widths [1 2 3] /DecodeParms << /Predictor 12 /Columns 4 >> /Contents <00FF> >>"), skim: true}
	v, err := l.object(0)
	d, _ := v.(Dict)
	if err != nil || len(d) != 3 || d.name("Type") != "ObjStm" || d["Widths"] != nil {
		t.Fatalf("skimmed %v %v", v, err)
	}
	if p, _ := d["DecodeParms"].(Dict).int("Predictor"); p != 12 {
		t.Errorf("skimmed DecodeParms %v", d["DecodeParms"])
	}
}

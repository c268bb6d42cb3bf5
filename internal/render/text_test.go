package render

import (
	"math/rand/v2"
	"strings"
	"testing"

	"faldone/fonts"
	"faldone/internal/render/hyphen"
)

func testFace(t *testing.T) *face {
	t.Helper()
	fcs, err := loadFaces()
	if err != nil {
		t.Fatal(err)
	}
	return fcs[fonts.Family+"/"]
}

// TestWrapFitsAndKeepsEveryLetter: no line is wider than the column, and
// the lines, hyphens taken out, give back the text.
func TestWrapFitsAndKeepsEveryLetter(t *testing.T) {
	fc := testFace(t)
	words := strings.Fields("amministrazione digitale della trasformazione Digitalisierungsmaßnahmen € 20.000 " +
		"https://www.comune.example.it/servizi/anagrafe precipitevolissimevolmente e la il di 4.434 CERT-AgID")
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		var ws []string
		for range r.IntN(60) + 1 {
			ws = append(ws, words[r.IntN(len(words))])
		}
		s := typo(strings.Join(ws, " "))
		width := 10 + r.Float64()*160
		lines := wrap(fc, hyphen.For("it"), s, 10, width)
		var joined strings.Builder
		for _, ln := range lines {
			if w := fc.Width(ln.s, 10); w > width+1e-9 && len([]rune(ln.s)) > 1 {
				t.Fatalf("line %q is %.2f mm in a %.2f mm column", ln.s, w, width)
			}
			joined.WriteString(ln.s)
			if !strings.HasSuffix(ln.s, "-") && !strings.HasSuffix(ln.s, softHyphen) {
				joined.WriteString(" ")
			}
		}
		strip := func(x string) string {
			return strings.NewReplacer("-", "", softHyphen, "", " ", "", nbsp, "").Replace(x)
		}
		if strip(joined.String()) != strip(s) {
			t.Fatalf("wrapped text lost letters:\n%q\n%q", joined.String(), s)
		}
	}
}

func TestEuroKeepsItsAmount(t *testing.T) {
	fc := testFace(t)
	s := typo("il contributo di € 79.922 per la misura")
	for width := 15.0; width < 80; width += 0.5 {
		for _, ln := range wrap(fc, nil, s, 10, width) {
			if strings.HasSuffix(ln.s, "€") {
				t.Fatalf("width %.1f: € ends a line: %q", width, ln.s)
			}
		}
	}
}

func TestCodesAreMono(t *testing.T) {
	d := "0f3fc0e35c08f08fe74df8710a69f4e0fc48e9eb83fd128f2103833364a05c56"
	if !isCode(d) || !isCode("r4ytf5c6myt4w752jca6j7erch") || isCode("precipitevolissimevolmente") {
		t.Fatal("isCode")
	}
	if got := grouped(d); got != "0f3fc0e3 5c08f08f e74df871 0a69f4e0 fc48e9eb 83fd128f 21038333 64a05c56" {
		t.Fatalf("grouped: %q", got)
	}
	fcs, _ := loadFaces()
	m := &measurer{faces: fcs}
	r := m.set(d, tcell, 100, true)
	if r.family != fonts.MonoFamily || len(r.lines) != 2 || strings.Count(r.lines[0].s, " ") != 3 {
		t.Fatalf("digest set as %s in %+v", r.family, r.lines)
	}
}

func TestBulleted(t *testing.T) {
	if mk, rest, ok := bulleted("• individuare un referente"); !ok || mk != "•" || rest != "individuare un referente" {
		t.Fatal(mk, rest, ok)
	}
	if _, _, ok := bulleted("-5 gradi"); ok {
		t.Fatal("a minus sign taken for a bullet")
	}
}

// TestCodesAreNotHyphenated: an archive id in a narrow column is cut, not
// hyphenated, so that its lines joined give back the id; a digest in a
// column too narrow for four groups is set two groups a line.
func TestCodesAreNotHyphenated(t *testing.T) {
	fc := testFace(t)
	id := "zvh2c3ftm4xivaquvtnq6pbia6"
	for width := 8.0; width < 60; width += 0.5 {
		lines := wrap(fc, hyphen.For("it"), id+" – v1", 9, width)
		var b strings.Builder
		for _, ln := range lines {
			b.WriteString(ln.s)
		}
		if !strings.Contains(b.String(), id) {
			t.Fatalf("width %.1f: the id reads %q", width, b.String())
		}
	}
	fcs, _ := loadFaces()
	m := &measurer{faces: fcs}
	d := "0f3fc0e35c08f08fe74df8710a69f4e0fc48e9eb83fd128f2103833364a05c56"
	r := m.set(d, tcell, 35, true)
	if len(r.lines) != 4 {
		t.Fatalf("digest in 35 mm set as %+v", r.lines)
	}
	for _, ln := range r.lines {
		if strings.Count(ln.s, " ") != 1 {
			t.Fatalf("digest in 35 mm set as %+v", r.lines)
		}
	}
}

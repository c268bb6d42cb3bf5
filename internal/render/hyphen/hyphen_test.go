package hyphen

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestKnownWords(t *testing.T) {
	for _, c := range []struct{ lang, word, want string }{
		{"it", "amministrazione", "am-mi-ni-stra-zio-ne"},
		{"it", "digitale", "di-gi-ta-le"},
		{"it", "Comune", "Co-mu-ne"},
		{"de", "Digitalisierung", "Di-gi-ta-li-sie-rung"},
		{"en", "hyphenation", "hy-phen-ation"},
		{"en", "table", "ta-ble"},
		{"it", "e", "e"},
		{"it", "ISO27001", "ISO27001"},
	} {
		if got := For(c.lang).Hyphenate(c.word); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.lang, c.word, got, c.want)
		}
	}
	if For("fr") != nil {
		t.Error("a language without patterns has a hyphenator")
	}
}

// TestAgainstPyphen compares every point with Debian's python3-pyphen, an
// independent implementation of Liang's algorithm, on the same patterns.
func TestAgainstPyphen(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import pyphen").Run(); err != nil {
		t.Skip("python3-pyphen is not installed (apt-get install python3-pyphen)")
	}
	words := map[string][]string{
		"it": strings.Fields("amministrazione digitale trasformazione comunicazione sicurezza informatica " +
			"responsabile transizione piattaforme interoperabilità conservazione documentale protocollo " +
			"accessibilità microprogetto facilitatori competenze affiancamento sottoscrizione Dipartimento " +
			"funzione pubblica programma nazionale finanziamento obiettivi cronoprogramma formazione " +
			"dichiarazione servizi cittadini aggiornamento migrazione qualificato sperimentazione"),
		"de": strings.Fields("Digitalisierung Verwaltung Gemeinde Barrierefreiheit Interoperabilität " +
			"Sicherheitsmaßnahmen Dokumentenverwaltung Unterzeichnung Ausschreibung Verantwortlicher " +
			"Zusammenarbeit Bürgerinnen Dienstleistungen Arbeitsplan Mikroprojekt Genehmigung Schulung"),
		"en": strings.Fields("administration digital transformation communication security responsible " +
			"interoperability accessibility microproject facilitators competences municipality " +
			"department signature assessment programme platforms conservation"),
	}
	dir := t.TempDir()
	for lang, list := range words {
		h := For(lang)
		var pats []string
		for p, vals := range h.pats {
			var b strings.Builder
			rs := []rune(p)
			for i, v := range vals {
				if v > 0 {
					b.WriteByte('0' + v)
				}
				if i < len(rs) {
					b.WriteRune(rs[i])
				}
			}
			pats = append(pats, b.String())
		}
		dic := filepath.Join(dir, lang+".dic")
		if err := os.WriteFile(dic, []byte("UTF-8\n"+strings.Join(pats, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		in, _ := json.Marshal(list)
		script := `
import json, sys, pyphen
d = pyphen.Pyphen(filename=sys.argv[1], left=int(sys.argv[2]), right=int(sys.argv[3]))
print(json.dumps([d.positions(w.lower()) for w in json.loads(sys.argv[4])]))`
		out, err := exec.Command(py, "-c", script, dic, itoa(h.left), itoa(h.right), string(in)).Output()
		if err != nil {
			t.Fatalf("pyphen: %v", err)
		}
		var want [][]int
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		for i, w := range list {
			if _, exc := h.exceptions[strings.ToLower(w)]; exc {
				continue
			}
			got := h.Points(w)
			if len(got) == 0 && len(want[i]) == 0 {
				continue
			}
			if !equal(got, want[i]) {
				t.Errorf("%s %q: points %v, pyphen %v", lang, w, got, want[i])
			}
		}
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

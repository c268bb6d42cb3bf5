package web_test

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"

	"faldone/internal/pdftest"

	"github.com/BurntSushi/toml"
)

// TestHostileCorpusOnThePage uploads every forgery of the hostile corpus
// to the verification page: each is shown not valid, with its reason in
// Italian, and no English text of a library or of the report's details.
func TestHostileCorpusOnThePage(t *testing.T) {
	e := newEnv(t)
	_, sealed := e.create(t, "loiano", "adesione")
	c := e.client(t)
	tok := csrf(t, c.get("/verifica"))
	// the longest literal part of a reason's Italian message, read from
	// the locale file so that no parameter is guessed
	var locale struct{ Verify map[string]string }
	if _, err := toml.DecodeFile("../../templates/locales/active.it.toml", &locale); err != nil {
		t.Fatal(err)
	}
	action := regexp.MustCompile(`\{\{[^}]*\}\}`)
	fragment := func(code string) string {
		parts := action.Split(locale.Verify[code], -1)
		slices.SortFunc(parts, func(a, b string) int { return len(b) - len(a) })
		return html.EscapeString(strings.TrimSpace(parts[0]))
	}
	english := []string{"pkcs7", "syntax error", "byte range", "written again", "signature dictionary", "docmdp_violation", "digest"}
	for _, a := range pdftest.Attacks(t, sealed) {
		t.Run(a.Name, func(t *testing.T) {
			p := c.postFile("/verifica", tok, a.PDF)
			if p.StatusCode != 200 || !strings.Contains(p.Body, `class="alert alert-danger" role="alert" id="verdict"`) {
				t.Fatalf("%d, not shown invalid: %s", p.StatusCode, p.Body)
			}
			if !slices.ContainsFunc(a.Reasons, func(code string) bool { return strings.Contains(p.Body, fragment(code)) }) {
				t.Errorf("the page names none of %v:\n%s", a.Reasons, p.Body)
			}
			if strings.Contains(p.Body, "modifiche consentite dal sigillo") {
				t.Error("the page calls the changes allowed")
			}
			for _, w := range english {
				if strings.Contains(strings.ToLower(p.Body), w) {
					t.Errorf("the Italian page shows %q", w)
				}
			}
		})
	}
}

// TestForgedCopyRefusedOnTheDossier: a comune uploading a forged copy,
// countersigned, is refused in Italian, naming the object changed.
func TestForgedCopyRefusedOnTheDossier(t *testing.T) {
	e := newEnv(t)
	rec, sealed := e.create(t, "loiano", "adesione")
	c := e.client(t)
	p := c.signIn(e.keyOf(loiano))
	var forged []byte
	for _, a := range pdftest.Attacks(t, sealed) {
		if a.Name == "ISA/page content replaced" {
			forged = a.PDF
		}
	}
	signed, err := pdftest.NewCountersigner(t, pdftest.NewPKI(t, "Comune di Loiano")).Sign(forged)
	if err != nil {
		t.Fatal(err)
	}
	up := c.postFile("/comune/documenti/"+rec.ID+"/firmato", csrf(t, p), signed)
	if up.StatusCode != 422 || !strings.Contains(up.Body, "/Root/Pages/Kids[0]/Contents") || !strings.Contains(up.Body, "i permessi della firma non lo consentono") ||
		strings.Contains(up.Body, "docmdp_violation") {
		t.Errorf("forged copy: %d %s", up.StatusCode, up.Body)
	}
}

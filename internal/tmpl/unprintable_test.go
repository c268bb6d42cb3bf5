package tmpl_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"faldone/internal/faldone"
)

// TestUnprintableRefused: a character no embedded face draws (an emoji, a
// character beyond the Basic Multilingual Plane, a script the fonts lack)
// is refused at validation, naming the field and the character, in the
// request's language; names in every Latin, Greek and Cyrillic script pass.
func TestUnprintableRefused(t *testing.T) {
	s := MustLoad(t)
	body, err := os.ReadFile("../../samples/loiano/adesione.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, value string
		char        string // "" when the value must pass
	}{
		{"emoji", "Fabrizio Morganti 😀", "😀"},
		{"beyond the BMP", "Mario 𝐑ossi", "𝐑"},
		{"CJK", "Mario 山田", "山"},
		{"Arabic", "Mario محمد", "م"},
		{"Romanian", "Ștefan Țărănescu", ""},
		{"Slovene", "Žiga Čebulj Šuštar", ""},
		{"Polish", "Łukasz Żółkiewski", ""},
		{"Hungarian", "Erdős Győző", ""},
		{"Greek", "Γιώργος Παπαδόπουλος", ""},
		{"Cyrillic", "Олена Шевченко", ""},
		{"symbols", "≤ 5.000 ≥ € №", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, err := tmplDecode(body)
			if err != nil {
				t.Fatal(err)
			}
			data["firmatario"].(map[string]any)["nome"] = c.value
			_, err = s.Validate("adesione", data, "en")
			if c.char == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *faldone.Error
			if !errors.As(err, &fe) || fe.Code != faldone.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			found := false
			for _, f := range fe.Fields {
				if f.Path == "$.firmatario.nome" && f.Code == "unprintable" && strings.Contains(f.Message, c.char) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no unprintable error naming $.firmatario.nome and %q: %+v", c.char, fe.Fields)
			}
		})
	}
}

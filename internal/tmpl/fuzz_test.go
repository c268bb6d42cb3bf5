package tmpl_test

import (
	"os"
	"path/filepath"
	"testing"

	"faldone/internal/faldone"
)

// FuzzValidate drives the decoder, the validator and the filler with
// arbitrary bodies: they must never panic, and every refusal must be one of
// the documented error codes with a JSON path for each field error.
func FuzzValidate(f *testing.F) {
	s := MustLoad(f)
	for _, k := range s.Kinds() {
		b, err := os.ReadFile(filepath.Join("..", "..", "samples", "loiano", k+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(k, b)
	}
	for _, seed := range []string{
		``, `{`, `[]`, `null`, `"x"`, `{"comune":1}`, `{"comune":"037034","ambito":["A"]}`,
		`{"lang":"xx"}`, `{"fasi":[{"inizio":"2026-02-30","fine":"2026-01-01"}]}`,
		`{"checklist":{"rtd":null}}`, `{"checklist":[]}`, `{"data":"2026-13-01"}`,
		`{"competenze":{"dati":1e999}}`, `{"competenze":{"dati":-0.5}}`, "{\"note\":\"\x00\"}",
		`{"obiettivi":[null,1,{}]}`, `{"a":{"a":{"a":{"a":{"a":{}}}}}}`,
	} {
		for _, k := range s.Kinds() {
			f.Add(k, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		data, err := tmplDecode(body)
		if err != nil {
			if faldone.ErrorCode(err) != faldone.EMALFORMED {
				t.Fatalf("decode error code %q: %v", faldone.ErrorCode(err), err)
			}
			return
		}
		in, err := s.Validate(kind, data, "")
		if err != nil {
			switch faldone.ErrorCode(err) {
			case faldone.ENOTFOUND:
				return
			case faldone.EINVALID:
				for _, fe := range err.(*faldone.Error).Fields {
					if len(fe.Path) < 2 || fe.Path[:2] != "$." || fe.Message == "" {
						t.Fatalf("bad field error %+v", fe)
					}
				}
				return
			}
			t.Fatalf("validate error code %q: %v", faldone.ErrorCode(err), err)
		}
		if _, err := s.Fill(kind, in); err != nil {
			t.Fatalf("fill of a valid input failed: %v", err)
		}
	})
}

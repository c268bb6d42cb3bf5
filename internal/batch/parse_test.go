package batch_test

import (
	"strings"
	"testing"

	"faldone/internal/batch"
	"faldone/internal/faldone"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body string
		kind, lang        string
		items             []string
		code              string
	}{
		{"array", "application/json", ` [{"a": 1}, {"b": "x"}] `, "", "", []string{`{"a":1}`, `{"b":"x"}`}, ""},
		{"ndjson", "application/x-ndjson; charset=utf-8", "{\"a\": 1}\n\n{\"a\": 2}\n", "", "", []string{`{"a": 1}`, `{"a": 2}`}, ""},
		{"csv", "text/csv", "\ufeffcomune, firmatario.nome\n037034,Anna Rossi\n049020,\n", "", "",
			[]string{`{"comune":"037034","firmatario":{"nome":"Anna Rossi"}}`, `{"comune":"049020"}`}, ""},
		{"envelope items", "application/json", `{"kind": "adesione", "lang": "en", "shared": {"ambito": "A", "firmatario": {"nome": "N", "ruolo": "Sindaco"}}, "items": [{"comune": "1", "firmatario": {"nome": "M"}}]}`,
			"adesione", "en", []string{`{"ambito":"A","comune":"1","firmatario":{"nome":"M","ruolo":"Sindaco"}}`}, ""},
		{"envelope csv", "application/json", `{"shared": {"ambito": "B"}, "csv": "comune\n1\n2"}`, "", "",
			[]string{`{"ambito":"B","comune":"1"}`, `{"ambito":"B","comune":"2"}`}, ""},
		{"not objects", "application/json", `[1]`, "", "", nil, faldone.EMALFORMED},
		{"both", "application/json", `{"items": [{}], "csv": "a\n1"}`, "", "", nil, faldone.EMALFORMED},
		{"unknown field", "application/json", `{"itemz": [{}]}`, "", "", nil, faldone.EMALFORMED},
		{"bad line", "application/x-ndjson", "{}\n[]\n", "", "", nil, faldone.EMALFORMED},
		{"ragged csv", "text/csv", "a,b\n1\n", "", "", nil, faldone.EMALFORMED},
		{"empty header", "text/csv", "a,,b\n1,2,3\n", "", "", nil, faldone.EMALFORMED},
		{"media type", "application/xml", `<a/>`, "", "", nil, faldone.EUNSUPPORTED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, lang, items, err := batch.Parse(tc.ctype, []byte(tc.body))
			if got := faldone.ErrorCode(err); got != tc.code {
				t.Fatalf("error %v, want code %q", err, tc.code)
			}
			if err != nil {
				return
			}
			var got []string
			for _, it := range items {
				got = append(got, string(it))
			}
			if kind != tc.kind || lang != tc.lang || strings.Join(got, "|") != strings.Join(tc.items, "|") {
				t.Errorf("got %q %q %v, want %q %q %v", kind, lang, got, tc.kind, tc.lang, tc.items)
			}
		})
	}
}

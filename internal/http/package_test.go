package http_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"faldone/internal/auth"
	"faldone/internal/conservazione"
	fhttp "faldone/internal/http"
	"faldone/internal/pdftest"
)

// createPath archives the whole sample path of a comune through the API,
// each document citing the one before, and returns the ids by kind.
func createPath(t *testing.T, s *fhttp.Server, dir string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	cites := map[string]string{"piano": "assessment", "approvazione": "piano", "chiusura": "approvazione"}
	for _, kind := range []string{"adesione", "assessment", "piano", "approvazione", "chiusura"} {
		body := sample(t, dir, kind)
		if c := cites[kind]; c != "" {
			body = mutate(t, body, func(m map[string]any) { m[c] = ids[c] })
		}
		resp, b := do(t, s, "POST", "/v1/documents/"+kind, "application/json", body)
		if resp.StatusCode != 201 {
			t.Fatalf("%s: status %d: %s", kind, resp.StatusCode, b)
		}
		var d fhttp.DocumentResponse
		json.Unmarshal(b, &d)
		ids[kind] = d.ID
	}
	return ids
}

// TestDossierPackage downloads the conservation package of a dossier and
// verifies it offline with the log's public key; a comune key gets its own
// package only.
func TestDossierPackage(t *testing.T) {
	s := MustServer(t)
	ids := createPath(t, s, "san-calogero")
	// The chiusura lists the whole dossier it closes, each document with
	// its id and SHA-256 as archived.
	resp0, pdf := do(t, s, "GET", "/v1/documents/"+ids["chiusura"]+"/pdf", "", nil)
	if resp0.StatusCode != 200 {
		t.Fatalf("chiusura pdf: %d", resp0.StatusCode)
	}
	text := strings.Join(strings.Fields(pdftest.Text(t, pdf)), "")
	for _, kind := range []string{"adesione", "assessment", "piano", "approvazione"} {
		if !strings.Contains(text, ids[kind]) {
			t.Errorf("the chiusura does not list the %s %s", kind, ids[kind])
		}
	}
	if !strings.Contains(text, "Documentidelfascicolo") {
		t.Error("the chiusura has no list of the dossier's documents")
	}
	resp, b := do(t, s, "GET", "/v1/audit/checkpoint", "", nil, "Accept", "application/json")
	var cp fhttp.CheckpointResponse
	if err := json.Unmarshal(b, &cp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %d %s", resp.StatusCode, b)
	}
	own := MustKey(t, s, auth.RoleComune, "102032")
	resp, pkg := do(t, s, "GET", "/v1/comuni/102032/dossier/package", "", nil, "Authorization", "Bearer "+own)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "fascicolo-FAST-102032.zip") {
		t.Fatalf("package: %d %v %.200s", resp.StatusCode, resp.Header, pkg)
	}
	rep, err := conservazione.Verify(bytes.NewReader(pkg), int64(len(pkg)), cp.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Versions != 5 {
		t.Fatalf("report %+v", rep)
	}
	other := MustKey(t, s, auth.RoleComune, "037034")
	if resp, b := do(t, s, "GET", "/v1/comuni/102032/dossier/package", "", nil, "Authorization", "Bearer "+other); resp.StatusCode != 404 {
		t.Fatalf("another comune's key: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/v1/comuni/999999/dossier/package", "/v1/comuni/037034/dossier/package"} {
		resp, b := do(t, s, "GET", path, "", nil)
		if resp.StatusCode != 404 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		problem(t, resp, b)
	}
}

// TestChainRefusals: a document that disagrees with the documents it cites
// is refused with 422, naming the field and the cited document.
func TestChainRefusals(t *testing.T) {
	s := MustServer(t)
	ids := createPath(t, s, "casaletto-spartano")
	for _, tc := range []struct {
		name, kind string
		edit       func(m map[string]any)
		path       string
		cited      string // kind of the cited document the message names
		want       string
	}{
		{"piano before its assessment", "piano", func(m map[string]any) { m["data"] = "2026-03-01" }, "$.data", "assessment", "precede"},
		{"piano of a microproject not proposed", "piano", func(m map[string]any) {
			m["microprogetto"].(map[string]any)["titolo"] = "Gestione documentale"
		}, "$.microprogetto.titolo", "assessment", "motivazione_scelta"},
		{"piano of a proposed title in another area", "piano", func(m map[string]any) {
			m["microprogetto"].(map[string]any)["area"] = "sicurezza"
		}, "$.microprogetto.area", "assessment", "Comunicazione"},
		{"approvazione before its piano", "approvazione", func(m map[string]any) {
			m["data"], m["questionario_scadenza"] = "2020-01-10", "2020-02-10"
			m["protocollo"].(map[string]any)["data"] = "2020-01-10"
			for _, o := range m["output"].([]any) {
				delete(o.(map[string]any), "data")
				o.(map[string]any)["stato"] = "non_consegnato"
			}
			m["esito"] = "negativo"
		}, "$.data", "piano", "precede"},
		{"approvazione of another microproject", "approvazione", func(m map[string]any) { m["microprogetto"] = "Altro" }, "$.microprogetto", "piano", "Nuovo sito"},
		{"approvazione with an unplanned output", "approvazione", func(m map[string]any) {
			m["output"].([]any)[0].(map[string]any)["titolo"] = "Piano della comunicazione"
		}, "$.output[0].titolo", "piano", "output_non_previsti"},
		{"approvazione that leaves out a planned output", "approvazione", func(m map[string]any) {
			m["output"] = m["output"].([]any)[:4]
		}, "$.output", "piano", "Formazione dei redattori"},
		{"questionnaire due before the letter", "approvazione", func(m map[string]any) { m["questionario_scadenza"] = "2026-10-01" }, "$.questionario_scadenza", "", "data"},
		{"approvazione positive with an output not delivered", "approvazione", func(m map[string]any) { m["esito"] = "positivo" }, "$.esito", "", "positivo"},
		{"chiusura with another outcome", "chiusura", func(m map[string]any) { m["esito"] = "negativo" }, "$.esito", "approvazione", "parziale"},
		{"chiusura with ex-ante scores not the assessment's", "chiusura", func(m map[string]any) {
			m["competenze"].(map[string]any)["dati"].(map[string]any)["ex_ante"] = 60
		}, "$.competenze.dati.ex_ante", "assessment", "44"},
		{"chiusura with a delivery date not the approvazione's", "chiusura", func(m map[string]any) {
			m["output"].([]any)[0].(map[string]any)["consegna"] = "2026-06-05"
		}, "$.output[0].consegna", "approvazione", "04/06/2026"},
		{"chiusura with more respondents than recipients", "chiusura", func(m map[string]any) {
			m["questionario"].(map[string]any)["rispondenti"] = 7
		}, "$.questionario.rispondenti", "", "destinatari"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cites := map[string]string{"piano": "assessment", "approvazione": "piano", "chiusura": "approvazione"}[tc.kind]
			body := mutate(t, sample(t, "casaletto-spartano", tc.kind), func(m map[string]any) {
				m[cites] = ids[cites]
				tc.edit(m)
			})
			resp, b := do(t, s, "POST", "/v1/documents/"+tc.kind, "application/json", body)
			if resp.StatusCode != 422 {
				t.Fatalf("status %d, want 422: %s", resp.StatusCode, b)
			}
			p := problem(t, resp, b)
			for _, e := range p.Errors {
				if e.Path != tc.path {
					continue
				}
				if !strings.Contains(e.Message, tc.want) {
					t.Errorf("%s: %q lacks %q", e.Path, e.Message, tc.want)
				}
				if tc.cited != "" && !strings.Contains(e.Message, ids[tc.cited]) {
					t.Errorf("%s: %q does not name the cited %s %s", e.Path, e.Message, tc.cited, ids[tc.cited])
				}
				return
			}
			t.Fatalf("no error at %s: %+v", tc.path, p.Errors)
		})
	}
	// The chiusura closed the dossier: a second one is refused, and the
	// dossier names the first.
	body0 := mutate(t, sample(t, "casaletto-spartano", "chiusura"), func(m map[string]any) { m["approvazione"] = ids["approvazione"] })
	resp, b := do(t, s, "POST", "/v1/documents/chiusura", "application/json", body0)
	if resp.StatusCode != 422 || !strings.Contains(string(b), ids["chiusura"]) || !strings.Contains(string(b), `"$.approvazione"`) {
		t.Fatalf("second chiusura: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, "GET", "/v1/comuni/065027/dossier", "", nil)
	var dossier fhttp.DossierResponse
	if err := json.Unmarshal(b, &dossier); err != nil || dossier.ClosedBy != ids["chiusura"] || dossier.Package != "/v1/comuni/065027/dossier/package" || len(dossier.Documents) != 5 || dossier.Documents[4].Kind != "chiusura" {
		t.Fatalf("dossier: %d %s", resp.StatusCode, b)
	}
	// A microproject the assessment did not propose, with its reason, passes.
	body := mutate(t, sample(t, "casaletto-spartano", "piano"), func(m map[string]any) {
		m["assessment"] = ids["assessment"]
		mp := m["microprogetto"].(map[string]any)
		mp["titolo"], mp["motivazione_scelta"] = "Gestione documentale", "Richiesta dal Comune dopo l'assessment per la scadenza del contratto del protocollo."
	})
	if resp, b := do(t, s, "POST", "/v1/documents/piano", "application/json", body); resp.StatusCode != 201 {
		t.Fatalf("piano with a stated reason: %d %s", resp.StatusCode, b)
	}
}

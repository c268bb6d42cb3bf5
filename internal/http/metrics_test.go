package http_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	fmetrics "faldone/internal/metrics"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// TestOperatorMetrics drives the events an operator alerts on through a
// real time-stamp authority, a TSA that refuses connections, a comune's
// countersignature made with poppler, and verifications, then reads
// /metrics: every series moved by the right amount, and promtool finds
// nothing to say about the exposition.
func TestOperatorMetrics(t *testing.T) {
	tsa, _ := testenv.StartTSA(t)
	key, _, err := keys.DevSeal(t.TempDir(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { key.Close() })
	var m *fmetrics.Metrics
	sealer := &seal.Sealer{Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TSA: &pades.TSA{URL: tsa, Timeout: 5 * time.Second}}
	s := mustServerWith(t, sealer, func(cfg *fhttp.Config) {
		m = fmetrics.New(cfg.Templates.Kinds())
		cfg.Metrics = m
		cfg.Documents.Archive = m.Archive(cfg.Documents.Archive)
		cfg.BodyLimit = 8 << 20
	})
	sealer.TSA.Client = m.TSAClient(nil)

	// Two documents sealed at B-T.
	var pdf []byte
	var id string
	for _, comune := range []string{"loiano", "suvereto"} {
		resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, comune, "adesione"))
		if resp.StatusCode != 201 {
			t.Fatalf("create: %d %s", resp.StatusCode, b)
		}
		d := decode[fhttp.DocumentResponse](t, b)
		id = d.ID
		_, pdf = do(t, s, "GET", d.Links["pdf"], "", nil)
	}
	// The TSA goes away: one document sealed at B-B by the fallback, after
	// failed attempts (a closed port on 127.0.0.1).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	sealer.TSA.URL, sealer.TSA.Retries, sealer.Fallback = closed, 1, true
	if resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "banari", "adesione")); resp.StatusCode != 201 {
		t.Fatalf("create with the fallback: %d %s", resp.StatusCode, b)
	}
	// A countersignature, and three verifications: the sealed letter is
	// valid; the countersigned copy is not (its signer's CA is not a trust
	// anchor), nor is the tampered letter.
	signed := pdftest.Countersign(t, pdf, pdftest.NewPKI(t, "Comune di Suvereto"))
	if resp, b := do(t, s, "POST", "/v1/documents/"+id+"/signed", "application/pdf", signed); resp.StatusCode != 201 {
		t.Fatalf("countersign: %d %s", resp.StatusCode, b)
	}
	tampered := bytes.Clone(pdf)
	i := bytes.Index(tampered, []byte("Suvereto"))
	tampered[i] = 'X'
	for _, f := range [][]byte{pdf, signed, tampered} {
		if resp, b := do(t, s, "POST", "/v1/verify", "application/pdf", f); resp.StatusCode != 200 {
			t.Fatalf("verify: %d %s", resp.StatusCode, b)
		}
	}
	// A checkpoint for the log's gauges.
	if resp, b := do(t, s, "GET", "/v1/audit/checkpoint", "", nil); resp.StatusCode != 200 {
		t.Fatalf("checkpoint: %d %s", resp.StatusCode, b)
	}

	resp, body := do(t, s, "GET", "/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	text := string(body)
	for _, want := range []string{
		`faldone_documents_sealed_total{kind="adesione",level="B-T"} 2`,
		`faldone_documents_sealed_total{kind="adesione",level="B-B"} 1`,
		`faldone_documents_sealed_total{kind="piano",level="B-T"} 0`,
		`faldone_seal_tsa_fallbacks_total{kind="adesione"} 1`,
		`faldone_countersignatures_total{kind="adesione"} 1`,
		`faldone_verifications_total{door="api",verdict="valid"} 1`,
		`faldone_verifications_total{door="api",verdict="not_valid"} 2`,
		`faldone_verifications_total{door="web",verdict="valid"} 0`,
		`faldone_tsa_request_duration_seconds_count{outcome="ok"} 2`,
		`faldone_tsa_request_duration_seconds_count{outcome="error"} 2`,
		`faldone_tsa_failures_total{reason="transport"} 2`,
		`faldone_audit_log_leaves 4`,
		`faldone_audit_checkpoint_leaves 4`,
		`faldone_audit_log_up 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	age := regexp.MustCompile(`(?m)^faldone_audit_checkpoint_age_seconds ([0-9.e+-]+)$`).FindStringSubmatch(text)
	if age == nil || strings.HasPrefix(age[1], "-") {
		t.Errorf("checkpoint age: %v", age)
	}

	cmd := exec.Command(testenv.Tool(t, "promtool"), "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestMetricsArchiveKeepsComuneOf: the archive the metrics wrap still
// names a document's comune without reading its record, so a comune key
// asking for another comune's document is refused by that check first.
func TestMetricsArchiveKeepsComuneOf(t *testing.T) {
	s := MustServer(t)
	a := fmetrics.New(nil).Archive(serverOf(t, s).archive)
	co, ok := a.(fhttp.ComuneOfer)
	if !ok {
		t.Fatal("the wrapped archive is no ComuneOfer")
	}
	resp, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", sample(t, "loiano", "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	d := decode[fhttp.DocumentResponse](t, b)
	if got, err := co.ComuneOf(t.Context(), d.ID); err != nil || got != "037034" {
		t.Errorf("ComuneOf = %q, %v", got, err)
	}
}

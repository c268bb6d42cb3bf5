package http_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"faldone/internal/audit"
	fhttp "faldone/internal/http"
	"faldone/internal/pdftest"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/verify"
)

// verifyEnv is an API that seals with the development seal (at B-T when a
// TSA is given) and verifies with a TreeLog over its SQLite archive, with
// a fresh audit key.
type verifyEnv struct {
	srv      *fhttp.Server
	verifier *verify.Verifier
	anchors  *verify.Anchors
}

// verifyLimit is the verification body limit of the tests' server; its
// other routes keep 64 KiB.
const verifyLimit = 1 << 20

func newVerifyEnv(tb testing.TB, tsaURL string, tsaChain []*x509.Certificate, configure ...func(*fhttp.Config)) *verifyEnv {
	tb.Helper()
	sealer := devSealer(tb, tsaURL)
	skey, vkey, err := audit.NewKey("faldone.test/log")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	anchors := &verify.Anchors{}
	anchors.Add(sealer.Key.Chain[len(sealer.Key.Chain)-1], "service")
	for _, c := range tsaChain[min(1, len(tsaChain)):] { // the TSA's token carries its own certificate only
		anchors.Add(c, "bundle:tsa.pem")
	}
	var v *verify.Verifier
	srv := mustServerWith(tb, sealer, func(cfg *fhttp.Config) {
		archive := cfg.Documents.Archive.(*sqlite.Archive)
		v = &verify.Verifier{Anchors: anchors, Archive: archive, Log: &verify.TreeLog{Store: archive, Signer: signer, VKey: vkey}, Messages: cfg.Templates}
		cfg.VerifyLimit = verifyLimit
		cfg.Verifier = v
		for _, f := range configure {
			f(cfg)
		}
	})
	return &verifyEnv{srv: srv, verifier: v, anchors: anchors}
}

// sealed creates a document of a sample and returns its description and PDF.
func (e *verifyEnv) sealed(tb testing.TB, comune, kind string) (fhttp.DocumentResponse, []byte) {
	tb.Helper()
	resp, b := do(tb, e.srv, "POST", "/v1/documents/"+kind, "application/json", sample(tb, comune, kind))
	if resp.StatusCode != 201 {
		tb.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var d fhttp.DocumentResponse
	if err := json.Unmarshal(b, &d); err != nil {
		tb.Fatal(err)
	}
	resp, pdf := do(tb, e.srv, "GET", d.Links["pdf"], "", nil)
	if resp.StatusCode != 200 {
		tb.Fatalf("pdf: %d %s", resp.StatusCode, pdf)
	}
	return d, pdf
}

// report posts pdf to /v1/verify and decodes the 200 report.
func (e *verifyEnv) report(t *testing.T, ctype string, body []byte, hdr ...string) *verify.Report {
	t.Helper()
	resp, b := do(t, e.srv, "POST", "/v1/verify", ctype, body, hdr...)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("verify: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	var r verify.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func multipartBody(tb testing.TB, field string, data []byte) (string, []byte) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile(field, "documento.pdf")
	if err != nil {
		tb.Fatal(err)
	}
	part.Write(data)
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func reasonCodes(r *verify.Report, severity string) []string {
	var out []string
	for _, x := range r.Reasons {
		if x.Severity == severity {
			out = append(out, x.Code)
		}
	}
	return out
}

func hasReason(r *verify.Report, code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

func TestVerifySealedDocument(t *testing.T) {
	tsa, chain := testenv.StartTSA(t)
	e := newVerifyEnv(t, tsa, chain)
	d, pdf := e.sealed(t, "loiano", "adesione")

	check := func(t *testing.T, r *verify.Report) {
		t.Helper()
		if !r.Valid || r.SHA256 != d.SHA256 || r.Size != int64(len(pdf)) {
			t.Fatalf("valid %v sha256 %s size %d: %+v", r.Valid, r.SHA256, r.Size, r.Reasons)
		}
		if len(r.Signatures) != 1 {
			t.Fatalf("%d signatures", len(r.Signatures))
		}
		s := r.Signatures[0]
		if s.Level != "B-T" || !s.Intact || !s.Trusted || s.TrustTimeSource != "timestamp" || s.Timestamp == nil || !s.Timestamp.Trusted || s.DocMDP != 2 {
			t.Errorf("signature %+v timestamp %+v", s, s.Timestamp)
		}
		if len(r.Archived) != 1 || r.Archived[0].ID != d.ID || r.Archived[0].Version != 1 || r.Archived[0].Comune != "037034" ||
			r.Archived[0].Kind != "adesione" || r.Archived[0].Inclusion == nil || !r.Archived[0].Inclusion.Verified {
			t.Errorf("archived %+v", r.Archived)
		}
		if got := strings.Join(r.Archived[0].Conformance, ","); got != "PDF/A-2b,PDF/UA-1" || strings.Join(d.Conformance, ",") != got {
			t.Errorf("conformance: report %q, document %q", got, d.Conformance)
		}
		if got := reasonCodes(r, verify.SeverityInfo); strings.Join(got, ",") != "archived,included" {
			t.Errorf("info reasons %v", got)
		}
	}
	t.Run("raw", func(t *testing.T) {
		r := e.report(t, "application/pdf", pdf)
		check(t, r)
		if r.Lang != "it" || !strings.HasPrefix(r.Summary, "Valido") {
			t.Errorf("default language: %s %q", r.Lang, r.Summary)
		}
	})
	t.Run("multipart in English", func(t *testing.T) {
		ct, body := multipartBody(t, "file", pdf)
		r := e.report(t, ct, body, "Accept-Language", "en-GB,en;q=0.8")
		check(t, r)
		if r.Lang != "en" || !strings.HasPrefix(r.Summary, "Valid") {
			t.Errorf("language: %s %q", r.Lang, r.Summary)
		}
	})
	t.Run("byte flipped", func(t *testing.T) {
		bad := bytes.Clone(pdf)
		i := bytes.Index(bad, []byte("stream\n")) + len("stream\n") + 10
		bad[i] ^= 0x01
		r := e.report(t, "application/pdf", bad, "Accept-Language", "de")
		if r.Valid || !hasReason(r, verify.CodeContentModified) || r.Signatures[0].Intact {
			t.Fatalf("valid %v: %+v", r.Valid, r.Reasons)
		}
		if r.Lang != "de" || r.Reasons[0].Message == "" || strings.HasPrefix(r.Reasons[0].Message, "verify.") {
			t.Errorf("reason not localised: %+v", r.Reasons[0])
		}
		if len(r.Archived) != 0 || !hasReason(r, verify.CodeNotArchived) {
			t.Errorf("a modified file is archived: %+v", r.Archived)
		}
	})
	t.Run("countersigned", func(t *testing.T) {
		comune := pdftest.NewPKI(t, "Comune di Loiano")
		signed := pdftest.Countersign(t, pdf, comune)
		r := e.report(t, "application/pdf", signed)
		if r.Valid || len(r.Signatures) != 2 || strings.Join(reasonCodes(r, verify.SeverityError), ",") != verify.CodeUntrustedSigner {
			t.Fatalf("untrusted comune: valid %v, %d signatures, %+v", r.Valid, len(r.Signatures), r.Reasons)
		}
		if !hasReason(r, verify.CodeAppendedAllowed) || !hasReason(r, verify.CodeArchivedPrefix) || r.Archived[0].WholeFile || r.Archived[0].Bytes != int64(len(pdf)) {
			t.Errorf("reasons %+v archived %+v", r.Reasons, r.Archived)
		}
		if _, err := e.anchors.AddPEM(comune.CAPEM, "bundle:comuni.pem"); err != nil {
			t.Fatal(err)
		}
		if r := e.report(t, "application/pdf", signed); !r.Valid || !r.Signatures[1].Trusted {
			t.Fatalf("trusted comune: %+v", r.Reasons)
		}
	})
}

func TestVerifyRefusals(t *testing.T) {
	e := newVerifyEnv(t, "", nil)
	_, pdf := e.sealed(t, "banari", "adesione")
	ctNoFile, noFile := multipartBody(t, "documento", pdf)
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		status      int
		code        string
	}{
		{"not a pdf", "application/pdf", []byte("questo non è un PDF"), 422, "invalid"},
		{"empty", "application/pdf", nil, 422, "invalid"},
		{"truncated", "application/pdf", pdf[:len(pdf)/2], 422, "invalid"},
		{"json", "application/json", []byte(`{"pdf":true}`), 415, "unsupported"},
		{"no content type", "", pdf, 415, "unsupported"},
		{"text", "text/plain", pdf, 415, "unsupported"},
		{"multipart without file", ctNoFile, noFile, 422, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, e.srv, "POST", "/v1/verify", tc.ctype, tc.body, "Accept-Language", "en")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			p := problem(t, resp, b)
			if p.Code != tc.code || p.Detail == "" || strings.HasPrefix(p.Detail, "error.") {
				t.Errorf("problem %+v", p)
			}
		})
	}
	t.Run("compressed bodies", func(t *testing.T) {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(make([]byte, 64<<20)) // inflates to 64 MiB, over every limit
		w.Close()
		for path, ctype := range map[string]string{"/v1/verify": "application/pdf", "/v1/documents/adesione": "application/json"} {
			resp, b := do(t, e.srv, "POST", path, ctype, gz.Bytes(), "Content-Encoding", "gzip", "Accept-Language", "en")
			if p := problem(t, resp, b); resp.StatusCode != 415 || !strings.Contains(p.Detail, "gzip") {
				t.Errorf("%s: %d %+v", path, resp.StatusCode, p)
			}
		}
	})
	t.Run("localised", func(t *testing.T) {
		resp, b := do(t, e.srv, "POST", "/v1/verify?lang=it", "application/pdf", []byte("garbage"))
		if p := problem(t, resp, b); resp.StatusCode != 422 || !strings.Contains(p.Detail, "PDF leggibile") {
			t.Errorf("%d %+v", resp.StatusCode, p)
		}
	})
	t.Run("other routes keep their limit", func(t *testing.T) {
		body := []byte(`{"note":"` + strings.Repeat("x", 100<<10) + `"}`)
		resp, b := do(t, e.srv, "POST", "/v1/documents/adesione", "application/json", body, "Accept-Language", "en")
		if p := problem(t, resp, b); resp.StatusCode != 413 || !strings.Contains(p.Detail, "65536") {
			t.Errorf("%d %+v", resp.StatusCode, p)
		}
	})
}

// TestVerifyLimitOnTheWire: a body over every route's limit is refused by
// the HTTP server before it is read; one over the documents' limit but
// under the verification limit still reaches /v1/verify.
func TestVerifyLimitOnTheWire(t *testing.T) {
	e := newVerifyEnv(t, "", nil)
	_, pdf := e.sealed(t, "suvereto", "adesione")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.App().Listener(ln)
	t.Cleanup(func() { _ = e.srv.App().Shutdown() })
	base := "http://" + ln.Addr().String()
	post := func(path, ctype string, body []byte) (int, []byte) {
		// The server answers 413 and closes without reading an oversized
		// body; the kernel may then reset the connection before the client
		// has read the answer. Such a reset is retried, an answer never is.
		var resp *nethttp.Response
		var err error
		for try := range 50 {
			if resp, err = nethttp.Post(base+path, ctype, bytes.NewReader(body)); err == nil {
				break
			}
			time.Sleep(time.Duration(try) * time.Millisecond) // a loaded machine resets more often
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	padded := append(bytes.Clone(pdf), bytes.Repeat([]byte("\n"), 100<<10)...) // trailing bytes after %%EOF
	if status, b := post("/v1/verify", "application/pdf", padded); status != 200 || !bytes.Contains(b, []byte(`"sha256"`)) {
		t.Fatalf("padded: %d %s", status, b)
	}
	if status, b := post("/v1/documents/x/signed", "application/pdf", padded); status != 413 || !bytes.Contains(b, []byte("65536")) {
		t.Fatalf("padded to another route: %d %s", status, b)
	}
	big := append(bytes.Clone(pdf), bytes.Repeat([]byte("%"), verifyLimit)...)
	ctBig, bigForm := multipartBody(t, "file", big)
	for name, req := range map[string][2]string{"raw": {"application/pdf", string(big)}, "multipart": {ctBig, string(bigForm)}} {
		status, b := post("/v1/verify?lang=en", req[0], []byte(req[1]))
		if status != 413 || !bytes.Contains(b, []byte(`"too_large"`)) || !bytes.Contains(b, []byte("1048576 bytes")) {
			t.Errorf("%s over the limit: %d %s", name, status, b)
		}
	}
}

func TestEvidenceDownload(t *testing.T) {
	e := newVerifyEnv(t, "", nil)
	d, pdf := e.sealed(t, "loiano", "adesione")
	e.sealed(t, "banari", "adesione")
	resp, b := do(t, e.srv, "GET", "/v1/documents/"+d.ID+"/evidence?version=1", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), d.ID+"-v1-evidence.json") {
		t.Fatalf("evidence: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	bundle, err := verify.ParseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bundle.PDF, pdf) || bundle.TreeSize != 2 || bundle.LogKey != e.verifier.Log.PublicKey() {
		t.Fatalf("bundle %s v%d tree %d", bundle.ID, bundle.Version, bundle.TreeSize)
	}
	off, err := bundle.Offline(nil, e.verifier.Log.PublicKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := off.Verify(context.Background(), pdf, "en")
	if err != nil || !r.Valid {
		t.Fatalf("offline: %v %+v", err, r)
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/v1/documents/" + d.ID + "/evidence", 200},
		{"/v1/documents/" + d.ID + "/evidence?version=2", 404},
		{"/v1/documents/" + d.ID + "/evidence?version=zero", 422},
		{"/v1/documents/aaaaaaaaaaaaaaaaaaaaaaaaaa/evidence", 404},
	} {
		resp, b := do(t, e.srv, "GET", tc.path, "", nil)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s", tc.path, resp.StatusCode, b)
		} else if tc.status != 200 {
			problem(t, resp, b)
		}
	}
	t.Run("without a verifier", func(t *testing.T) {
		s := mustServerWith(t, nil, func(cfg *fhttp.Config) { cfg.Verifier = nil })
		for _, r := range []struct{ method, path, ctype string }{{"GET", "/v1/documents/" + d.ID + "/evidence", ""}, {"POST", "/v1/verify", "application/pdf"}} {
			body := pdf
			if r.method == "GET" {
				body = nil
			}
			resp, b := do(t, s, r.method, r.path, r.ctype, body)
			if resp.StatusCode != 503 {
				t.Errorf("%s %s: %d %s", r.method, r.path, resp.StatusCode, b)
			}
			problem(t, resp, b)
		}
	})
}

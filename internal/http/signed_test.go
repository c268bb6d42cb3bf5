package http_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// signedEnv is an API sealing at B-T with a development seal whose CA
// file is known, so that independent validators can trust it.
type signedEnv struct {
	s      *fhttp.Server
	caFile string
}

func newSignedEnv(t *testing.T) *signedEnv {
	t.Helper()
	tsa, _ := testenv.StartTSA(t)
	keyDir := t.TempDir()
	key, _, err := keys.DevSeal(keyDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { key.Close() })
	sealer := &seal.Sealer{Key: key, TSA: &pades.TSA{URL: tsa, Timeout: 5 * time.Second}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s := mustServerWith(t, sealer, func(cfg *fhttp.Config) { cfg.BodyLimit = 0 })
	return &signedEnv{s: s, caFile: filepath.Join(keyDir, keys.DevCAFile)}
}

func (e *signedEnv) create(t *testing.T, comune string) (fhttp.DocumentResponse, []byte) {
	t.Helper()
	resp, b := do(t, e.s, "POST", "/v1/documents/adesione", "application/json", sample(t, comune, "adesione"))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var d fhttp.DocumentResponse
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	_, pdf := do(t, e.s, "GET", d.Links["pdf"], "", nil)
	return d, pdf
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestReturnCountersignedCopy: the comune signs the sealed PDF with
// poppler's pdfsig (adbe.pkcs7.detached, software that is not ours) and
// sends it back, raw or as a form upload; it becomes version 2, signed by
// the comune, and both signatures validate with pdfsig, mupdf and
// pdfsign, and pdfcpu still sees the seal as the certification.
func TestReturnCountersignedCopy(t *testing.T) {
	e := newSignedEnv(t)
	comunePKI := pdftest.NewPKI(t, "Comune di Suvereto")
	for _, tc := range []struct{ name, ctype string }{{"raw", "application/pdf"}, {"multipart", "multipart"}} {
		t.Run(tc.name, func(t *testing.T) {
			d, sealed := e.create(t, "suvereto")
			if d.Seal.Level != "B-T" {
				t.Fatalf("seal %+v", d.Seal)
			}
			signed := pdftest.Countersign(t, sealed, comunePKI)
			sigs, err := pades.Inspect(signed)
			if err != nil || len(sigs) != 2 || sigs[1].SubFilter != "adbe.pkcs7.detached" {
				t.Fatalf("pdfsig's signature: %v %+v", err, sigs)
			}
			body, ctype := signed, tc.ctype
			if tc.ctype == "multipart" {
				var buf bytes.Buffer
				w := multipart.NewWriter(&buf)
				fw, _ := w.CreateFormFile("file", "firmato.pdf")
				fw.Write(signed)
				w.Close()
				body, ctype = buf.Bytes(), w.FormDataContentType()
			}
			resp, b := do(t, e.s, "POST", d.Links["signed"], ctype, body)
			if resp.StatusCode != 201 {
				t.Fatalf("return: %d %s", resp.StatusCode, b)
			}
			var v2 fhttp.DocumentResponse
			if err := json.Unmarshal(b, &v2); err != nil {
				t.Fatal(err)
			}
			if v2.ID != d.ID || v2.Version != 2 || v2.State != faldone.StateSignedComune || !v2.Seal.ComuneSigned || v2.SHA256 != hexSHA(signed) {
				t.Fatalf("version 2 = %+v", v2)
			}
			if len(v2.Conformance) != 0 || len(d.Conformance) == 0 {
				t.Errorf("conformance: sealed %v, countersigned %v (claims nothing)", d.Conformance, v2.Conformance)
			}
			if v2.Links["pdf"] != d.Links["self"]+"/pdf?version=2" {
				t.Errorf("links %v", v2.Links)
			}
			_, got := do(t, e.s, "GET", d.Links["self"]+"/pdf", "", nil)
			if !bytes.Equal(got, signed) {
				t.Fatal("the newest PDF is not the countersigned copy")
			}
			_, got = do(t, e.s, "GET", d.Links["self"]+"/pdf?version=1", "", nil)
			if !bytes.Equal(got, sealed) {
				t.Fatal("version 1 is not the sealed PDF")
			}
			if err := pdftest.Pdfsig(t, pdftest.NSSDB(t, e.caFile, comunePKI.CAFile), got, 1); err != nil {
				t.Fatal(err)
			}
			if err := pdftest.Pdfsig(t, pdftest.NSSDB(t, e.caFile, comunePKI.CAFile), signed, 2); err != nil {
				t.Fatal(err)
			}
			if err := pdftest.Mutool(t, signed, 2); err != nil {
				t.Fatal(err)
			}
			if err := pdftest.Pdfsign(signed, 2); err != nil {
				t.Fatal(err)
			}
			if certified, perms, err := pdftest.PdfcpuCertification(signed); err != nil || !certified || perms != 2 {
				t.Fatalf("pdfcpu: certified %v, permissions %d, %v", certified, perms, err)
			}
			// Once signed, the document awaits no signature: a further
			// copy is refused, whatever it holds (a new signature is a
			// new request of the task force).
			resp, b = do(t, e.s, "POST", d.Links["signed"], "application/pdf", signed)
			if p := problem(t, resp, b); resp.StatusCode != 409 || p.Code != faldone.ECONFLICT || !strings.Contains(p.Detail, "non attende la firma") {
				t.Fatalf("second return: %d %s", resp.StatusCode, b)
			}
		})
	}
}

// TestReturnCountersignedCAdES: a PAdES (ETSI.CAdES.detached) signature by
// the comune is accepted too.
func TestReturnCountersignedCAdES(t *testing.T) {
	e := newSignedEnv(t)
	p := pdftest.NewPKI(t, "Comune di Banari")
	d, sealed := e.create(t, "banari")
	signed, _, err := pades.Sign(context.Background(), sealed, pades.Options{Signer: p.Key, Chain: []*x509.Certificate{p.Leaf, p.CA}})
	if err != nil {
		t.Fatal(err)
	}
	resp, b := do(t, e.s, "POST", d.Links["signed"], "application/pdf", signed)
	if resp.StatusCode != 201 {
		t.Fatalf("return: %d %s", resp.StatusCode, b)
	}
}

// TestReturnBrokenCountersignature: a countersigned copy whose new
// signature does not verify, or that appends a change the seal's DocMDP
// P=2 forbids, is refused with the reason.
func TestReturnBrokenCountersignature(t *testing.T) {
	e := newSignedEnv(t)
	p := pdftest.NewPKI(t, "Comune di Loiano")
	d, sealed := e.create(t, "loiano")
	signed := pdftest.Countersign(t, sealed, p)
	sigs, err := pades.Inspect(signed)
	if err != nil || len(sigs) != 2 {
		t.Fatal(err)
	}
	// Flip a byte of the comune's revision inside its signed range.
	broken := bytes.Clone(signed)
	broken[len(sealed)+10] ^= 0x01
	resp, b := do(t, e.s, "POST", d.Links["signed"], "application/pdf", broken)
	if resp.StatusCode != 422 {
		t.Fatalf("broken signature: %d %s", resp.StatusCode, b)
	}
	if p := problem(t, resp, b); !bytes.Contains([]byte(p.Detail), []byte("invalid_signature")) {
		t.Errorf("detail %q lacks invalid_signature", p.Detail)
	}
	// A byte changed in the sealed part: not a prefix any more.
	changed := bytes.Clone(signed)
	changed[len(sealed)/2] ^= 0x01
	resp, b = do(t, e.s, "POST", d.Links["signed"], "application/pdf", changed)
	if resp.StatusCode != 422 {
		t.Fatalf("changed sealed part: %d %s", resp.StatusCode, b)
	}
	if p := problem(t, resp, b); !bytes.Contains([]byte(p.Detail), []byte("not_prefix")) {
		t.Errorf("detail %q lacks not_prefix", p.Detail)
	}
}

// TestReturnBrokenCountersignatureInItalian: every message of the
// problem refusing a broken countersignature is in the caller's
// language, never the library's English ("pkcs7: ...").
func TestReturnBrokenCountersignatureInItalian(t *testing.T) {
	e := newSignedEnv(t)
	d, sealed := e.create(t, "loiano")
	signed := pdftest.Countersign(t, sealed, pdftest.NewPKI(t, "Comune di Loiano"))
	broken := bytes.Clone(signed)
	broken[len(sealed)+10] ^= 0x01
	for _, tc := range []struct {
		name string
		pdf  []byte
		code string
	}{
		{"broken signature", broken, "invalid_signature"},
		{"unchanged copy", sealed, "no_new_signature"},
		{"not the sealed file", append([]byte("%PDF-1.4\n"), sealed[9:]...), "not_prefix"},
	} {
		resp, b := do(t, e.s, "POST", d.Links["signed"], "application/pdf", tc.pdf, "Accept-Language", "it")
		p := problem(t, resp, b)
		if resp.StatusCode != 422 || len(p.Errors) == 0 {
			t.Fatalf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
		found := false
		for _, f := range p.Errors {
			found = found || f.Code == tc.code
			low := strings.ToLower(f.Message)
			if f.Message == "" || strings.Contains(low, "pkcs7") || strings.Contains(low, "signature") || strings.Contains(low, "differs") || strings.Contains(low, "mismatch") {
				t.Errorf("%s: error %+v is not a message in Italian", tc.name, f)
			}
		}
		if !found {
			t.Errorf("%s: no error %s in %s", tc.name, tc.code, b)
		}
	}
}

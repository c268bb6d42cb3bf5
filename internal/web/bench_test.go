package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkVerifyPage measures POST /verifica of a sealed letter: upload,
// verification with the archive and the inclusion proof, and the page.
func BenchmarkVerifyPage(b *testing.B) {
	e := newEnv(b)
	_, pdf := e.create(b, "loiano", "adesione")
	c := e.client(b)
	tok := csrf(b, c.get("/verifica"))
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf", tok)
	fw, _ := w.CreateFormFile("pdf", "adesione.pdf")
	fw.Write(pdf)
	w.Close()
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/verifica", bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", w.FormDataContentType())
		p := c.do(req)
		if p.StatusCode != 200 || !strings.Contains(p.Body, "Documento valido") {
			b.Fatalf("status %d", p.StatusCode)
		}
	}
}

// BenchmarkDossierPage measures GET /comune of a signed-in comune with the
// documents of the first two steps of the workflow.
func BenchmarkDossierPage(b *testing.B) {
	e := newEnv(b)
	for _, kind := range []string{"adesione", "assessment"} {
		e.create(b, "loiano", kind)
	}
	c := e.client(b)
	c.signIn(e.keyOf(loiano))
	b.ReportAllocs()
	for b.Loop() {
		if p := c.get("/comune"); p.StatusCode != 200 || !strings.Contains(p.Body, "Assessment") {
			b.Fatalf("status %d", p.StatusCode)
		}
	}
}

package web_test

import (
	"context"
	"crypto/x509"
	"html"
	"strings"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/verify"
	"faldone/internal/web"
)

// TestPagesShowTheSigner: the dossier shows who signed for the comune,
// trusted or not, and why not; the verification page shows the signer's
// serial number, issuer, qualification and when trust was decided; in
// production an untrusted signer is refused in plain words.
func TestPagesShowTheSigner(t *testing.T) {
	var anchors *verify.Anchors
	e := newEnv(t, func(cfg *web.Config) { anchors = cfg.Verifier.Anchors })
	e.svc.Trust = (&verify.Verifier{Anchors: anchors}).Policy()
	good := pdftest.NewPKIWith(t, "Maria Rossi", pdftest.PKIOptions{SerialNumber: "TINIT-RSSMRA80A41H501U", Qualified: true})
	anchors.Add(good.CA, "bundle:comuni.pem")
	self := pdftest.NewPKIWith(t, "Comune di Nessuno", pdftest.PKIOptions{SelfSigned: true})
	countersign := func(p *pdftest.PKI, sealed []byte) []byte {
		out, _, err := pades.Sign(context.Background(), sealed, pades.Options{Signer: p.Key, Chain: []*x509.Certificate{p.Leaf, p.CA}, FieldName: "FirmaComune"})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	c := e.client(t)
	c.signIn(e.keyOf(loiano))
	rec1, pdf1 := e.create(t, "loiano", "adesione")
	rec2, pdf2 := e.create(t, "loiano", "adesione")
	p := c.get("/comune")
	signed1 := countersign(good, pdf1)
	if up := c.postFile("/comune/documenti/"+rec1.ID+"/firmato", csrf(t, p), signed1); up.StatusCode != 303 {
		t.Fatalf("trusted upload: %d %s", up.StatusCode, up.Body)
	}
	if up := c.postFile("/comune/documenti/"+rec2.ID+"/firmato", csrf(t, p), countersign(self, pdf2)); up.StatusCode != 303 {
		t.Fatalf("untrusted upload in development: %d %s", up.StatusCode, up.Body)
	}
	p = c.get("/comune")
	body := html.UnescapeString(p.Body)
	for _, want := range []string{
		"Firmato da Maria Rossi (TINIT-RSSMRA80A41H501U), certificato emesso da Maria Rossi CA, qualificato: attendibile.",
		"Firmato da Comune di Nessuno, certificato emesso da Comune di Nessuno: NON attendibile (non risale a un'autorità di certificazione attendibile).",
		`class="small signer text-danger untrusted"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dossier lacks %q", want)
		}
	}

	v := html.UnescapeString(c.postFile("/verifica", csrf(t, c.get("/verifica")), signed1).Body)
	for _, want := range []string{"Numero di serie del titolare: TINIT-RSSMRA80A41H501U.", "Certificato emesso da Maria Rossi CA.",
		"Certificato qualificato, secondo i suoi QCStatements.", "L'attendibilità è stata decisa al", "data di questa verifica, non alla data dichiarata dal firmatario."} {
		if !strings.Contains(v, want) {
			t.Errorf("verification page lacks %q", want)
		}
	}

	e.svc.RequireTrusted = true
	rec3, pdf3 := e.create(t, "loiano", "adesione")
	p = c.get("/comune")
	expired := pdftest.NewPKIWith(t, "Mario Bianchi", pdftest.PKIOptions{NotBefore: time.Now().Add(-30 * 24 * time.Hour), NotAfter: time.Now().Add(-10 * 24 * time.Hour)})
	anchors.Add(expired.CA, "bundle:comuni.pem")
	out, _, err := pades.Sign(context.Background(), pdf3, pades.Options{Signer: expired.Key, Chain: []*x509.Certificate{expired.Leaf, expired.CA}, Time: time.Now().Add(-20 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	up := c.postFile("/comune/documenti/"+rec3.ID+"/firmato", csrf(t, p), out)
	body = html.UnescapeString(up.Body)
	if up.StatusCode != 422 || !strings.Contains(body, "il firmatario «SERIALNUMBER") && !strings.Contains(body, "Mario Bianchi") ||
		!strings.Contains(body, "non è attendibile (certificato non valido alla data dell'attendibilità; data anteriore a quella di una firma precedente)") || !strings.Contains(body, "Firma 2: il certificato di") {
		t.Errorf("production refusal: %d %s", up.StatusCode, body)
	}
}

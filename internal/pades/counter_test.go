package pades

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// sealLetter signs the test letter as the service does: a certification
// B-B seal.
func sealLetter(t *testing.T) ([]byte, *testPKI) {
	t.Helper()
	pki := newPKI(t, "ecdsa", "Formez PA sigillo")
	out, _, err := Sign(context.Background(), testLetter(t), Options{
		Signer: pki.key, Chain: pki.chain(), Certify: true, Name: "Formez PA", Reason: "Sigillo",
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, pki
}

// popplerCountersign signs pdf with poppler's pdfsig, using a "comune"
// key imported from a PKCS#12 file into the NSS database.
func popplerCountersign(t *testing.T, pdf []byte, nss string, comune *testPKI) []byte {
	t.Helper()
	need(t, "pdfsig", "pk12util", "openssl")
	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(comune.key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, certFile, p12 := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "comune.p12")
	writePEM(t, keyFile, "PRIVATE KEY", key)
	writePEM(t, certFile, "CERTIFICATE", comune.leaf.Raw)
	mustRun(t, "openssl", "pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-certfile", comune.caFile,
		"-name", "comune", "-passout", "pass:test", "-out", p12)
	mustRun(t, "pk12util", "-i", p12, "-d", "sql:"+nss, "-W", "test")
	in, out := filepath.Join(dir, "sealed.pdf"), filepath.Join(dir, "returned.pdf")
	writeFile(t, in, pdf)
	mustRun(t, "pdfsig", "-add-signature", "-nssdir", "sql:"+nss, "-nick", "comune",
		"-new-signature-field-name", "FirmaComune", "-reason", "Approvato", in, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// appendContentChange appends an unsigned incremental update that
// replaces the content stream of page 1.
func appendContentChange(t *testing.T, pdf []byte) []byte {
	t.Helper()
	doc, err := parseDocument(pdf)
	if err != nil {
		t.Fatal(err)
	}
	_, page, err := firstPage(doc, doc.dict(doc.trailer["Root"]))
	if err != nil {
		t.Fatal(err)
	}
	ref, ok := page["Contents"].(Ref)
	if !ok {
		t.Fatalf("page /Contents is %T", page["Contents"])
	}
	content := "BT /F1 24 Tf 72 700 Td (Importo: 1.000.000 EUR) Tj ET"
	var b bytes.Buffer
	b.Write(pdf)
	off := b.Len()
	fmt.Fprintf(&b, "%d %d obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", ref.Num, ref.Gen, len(content), content)
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d 1\n%010d %05d n \ntrailer\n", ref.Num, off, ref.Gen)
	tr := Dict{"Size": doc.trailer["Size"], "Root": doc.trailer["Root"], "Prev": doc.startxref}
	if err := writeObject(&b, tr); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

func TestCheckCountersigned(t *testing.T) {
	need(t, "pdfsig", "certutil", "pk12util", "openssl", "qpdf")
	sealed, seal := sealLetter(t)
	comune := newPKI(t, "rsa", "Sindaco di Loiano")
	nss := nssDB(t, seal.caFile, comune.caFile)
	returned := popplerCountersign(t, sealed, nss, comune)

	rep, err := CheckCountersigned(sealed, returned)
	if err != nil {
		t.Fatalf("poppler countersignature refused: %v", err)
	}
	if !rep.OK || len(rep.New) != 1 || rep.New[0].SubFilter != "adbe.pkcs7.detached" ||
		!bytes.Equal(rep.New[0].Signer.Raw, comune.leaf.Raw) || rep.New[0].FieldName != "FirmaComune" {
		t.Fatalf("unexpected report %+v", rep)
	}
	sigs, err := Inspect(returned)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[0].IntegrityErr != nil || sigs[0].CoversWholeFile || sigs[0].DocMDP != 2 ||
		sigs[0].RevisionEnd != int64(len(sealed)) || sigs[1].IntegrityErr != nil || !sigs[1].CoversWholeFile {
		t.Fatalf("Inspect after countersignature: %+v", sigs)
	}
	if err := pdfsigCheck(t, nss, returned, 2); err != nil {
		t.Fatal(err)
	}
	if err := pdfcpuCheck(returned, 2); err != nil {
		t.Fatal(err)
	}
	if err := qpdfCheck(t, returned); err != nil {
		t.Fatal(err)
	}

	// Our own signer adding an approval signature is accepted too.
	approver := newPKI(t, "ecdsa", "Segretario comunale")
	approved, _, err := Sign(context.Background(), sealed, Options{Signer: approver.key, Chain: approver.chain()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckCountersigned(sealed, approved); err != nil {
		t.Fatalf("approval signature refused: %v", err)
	}

	modified := bytes.Clone(returned)
	modified[len(sealed)/2] ^= 0x01
	corrupt := bytes.Clone(returned)
	br := sigs[1].ByteRange
	pos := br[1] + 1 + 2*int64(len(sigs[1].Contents)) - 20 // inside the RSA signature value
	corrupt[pos] = "01"[btoi(corrupt[pos] == '0')]

	for _, tc := range []struct {
		name     string
		returned []byte
		want     []string
	}{
		{"truncated", sealed[:len(sealed)-10], []string{ReasonNotPrefix}},
		{"modified prefix", modified, []string{ReasonNotPrefix}},
		{"unchanged", sealed, []string{ReasonNoNewSignature}},
		{"unsigned content change", appendContentChange(t, sealed), []string{ReasonNoNewSignature, ReasonDocMDPViolation}},
		{"content change after countersignature", appendContentChange(t, returned), []string{ReasonDocMDPViolation}},
		{"corrupted countersignature", corrupt, []string{ReasonInvalidSignature}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := CheckCountersigned(sealed, tc.returned)
			var ce *CountersignError
			if !errors.As(err, &ce) || rep == nil || rep.OK {
				t.Fatalf("got %v, want a CountersignError", err)
			}
			var got []string
			for _, p := range ce.Problems {
				if len(got) == 0 || got[len(got)-1] != p.Reason {
					got = append(got, p.Reason)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("reasons %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

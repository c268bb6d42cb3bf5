package pades

import (
	"bytes"
	"context"
	"testing"
)

// TestCertificationDeclaresPDF17: the vendored writer says PDF 1.7 in its
// header (PDF/A-2 wants 1.0 to 1.7), so certifying its output adds no
// /Version; a certification of a file that says it is older than PDF 1.7
// declares /Version /1.7 in the catalog, so that /Perms (1.5) and the
// ETSI.CAdES.detached sub-filter (1.7) are within the version; a later
// signature changes no version; pdfcpu then sees the certification.
func TestCertificationDeclaresPDF17(t *testing.T) {
	p := newPKI(t, "rsa", "Version")
	current := testLetter(t)
	if !bytes.HasPrefix(current, []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")) {
		t.Fatalf("test letter header %q", current[:16])
	}
	sealed17, _, err := Sign(context.Background(), current, Options{Signer: p.key, Chain: p.chain(), Certify: true})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed17[len(current):], []byte("/Version")) {
		t.Error("certifying a PDF 1.7 file declares a version")
	}
	// The same letter relabelled as PDF 1.3 (same length, offsets unchanged).
	in := append([]byte("%PDF-1.3"), current[len("%PDF-1.7"):]...)
	doc, err := parseDocument(in)
	if err != nil {
		t.Fatal(err)
	}
	if v := pdfVersion(doc, doc.dict(doc.trailer["Root"])); v != "1.3" {
		t.Fatalf("version of the letter %q", v)
	}
	sealed, _, err := Sign(context.Background(), in, Options{Signer: p.key, Chain: p.chain(), Certify: true})
	if err != nil {
		t.Fatal(err)
	}
	doc, err = parseDocument(sealed)
	if err != nil {
		t.Fatal(err)
	}
	catalog := doc.dict(doc.trailer["Root"])
	if v := catalog.name("Version"); v != "1.7" || pdfVersion(doc, catalog) != "1.7" {
		t.Fatalf("sealed catalog /Version %q", v)
	}
	if certified, perms, err := pdfcpuCertification(sealed); err != nil || !certified || perms != 2 {
		t.Fatalf("pdfcpu: certified %v, permissions %d, %v", certified, perms, err)
	}
	// An approval signature afterwards rewrites no catalog.
	signed, _, err := Sign(context.Background(), sealed, Options{Signer: p.key, Chain: p.chain(), FieldName: "Comune"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(signed[len(sealed):], []byte("/Version")) {
		t.Error("the approval signature declares a version")
	}
	for _, tc := range []struct{ header, catalog, want string }{
		{"%PDF-1.7", "", "1.7"}, {"%PDF-2.0", "", "2.0"}, {"%PDF-1.4", "1.6", "1.6"}, {"%PDF-1.7", "1.4", "1.7"}, {"garbage", "", ""},
	} {
		d := &document{data: []byte(tc.header + "\n")}
		c := Dict{}
		if tc.catalog != "" {
			c["Version"] = Name(tc.catalog)
		}
		if got := pdfVersion(d, c); got != tc.want {
			t.Errorf("header %q, catalog %q: %q, want %q", tc.header, tc.catalog, got, tc.want)
		}
	}
}

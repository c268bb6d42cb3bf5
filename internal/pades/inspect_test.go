package pades

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// TestSignXrefStream signs a file whose cross-reference table is a
// stream and whose objects sit in object streams (qpdf output).
func TestSignXrefStream(t *testing.T) {
	need(t, "qpdf", "pdfsig", "certutil")
	in := writeTemp(t, "in.pdf", testLetter(t))
	outFile := writeTemp(t, "objstm.pdf", nil)
	mustRun(t, "qpdf", "--object-streams=generate", in, outFile)
	src := readFile(t, outFile)
	if !bytes.Contains(src, []byte("/ObjStm")) || !bytes.Contains(src, []byte("/XRef")) {
		t.Fatal("qpdf did not produce object and xref streams")
	}
	pki := newPKI(t, "ecdsa", "seal")
	out, res, err := Sign(context.Background(), src, Options{Signer: pki.key, Chain: pki.chain(), Certify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, src) || bytes.Contains(out[len(src):], []byte("\nxref\n")) {
		t.Fatal("update is not an xref stream appended to the input")
	}
	if err := pdfsigCheck(t, nssDB(t, pki.caFile), out, 1); err != nil {
		t.Fatal(err)
	}
	if err := pdfcpuCheck(out, 1); err != nil {
		t.Fatal(err)
	}
	if err := qpdfCheck(t, out); err != nil {
		t.Fatal(err)
	}
	sigs, err := Inspect(out)
	if err != nil || len(sigs) != 1 || sigs[0].IntegrityErr != nil || sigs[0].ByteRange != res.ByteRange {
		t.Fatalf("Inspect: %+v %v", sigs, err)
	}
}

func TestSignTwiceAndRevisions(t *testing.T) {
	in := testLetter(t)
	a, b := newPKI(t, "ecdsa", "first"), newPKI(t, "rsa", "second")
	once, _, err := Sign(context.Background(), in, Options{Signer: a.key, Chain: a.chain(), Certify: true})
	if err != nil {
		t.Fatal(err)
	}
	twice, _, err := Sign(context.Background(), once, Options{Signer: b.key, Chain: b.chain(), FieldName: "Signature1"})
	if err != nil {
		t.Fatal(err)
	}
	revs, err := Revisions(twice)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 3 || revs[0] != int64(len(in)) || revs[1] != int64(len(once)) || revs[2] != int64(len(twice)) {
		t.Fatalf("revisions %v, want [%d %d %d]", revs, len(in), len(once), len(twice))
	}
	sigs, err := Inspect(twice)
	if err != nil || len(sigs) != 2 {
		t.Fatalf("Inspect: %v %v", sigs, err)
	}
	if sigs[0].FieldName != "Signature1" || sigs[1].FieldName != "Signature2" || sigs[0].RevisionEnd != int64(len(once)) ||
		sigs[0].IntegrityErr != nil || sigs[1].IntegrityErr != nil || sigs[0].DocMDP != 2 || sigs[1].DocMDP != 0 {
		t.Fatalf("Inspect: %s %s %d %v %v %d %d", sigs[0].FieldName, sigs[1].FieldName, sigs[0].RevisionEnd, sigs[0].IntegrityErr, sigs[1].IntegrityErr, sigs[0].DocMDP, sigs[1].DocMDP)
	}
	// A second certification signature is refused.
	if _, _, err := Sign(context.Background(), once, Options{Signer: b.key, Chain: b.chain(), Certify: true}); err == nil {
		t.Fatal("second certification signature accepted")
	}
}

func TestSignRejects(t *testing.T) {
	pki, other := newPKI(t, "ecdsa", "seal"), newPKI(t, "ecdsa", "other")
	letter := testLetter(t)
	for _, tc := range []struct {
		name string
		pdf  []byte
		o    Options
		want error
	}{
		{"not a pdf", []byte("hello"), Options{Signer: pki.key, Chain: pki.chain()}, ErrNotPDF},
		{"no signer", letter, Options{Chain: pki.chain()}, nil},
		{"key mismatch", letter, Options{Signer: other.key, Chain: pki.chain()}, nil},
		{"truncated", letter[:len(letter)/2], Options{Signer: pki.key, Chain: pki.chain()}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Sign(context.Background(), tc.pdf, tc.o)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want an error (%v)", err, tc.want)
			}
		})
	}
}

func TestInspectErrors(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("GIF89a"), []byte("%PDF-1.4\n%%EOF"), []byte("%PDF-1.4\nstartxref\n999999\n%%EOF")} {
		if _, err := Inspect(in); err == nil {
			t.Errorf("Inspect(%q): no error", in)
		}
	}
	sigs, err := Inspect(testLetter(t))
	if err != nil || len(sigs) != 0 {
		t.Fatalf("unsigned letter: %v %v", sigs, err)
	}
}

func TestPDFDate(t *testing.T) {
	tm := time.Date(2026, 3, 12, 10, 15, 7, 0, time.FixedZone("", -(5*3600+30*60)))
	s := pdfDate(tm)
	if s != "D:20260312101507-05'30'" || !parsePDFDate(s).Equal(tm) {
		t.Fatalf("pdfDate %q parses to %v", s, parsePDFDate(s))
	}
}

// TestSignRefit forces a placeholder too small for the CMS: Sign must
// retry with a larger one and still produce a valid signature.
func TestSignRefit(t *testing.T) {
	defer func(v int) { contentsSlack = v }(contentsSlack)
	pki := newPKI(t, "rsa", "seal")
	contentsSlack = -len(pki.ca.Raw)
	out, res, err := Sign(context.Background(), testLetter(t), Options{Signer: pki.key, Chain: pki.chain()})
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := Inspect(out)
	if err != nil || len(sigs) != 1 || sigs[0].IntegrityErr != nil || sigs[0].ByteRange != res.ByteRange {
		t.Fatalf("Inspect: %v %v", sigs, err)
	}
	if gap := res.ByteRange[2] - res.ByteRange[1]; gap <= int64(2*len(pki.leaf.Raw)) {
		t.Fatalf("placeholder of %d hex digits was not enlarged", gap)
	}
}

// TestSignCertifiedNoChanges refuses to sign a file certified with /P 1.
func TestSignCertifiedNoChanges(t *testing.T) {
	pki := newPKI(t, "ecdsa", "seal")
	once, _, err := Sign(context.Background(), testLetter(t), Options{Signer: pki.key, Chain: pki.chain(), Certify: true})
	if err != nil {
		t.Fatal(err)
	}
	locked := bytes.Replace(once, []byte("/P 2 /V /1.2"), []byte("/P 1 /V /1.2"), 1)
	if _, _, err := Sign(context.Background(), locked, Options{Signer: pki.key, Chain: pki.chain()}); !errors.Is(err, ErrCertified) {
		t.Fatalf("got %v, want ErrCertified", err)
	}
}

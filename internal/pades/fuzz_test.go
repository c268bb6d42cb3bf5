package pades

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"faldone/internal/pdftest"
)

func FuzzInspect(f *testing.F) {
	pki := newPKI(f, "ecdsa", "fuzz")
	letter := testLetter(f)
	signed, _, err := Sign(context.Background(), letter, Options{Signer: pki.key, Chain: pki.chain(), Certify: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{0, 10, len(signed) / 3, len(signed) - 300, len(signed) - 10} {
		f.Add(signed[:n])
	}
	f.Add(signed)
	f.Add(letter)
	for _, a := range pdftest.Attacks(f, signed) {
		f.Add(a.PDF)
	}
	f.Add([]byte("garbage"))
	f.Add([]byte("%PDF-1.7\n" + strings.Repeat("[", 100000)))
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Length 99999999999 >> stream\nabc\nendstream endobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer << /Root 1 0 R /Size 2 >>\nstartxref\n61\n%%EOF"))
	f.Add([]byte("%PDF-1.4\nxref\n0 999999999\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF"))
	f.Add([]byte("%PDF-1.4\nxref\n0 0\ntrailer << /Root 1 0 R /Prev 9 >>\nstartxref\n9\n%%EOF"))
	f.Add([]byte("%PDF-1.5\n1 0 obj << /Type /XRef /W [1 8 8] /Size 99999999 /Length 3 >> stream\nabc\nendstream endobj\nstartxref\n9\n%%EOF"))
	f.Add([]byte("%PDF-1.5\n1 0 obj << /Type /ObjStm /N 2147483647 /First 0 /Length 4 >> stream\n1 0 \nendstream endobj\nstartxref\n9\n%%EOF"))
	f.Add(bytes.Replace(signed, []byte("/ByteRange [0 "), []byte("/ByteRange [0 99999999999999 "), 1))
	f.Add(bytes.Replace(signed, []byte("/Fields ["), []byte("/Fields [1 0 R 1 0 R "), 1))
	f.Add([]byte(fmt.Sprintf("%%PDF-1.4\n1 0 obj << /Kids [1 0 R] /Pages 1 0 R /AcroForm << /Fields [1 0 R] >> >> endobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer << /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF", 88)))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		sigs, err := Inspect(data)
		if err == nil {
			for _, s := range sigs {
				if s.IntegrityErr == nil && (s.Signer == nil || s.ByteRange[2]+s.ByteRange[3] > int64(len(data))) {
					t.Fatalf("valid signature without signer or beyond the file: %+v", s)
				}
			}
		}
		_, _ = Revisions(data)
		if a, err := Analyse(data); err == nil && a.OK() && len(a.Signed) > 0 && bytes.HasPrefix(data, signed) && len(data) > len(signed) {
			// anything appended to the sealed letter that the analysis
			// allows must also be allowed at intake
			for _, p := range mustRefusals(CheckCountersigned(signed, data)) {
				if p.Reason == ReasonDocMDPViolation || p.Params != nil {
					t.Fatalf("the analysis allows what intake refuses: %+v", p)
				}
			}
		}
		_, _ = CheckCountersigned(signed, data)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v on %d bytes", d, len(data))
		}
	})
}

// mustRefusals returns the problems of a CheckCountersigned outcome.
func mustRefusals(r *CounterReport, _ error) []Problem {
	if r == nil {
		return nil
	}
	return r.Problems
}

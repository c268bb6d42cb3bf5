package pdftest

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	pdfsignverify "github.com/digitorus/pdfsign/verify"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"faldone/internal/testenv"
)

// Mutool runs mupdf's mutool sign -v and returns an error unless it reports
// exactly wantSignatures signatures, each with an intact digest: "The
// document is unchanged since signing.", or, for a signature followed by
// later revisions, "The signature is valid but there have been edits since
// signing.". mupdf takes no trust store, so its certificate verdict is not
// asked for; trust is Pdfsig's and OpenSSLCMS's business.
func Mutool(tb testing.TB, pdf []byte, wantSignatures int) error {
	tb.Helper()
	bin := testenv.Tool(tb, "mutool")
	out, err := exec.Command(bin, "sign", "-v", write(tb, pdf)).CombinedOutput()
	s := string(out)
	n := strings.Count(s, "Verifying signature ")
	intact := strings.Count(s, "The document is unchanged since signing.") + strings.Count(s, "The signature is valid but there have been edits since signing.")
	if err != nil || n != wantSignatures || intact != wantSignatures || strings.Contains(s, "Digest error") {
		return fmt.Errorf("mutool sign -v: want %d intact signatures (%v):\n%s", wantSignatures, err, s)
	}
	return nil
}

// Pdfsign verifies the signatures of pdf with the verifier of
// github.com/digitorus/pdfsign, in process, and returns an error unless
// it finds exactly wantSignatures signatures, each of them valid: the
// digest of its byte range matches and the signature value verifies.
// It trusts the certificates the signatures carry (AllowUntrustedRoots),
// so like Pdfcpu it judges integrity, not trust.
func Pdfsign(pdf []byte, wantSignatures int) error {
	opts := pdfsignverify.DefaultVerifyOptions()
	opts.AllowUntrustedRoots = true
	opts.RequiredEKUs, opts.AllowedEKUs = nil, nil
	opts.RequireDigitalSignatureKU = false
	res, err := pdfsignverify.VerifyWithOptions(bytes.NewReader(pdf), int64(len(pdf)), opts)
	if err != nil {
		return fmt.Errorf("pdfsign verify: %w", err)
	}
	if len(res.Signers) != wantSignatures {
		return fmt.Errorf("pdfsign verify: %d signatures, want %d (%s)", len(res.Signers), wantSignatures, res.Error)
	}
	for i, s := range res.Signers {
		if !s.ValidSignature {
			return fmt.Errorf("pdfsign verify: signature %d not valid: %s", i, res.Error)
		}
	}
	return nil
}

// PdfcpuCertification returns what pdfcpu reads of the certification of
// pdf: whether one of its signatures is a certification (DocMDP)
// signature, and its permissions (1 no changes, 2 form filling and
// signing, 3 also annotations; 0 when there is none).
func PdfcpuCertification(pdf []byte) (certified bool, permissions int, err error) {
	setupPdfcpu()
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(pdf), true, model.NewDefaultConfiguration())
	if err != nil {
		return false, 0, fmt.Errorf("pdfcpu: %w", err)
	}
	for _, r := range res {
		if r.Certified() {
			return true, r.Permissions(), nil
		}
	}
	return false, 0, nil
}

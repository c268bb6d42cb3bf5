package pades

import (
	"fmt"
	"testing"

	"faldone/internal/pdftest"
)

// The independent signature validators and the NSS database they
// need live in pdftest, shared with the tests of other packages; these
// short names keep the tests of this package readable.
var (
	// nssDB creates an NSS database trusting the given CA certificates.
	nssDB = pdftest.NSSDB
	// pdfsigCheck returns an error unless poppler's pdfsig reports n
	// signatures, each valid with a trusted certificate.
	pdfsigCheck = pdftest.Pdfsig
	// pdfcpuCheck returns an error unless pdfcpu finds n signatures, each
	// intact (document not modified, signature not forged).
	pdfcpuCheck = pdftest.Pdfcpu
	// opensslCheck verifies a detached CMS over the bytes of a byte range
	// with openssl cms, trusting a CA file.
	opensslCheck = pdftest.OpenSSLCMS
	// mutoolCheck returns an error unless mupdf's mutool sign -v finds n
	// signatures, each with an intact digest.
	mutoolCheck = pdftest.Mutool
	// pdfsignCheck returns an error unless the verifier of
	// digitorus/pdfsign finds n signatures, each valid.
	pdfsignCheck = pdftest.Pdfsign
	// pdfcpuCertification says whether pdfcpu sees the first signature as
	// a certification, and its permissions.
	pdfcpuCertification = pdftest.PdfcpuCertification
)

func qpdfCheck(t testing.TB, pdf []byte) error {
	t.Helper()
	need(t, "qpdf")
	out, err := run(t, "qpdf", "--check", writeTemp(t, "check.pdf", pdf))
	if err != nil {
		return fmt.Errorf("qpdf --check: %v\n%s", err, out)
	}
	return nil
}

package pades

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

var pdfcpuOnce sync.Once

// setupPdfcpu keeps pdfcpu away from the user's configuration directory
// and gives it an empty trusted certificate directory.
func setupPdfcpu() {
	pdfcpuOnce.Do(func() {
		model.ConfigPath = "disable"
		dir, err := os.MkdirTemp("", "pdfcpu-trust")
		if err != nil {
			panic(err)
		}
		model.TrustedCertDir = dir
	})
}

// pdfsigCheck runs poppler's pdfsig and returns an error unless it
// reports n signatures, each valid with a trusted certificate.
func pdfsigCheck(t testing.TB, nssDir string, pdf []byte, n int) error {
	t.Helper()
	need(t, "pdfsig")
	// -no-ocsp makes poppler 22.12 report any certificate as "Unknown issue";
	// the test certificates carry no OCSP or CRL locations, so nothing is fetched.
	out, _ := run(t, "pdfsig", "-nssdir", "sql:"+nssDir, writeTemp(t, "in.pdf", pdf))
	valid := strings.Count(out, "Signature Validation: Signature is Valid.")
	trusted := strings.Count(out, "Certificate Validation: Certificate is Trusted.")
	if valid != n || trusted != n || strings.Count(out, "Signature #") != n {
		return fmt.Errorf("pdfsig: want %d valid trusted signatures:\n%s", n, out)
	}
	return nil
}

// pdfcpuCheck validates all signatures with pdfcpu and returns an error
// unless each one is intact (document not modified, signature not forged).
func pdfcpuCheck(pdf []byte, n int) error {
	setupPdfcpu()
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(pdf), true, model.NewDefaultConfiguration())
	if err != nil {
		return fmt.Errorf("pdfcpu: %w", err)
	}
	if len(res) != n {
		return fmt.Errorf("pdfcpu: %d signatures, want %d", len(res), n)
	}
	for i, r := range res {
		if !r.Signed || r.Reason == model.SignatureReasonDocModified || r.Reason == model.SignatureReasonSignatureForged ||
			r.Reason == model.SignatureReasonMalformed || r.Reason == model.SignatureReasonInternal ||
			r.Status == model.SignatureStatusInvalid && r.Reason != model.SignatureReasonCertNotTrusted {
			return fmt.Errorf("pdfcpu: signature %d: %s", i, r)
		}
	}
	return nil
}

// opensslCheck verifies a detached CMS over the bytes of a byte range
// with openssl cms, trusting caFile.
func opensslCheck(t testing.TB, pdf []byte, br [4]int64, cms []byte, caFile string) error {
	t.Helper()
	need(t, "openssl")
	if br[2]+br[3] > int64(len(pdf)) || br[1] > br[2] {
		return fmt.Errorf("openssl: byte range outside file")
	}
	content := append(append([]byte{}, pdf[:br[1]]...), pdf[br[2]:br[2]+br[3]]...)
	dir := t.TempDir()
	c, s := filepath.Join(dir, "content.bin"), filepath.Join(dir, "sig.der")
	writeFile(t, c, content)
	writeFile(t, s, cms)
	out, err := run(t, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", s,
		"-content", c, "-CAfile", caFile, "-purpose", "any", "-out", "/dev/null")
	if err != nil || !strings.Contains(out, "Verification successful") {
		return fmt.Errorf("openssl cms -verify: %v\n%s", err, out)
	}
	return nil
}

func qpdfCheck(t testing.TB, pdf []byte) error {
	t.Helper()
	need(t, "qpdf")
	out, err := run(t, "qpdf", "--check", writeTemp(t, "check.pdf", pdf))
	if err != nil {
		return fmt.Errorf("qpdf --check: %v\n%s", err, out)
	}
	return nil
}

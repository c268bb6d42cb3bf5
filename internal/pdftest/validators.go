package pdftest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"faldone/internal/testenv"
)

// The signature validators below each return an error describing why a PDF
// fails, rather than failing the test, so that a test can also assert that
// a tampered file is rejected. They fail the test only when they cannot run
// (a missing tool is skipped, or failed under CI=true, see testenv.Tool).
// All of them are safe to call from parallel subtests.

// NSSDB creates an NSS database in a temporary directory trusting the CA
// certificates of the given PEM files for every purpose ("CT,C,C"), and
// returns the directory, for Pdfsig.
func NSSDB(tb testing.TB, caPEMFiles ...string) string {
	tb.Helper()
	certutil := testenv.Tool(tb, "certutil")
	dir := tb.TempDir()
	mustRun(tb, certutil, "-N", "-d", "sql:"+dir, "--empty-password")
	for i, f := range caPEMFiles {
		mustRun(tb, certutil, "-A", "-d", "sql:"+dir, "-n", "ca"+strconv.Itoa(i), "-t", "CT,C,C", "-i", f)
	}
	return dir
}

// Pdfsig runs poppler's pdfsig with the NSS database nssDir (see NSSDB) and
// returns an error unless it reports exactly wantSignatures signatures, each
// valid and with a trusted certificate.
func Pdfsig(tb testing.TB, nssDir string, pdf []byte, wantSignatures int) error {
	tb.Helper()
	bin := testenv.Tool(tb, "pdfsig")
	// -no-ocsp makes poppler 22.12 report any certificate as "Unknown issue";
	// the test certificates carry no OCSP or CRL locations, so nothing is fetched.
	out, _ := exec.Command(bin, "-nssdir", "sql:"+nssDir, write(tb, pdf)).CombinedOutput()
	s := string(out)
	valid := strings.Count(s, "Signature Validation: Signature is Valid.")
	trusted := strings.Count(s, "Certificate Validation: Certificate is Trusted.")
	if valid != wantSignatures || trusted != wantSignatures || strings.Count(s, "Signature #") != wantSignatures {
		return fmt.Errorf("pdfsig: want %d valid trusted signatures:\n%s", wantSignatures, s)
	}
	return nil
}

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

// Pdfcpu validates every signature of pdf with pdfcpu, in process, and
// returns an error unless there are exactly wantSignatures signatures and
// each one is intact: the signed bytes were not modified and the signature
// value verifies. pdfcpu is given no trusted certificates, so an untrusted
// certificate is accepted; trust is Pdfsig's and OpenSSLCMS's business.
// It needs no external tool, hence no testing.TB.
func Pdfcpu(pdf []byte, wantSignatures int) error {
	setupPdfcpu()
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(pdf), true, model.NewDefaultConfiguration())
	if err != nil {
		return fmt.Errorf("pdfcpu: %w", err)
	}
	if len(res) != wantSignatures {
		return fmt.Errorf("pdfcpu: %d signatures, want %d", len(res), wantSignatures)
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

// OpenSSLCMS verifies cms, a detached DER CMS SignedData, over the bytes of
// pdf selected by byteRange (the two spans of a /ByteRange) with
// openssl cms -verify, trusting the CA certificates of the PEM file caFile
// and accepting any key purpose. It returns an error unless OpenSSL reports
// a successful verification.
func OpenSSLCMS(tb testing.TB, pdf []byte, byteRange [4]int64, cms []byte, caFile string) error {
	tb.Helper()
	bin := testenv.Tool(tb, "openssl")
	br := byteRange
	if br[0] < 0 || br[1] < 0 || br[2] < 0 || br[3] < 0 || br[2]+br[3] > int64(len(pdf)) || br[0]+br[1] > br[2] {
		return fmt.Errorf("openssl: byte range %v outside the file of %d bytes", br, len(pdf))
	}
	content := append(bytes.Clone(pdf[br[0]:br[0]+br[1]]), pdf[br[2]:br[2]+br[3]]...)
	dir := tb.TempDir()
	c, s := filepath.Join(dir, "content.bin"), filepath.Join(dir, "sig.der")
	writeFile(tb, c, content)
	writeFile(tb, s, cms)
	out, err := exec.Command(bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", s,
		"-content", c, "-CAfile", caFile, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Verification successful")) {
		return fmt.Errorf("openssl cms -verify: %v\n%s", err, out)
	}
	return nil
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

func mustRun(tb testing.TB, bin string, args ...string) {
	tb.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

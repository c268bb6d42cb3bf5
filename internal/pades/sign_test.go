package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"faldone/internal/testenv"

	"github.com/digitorus/timestamp"
	"github.com/smallstep/pkcs7"
)

// validateAll runs the five independent validators on the signature
// with byte range br and CMS cms, and returns their failures.
func validateAll(t *testing.T, pdf []byte, nss, caFile string, nsigs int, br [4]int64, cms []byte) []error {
	t.Helper()
	var errs []error
	if err := pdfsigCheck(t, nss, pdf, nsigs); err != nil {
		errs = append(errs, err)
	}
	if err := pdfcpuCheck(pdf, nsigs); err != nil {
		errs = append(errs, err)
	}
	if err := opensslCheck(t, pdf, br, cms, caFile); err != nil {
		errs = append(errs, err)
	}
	if err := mutoolCheck(t, pdf, nsigs); err != nil {
		errs = append(errs, err)
	}
	if err := pdfsignCheck(pdf, nsigs); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func TestSign(t *testing.T) {
	need(t, "pdfsig", "certutil", "openssl", "qpdf", "mutool")
	for _, tc := range []struct {
		name    string
		alg     string
		tsa     bool
		certify bool
	}{
		{"ecdsa-BB-certify", "ecdsa", false, true},
		{"rsa-BB", "rsa", false, false},
		{"ecdsa-BT", "ecdsa", true, false},
		{"rsa-BT-certify", "rsa", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pki := newPKI(t, tc.alg, "Formez PA sigillo "+tc.alg)
			opts := Options{
				Signer: pki.key, Chain: pki.chain(), Certify: tc.certify,
				Name: "Formez PA", Reason: "Sigillo elettronico qualificato", Location: "Città di Roma",
				Time: time.Now().Add(-time.Minute).Truncate(time.Second).In(time.FixedZone("CET", 3600)),
			}
			cas := []string{pki.caFile}
			var tsaLeaf []byte
			if tc.tsa {
				url, chain := testenv.StartTSA(t)
				opts.TSA = &TSA{URL: url, Timeout: 5 * time.Second, Retries: 1}
				tsaCA := writeTemp(t, "tsa.pem", nil)
				var ders [][]byte
				for _, c := range chain {
					ders = append(ders, c.Raw)
				}
				writePEM(t, tsaCA, "CERTIFICATE", ders...)
				cas = append(cas, tsaCA)
				tsaLeaf = ders[0]
			}
			in := testLetter(t)
			out, res, err := Sign(context.Background(), in, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, in) {
				t.Fatal("input is not a prefix of the output")
			}
			checkResult(t, res, opts, tc.tsa, len(out))

			sigs, err := Inspect(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(sigs) != 1 {
				t.Fatalf("Inspect: %d signatures, want 1", len(sigs))
			}
			s := sigs[0]
			wantMDP := 0
			if tc.certify {
				wantMDP = 2
			}
			if s.IntegrityErr != nil || s.Level != res.Level || s.DocMDP != wantMDP || !s.CoversWholeFile ||
				s.ByteRange != res.ByteRange || s.SubFilter != "ETSI.CAdES.detached" || !s.SigningTime.Equal(opts.Time) ||
				s.RevisionEnd != int64(len(out)) || !bytes.Equal(s.Signer.Raw, pki.leaf.Raw) {
				t.Fatalf("Inspect: unexpected %+v (integrity: %v)", s, s.IntegrityErr)
			}
			checkCMSAttributes(t, s.Contents, tc.tsa)

			nss := nssDB(t, cas...)
			if errs := validateAll(t, out, nss, pki.caFile, 1, s.ByteRange, s.Contents); len(errs) > 0 {
				t.Fatalf("validators reject the signed file: %v", errs)
			}
			if err := qpdfCheck(t, out); err != nil {
				t.Fatal(err)
			}
			if tc.tsa {
				if s.Timestamp == nil || s.Timestamp.Err != nil || !s.Timestamp.ImprintMatches ||
					s.Timestamp.Signer == nil || !bytes.Equal(s.Timestamp.Signer.Raw, tsaLeaf) {
					t.Fatalf("timestamp: %+v", s.Timestamp)
				}
			}

			for _, pos := range tamperPositions(t, in, out) {
				bad := bytes.Clone(out)
				bad[pos] ^= 0x01
				if errs := validateAll(t, bad, nss, pki.caFile, 1, s.ByteRange, s.Contents); len(errs) != 5 {
					t.Errorf("flip at %d: only %d of 5 validators failed: %v", pos, len(errs), errs)
				}
				if got, err := Inspect(bad); err == nil && len(got) == 1 && got[0].IntegrityErr == nil {
					t.Errorf("flip at %d: Inspect still reports a valid signature", pos)
				}
			}
		})
	}
}

func checkResult(t *testing.T, res *Result, o Options, tsa bool, n int) {
	t.Helper()
	sum := sha256.Sum256(o.Chain[0].Raw)
	wantLevel := LevelBB
	if tsa {
		wantLevel = LevelBT
	}
	if res.Level != wantLevel || res.SignerSHA256 != hex.EncodeToString(sum[:]) || !res.SigningTime.Equal(o.Time) ||
		res.ByteRange[0] != 0 || res.ByteRange[2]+res.ByteRange[3] != int64(n) || tsa == res.TimestampTime.IsZero() {
		t.Fatalf("unexpected result %+v", res)
	}
	if tsa && time.Since(res.TimestampTime).Abs() > time.Minute {
		t.Fatalf("timestamp time %v is not now", res.TimestampTime)
	}
}

// checkCMSAttributes reads the CMS with an independent parser: PAdES
// baseline signed attributes, and for B-T a time-stamp token whose
// imprint is the SHA-256 of the signature value.
func checkCMSAttributes(t *testing.T, der []byte, tsa bool) {
	t.Helper()
	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	si := p7.Signers[0]
	has := map[string]bool{}
	for _, a := range si.AuthenticatedAttributes {
		has[a.Type.String()] = true
	}
	if !has[oidContentType.String()] || !has[oidMessageDigest.String()] || !has[oidSigningCertV2.String()] || has[oidSigningTime.String()] {
		t.Fatalf("signed attributes: %v", has)
	}
	var token []byte
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimeStampToken) {
			token = a.Value.Bytes
		}
	}
	if !tsa {
		if token != nil {
			t.Fatal("B-B signature carries a time-stamp")
		}
		return
	}
	ts, err := timestamp.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(si.EncryptedDigest)
	if !bytes.Equal(ts.HashedMessage, want[:]) {
		t.Fatal("time-stamp imprint is not the SHA-256 of the signature value")
	}
}

// tamperPositions picks bytes inside the signed range: in the original
// prefix and in the appended update.
func tamperPositions(t *testing.T, in, out []byte) []int {
	t.Helper()
	upd := out[len(in):]
	m := bytes.Index(upd, []byte("/M <"))
	f := bytes.Index(upd, []byte("/SigFlags 3"))
	if m < 0 || f < 0 {
		t.Fatalf("update lacks /M or /SigFlags:\n%s", upd)
	}
	return []int{len(in) / 3, len(in) - 40, len(in) + m + 10, len(in) + f + len("/SigFlags ")}
}

func TestSignTSADown(t *testing.T) {
	pki := newPKI(t, "ecdsa", "seal")
	_, _, err := Sign(context.Background(), testLetter(t), Options{
		Signer: pki.key, Chain: pki.chain(),
		TSA: &TSA{URL: "http://127.0.0.1:1/tsa", Timeout: time.Second, Retries: 1},
	})
	if !errors.Is(err, ErrTSAUnavailable) {
		t.Fatalf("got %v, want ErrTSAUnavailable", err)
	}
}

// wrongKey signs with a key other than the certificate's, as a faulty
// token would.
type wrongKey struct {
	crypto.Signer
	other crypto.Signer
}

func (w wrongKey) Sign(r io.Reader, digest []byte, o crypto.SignerOpts) ([]byte, error) {
	return w.other.Sign(r, digest, o)
}

// A signer whose signatures do not verify with the certificate is refused
// without the full self-check: nothing is returned to be archived.
func TestSignRefusesAForeignSignature(t *testing.T) {
	defer func(v bool) { fullSelfCheck = v }(fullSelfCheck)
	fullSelfCheck = false
	pki, other := newPKI(t, "ecdsa", "a"), newPKI(t, "ecdsa", "b")
	_, _, err := Sign(context.Background(), testLetter(t), Options{Signer: wrongKey{pki.key, other.key}, Chain: pki.chain(), Certify: true})
	if err == nil || !strings.Contains(err.Error(), "does not verify with the certificate's public key") {
		t.Fatalf("sign with a foreign key: %v", err)
	}
	// A key of Go's own that is not the certificate's is refused before it
	// signs.
	_, _, err = Sign(context.Background(), testLetter(t), Options{Signer: other.key, Chain: pki.chain(), Certify: true})
	if err == nil || !strings.Contains(err.Error(), "signer key does not match the leaf certificate") {
		t.Fatalf("sign with another certificate's key: %v", err)
	}
	if _, _, err := Sign(context.Background(), testLetter(t), Options{Signer: pki.key, Chain: pki.chain(), Certify: true}); err != nil {
		t.Fatal(err)
	}
	if !ownKey(pki.key, pki.chain()[0].PublicKey) || ownKey(wrongKey{pki.key, other.key}, pki.chain()[0].PublicKey) {
		t.Fatal("ownKey tells a key of Go's own from a wrapped one wrongly")
	}
}

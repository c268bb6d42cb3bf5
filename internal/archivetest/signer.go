package archivetest

import (
	"strings"
	"testing"
	"time"

	"faldone/internal/faldone"
)

// signer is a comune signer as the intake records it.
func signer(trusted bool, reasons ...string) *faldone.Signer {
	now := time.Now()
	return &faldone.Signer{
		Subject: "SERIALNUMBER=TINIT-RSSMRA80A41H501U,CN=Maria Rossi,O=Comune di Loiano,C=IT", CommonName: "Maria Rossi",
		SerialNumber: "TINIT-RSSMRA80A41H501U", Organization: "Comune di Loiano", Issuer: "CN=Qualified CA,C=IT",
		CertSerial: "2a", CertSHA256: strings.Repeat("ab", 32), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		Qualified: true, QSCD: true, QCType: "esign", Trusted: trusted, Anchor: "bundle:comuni.pem",
		TrustTime: now, TrustTimeSource: "now", Reasons: reasons,
	}
}

// testComuneSigner: the comune's signer of a version is kept in the
// record and in the signer columns; a body whose signer disagrees with
// the columns is refused when read.
func testComuneSigner(t *testing.T, e Engine, h Hooks) {
	ctx := Context(t)
	MustAppend(t, e, Record("doc-1", 1, "037034"), PDF(t, 100))
	r2 := Record("doc-1", 2, "037034")
	r2.Reason, r2.Seal.ComuneSigned, r2.Seal.ComuneSigner = faldone.ChangeSigned, true, signer(true)
	r2 = MustAppend(t, e, r2, PDF(t, 100))
	MustAppend(t, e, Record("doc-2", 1, "037034"), PDF(t, 100))
	r4 := Record("doc-2", 2, "037034")
	r4.Reason, r4.Seal.ComuneSigned, r4.Seal.ComuneSigner = faldone.ChangeSigned, true, signer(false, "untrusted_signer")
	r4 = MustAppend(t, e, r4, PDF(t, 100))
	for _, want := range []*faldone.Record{r2, r4} {
		got, err := e.Latest(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameRecord(t, got, want)
		if sg := got.Seal.ComuneSigner; sg == nil || sg.SerialNumber != "TINIT-RSSMRA80A41H501U" || sg.Trusted != want.Seal.ComuneSigner.Trusted {
			t.Fatalf("signer read back: %+v", sg)
		}
	}
	// The body of version 1 now claims a signer its columns do not have.
	v1, err := e.Version(ctx, "doc-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	forged := *v1
	forged.Seal.ComuneSigner = signer(true)
	if err := h.TamperRecord(ctx, v1.Leaf, faldone.CanonicalRecord(&forged)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Version(ctx, "doc-1", 1); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Fatalf("a body whose signer disagrees with the columns: %v", err)
	}
	// A fingerprint that is not one is refused.
	bad := Record("doc-3", 1, "037034")
	bad.Seal.ComuneSigner = signer(true)
	bad.Seal.ComuneSigner.CertSHA256 = "not a fingerprint"
	if err := e.Append(ctx, bad, PDF(t, 100)); faldone.ErrorCode(err) != faldone.EINVALID {
		t.Fatalf("bad signer fingerprint: %v", err)
	}
}

package pades

import (
	"context"
	"crypto"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/digitorus/pdfsign/sign"

	"faldone/internal/pdftest"
	"faldone/internal/testenv"
)

// pdfsignAppend signs pdf with digitorus/pdfsign, which writes the
// catalog again as a new object with the same content: an approval
// signature by pki, or a document time-stamp from the TSA at tsaURL.
func pdfsignAppend(t *testing.T, pdf []byte, pki *testPKI, tsaURL string, kind sign.CertType) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	writeFile(t, in, pdf)
	data := sign.SignData{
		Signature: sign.SignDataSignature{CertType: kind, DocMDPPerm: sign.AllowFillingExistingFormFieldsAndSignaturesPerms,
			Info: sign.SignDataSignatureInfo{Name: "Comune", Reason: "Approvato"}},
		DigestAlgorithm: crypto.SHA256,
		TSA:             sign.TSA{URL: tsaURL},
	}
	if pki != nil {
		data.Signer, data.Certificate = pki.key, pki.leaf
		data.CertificateChains = [][]*x509.Certificate{{pki.leaf, pki.ca}}
	}
	if err := sign.SignFile(in, out, data); err != nil {
		t.Fatalf("pdfsign: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAnalyseAcceptsSigning: what signing software legitimately appends
// to the sealed letter is allowed by the seal's DocMDP P 2 policy, with
// no ambiguity of structure: poppler's pdfsig, faldone's own PAdES
// signature, digitorus/pdfsign (catalog written again as a new object)
// and a document time-stamp (ETSI.RFC3161), alone and after one another.
func TestAnalyseAcceptsSigning(t *testing.T) {
	sealed, seal := sealLetter(t)
	comune := newPKI(t, "rsa", "Sindaco di Loiano")
	tsa, _ := testenv.StartTSA(t)
	approver := newPKI(t, "ecdsa", "Segretario comunale")
	pades, _, err := Sign(context.Background(), sealed, Options{Signer: approver.key, Chain: approver.chain(), FieldName: "Segretario"})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"pdfsign approval":       pdfsignAppend(t, sealed, comune, "", sign.ApprovalSignature),
		"document time-stamp":    pdfsignAppend(t, sealed, nil, tsa, sign.TimeStampSignature),
		"PAdES countersignature": pades,
	}
	if haveTools("pdfsig", "certutil", "pk12util", "openssl") {
		poppler := popplerCountersign(t, sealed, nssDB(t, seal.caFile, comune.caFile), comune)
		files["pdfsig"] = poppler
		files["pdfsig then time-stamp"] = pdfsignAppend(t, poppler, nil, tsa, sign.TimeStampSignature)
	}
	for name, pdf := range files {
		t.Run(name, func(t *testing.T) {
			a, err := Analyse(pdf)
			if err != nil {
				t.Fatal(err)
			}
			if !a.OK() {
				t.Errorf("findings %v", a.Findings)
				for _, s := range a.Signed {
					t.Errorf("after revision %d: %v", s.Revision, s.Forbidden())
				}
			}
			if a.Signed[0].DocMDP != 2 || !slices.Equal(a.Signed[0].Fields, []string{"Signature1"}) {
				t.Errorf("first signed revision %+v", a.Signed[0])
			}
			sigs, err := Inspect(pdf)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sigs {
				if s.IntegrityErr != nil {
					t.Errorf("signature %d (%s, %s): %v", s.Index, s.FieldName, s.SubFilter, s.IntegrityErr)
				}
			}
			if _, err := CheckCountersigned(sealed, pdf); err != nil {
				t.Errorf("refused: %v", err)
			}
			if strings.Contains(name, "time-stamp") && sigs[len(sigs)-1].SubFilter != SubFilterDocTimestamp {
				t.Errorf("last signature %+v", sigs[len(sigs)-1])
			}
		})
	}
}

// haveTools reports whether the command-line tools are installed.
func haveTools(names ...string) bool {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return false
		}
	}
	return true
}

// judgeAt judges what pdf appends to sealed under DocMDP level p.
func judgeAt(t *testing.T, sealed, pdf []byte, p int) []Change {
	t.Helper()
	old, err := parseDocument(sealed)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := parseDocument(pdf)
	if err != nil {
		t.Fatal(err)
	}
	budget := maxDiffVisits
	var out []Change
	for _, c := range judgeChanges(old, cur, restatedAfter(pdf, old, int64(len(sealed))), p, int64(len(sealed)), &budget) {
		if !c.Allowed {
			out = append(out, c)
		}
	}
	return out
}

// TestPolicyLevels: the same additions judged at DocMDP /P 1, 2 and 3.
func TestPolicyLevels(t *testing.T) {
	sealed, _ := sealLetter(t)
	tsa, _ := testenv.StartTSA(t)
	approver := newPKI(t, "ecdsa", "Segretario comunale")
	approved, _, err := Sign(context.Background(), sealed, Options{Signer: approver.key, Chain: approver.chain(), FieldName: "Segretario"})
	if err != nil {
		t.Fatal(err)
	}
	attacks := map[string][]byte{}
	for _, a := range pdftest.Attacks(t, sealed) {
		attacks[a.Name] = a.PDF
	}
	for _, tc := range []struct {
		name string
		pdf  []byte
		p    int
		want string // the reason of the first forbidden change, "" when all are allowed
	}{
		{"time-stamp at P 1", pdfsignAppend(t, sealed, nil, tsa, sign.TimeStampSignature), 1, ""},
		{"signature at P 1", approved, 1, ReasonDocMDPViolation},
		{"signature at P 2", approved, 2, ""},
		{"signature at P 3", approved, 3, ""},
		{"free text at P 2", attacks["EAA/free text"], 2, ReasonAnnotationAdded},
		{"free text at P 3", attacks["EAA/free text"], 3, ""},
		{"stamp claiming /FT /Sig at P 3", attacks["EAA/stamp claiming /FT /Sig"], 3, ReasonSigNotWidget},
		{"visible unsigned field at P 3", attacks["SSA/unsigned visible signature field"], 3, ReasonUnsignedAppearance},
		{"content at P 3", attacks["ISA/page content replaced"], 3, ReasonDocMDPViolation},
		{"info at P 3", attacks["Info/title changed"], 3, ReasonInfoChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := judgeAt(t, sealed, tc.pdf, tc.p)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("forbidden: %v", got)
			case tc.want != "" && (len(got) == 0 || got[0].Rule != tc.want):
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}

// TestVisible: which widgets show something, on screen or on paper.
func TestVisible(t *testing.T) {
	x := &judgement{cur: &document{cache: map[int]any{}, busy: map[int]bool{}, cost: &costs{}, xref: map[int]xrefEntry{}}}
	for _, tc := range []struct {
		w    Dict
		want bool
	}{
		{Dict{"Rect": Array{int64(0), int64(0), int64(0), int64(0)}}, false},
		{Dict{"Rect": Array{int64(10), int64(10), int64(10), int64(200)}}, false},
		{Dict{"Rect": Array{int64(10), int64(10), int64(100), int64(50)}}, true},
		{Dict{"Rect": Array{int64(100), int64(50), int64(10), int64(10)}}, true},
		{Dict{"Rect": Array{int64(10), int64(10), 100.5, 50.0}, "F": int64(2)}, false},
		{Dict{"Rect": Array{int64(10), int64(10), int64(100), int64(50)}, "F": int64(32)}, false},
		{Dict{"Rect": Array{int64(10), int64(10), int64(100), int64(50)}, "F": int64(36)}, true},
		{Dict{"Rect": Array{Name("x"), int64(10), int64(100), int64(50)}}, true},
		{Dict{}, false},
	} {
		if got := x.visible(tc.w); got != tc.want {
			t.Errorf("visible(%v) = %v", tc.w, got)
		}
	}
}

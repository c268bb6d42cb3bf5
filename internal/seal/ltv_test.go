package seal_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/pdftest/pdfa"
	"faldone/internal/seal"
	"faldone/internal/testenv"
)

// devLTASealer seals with a new development seal at B-LTA: its CA's CRL,
// made with the CA, for the /DSS, and a real TSA on 127.0.0.1.
func devLTASealer(t *testing.T) *seal.Sealer {
	t.Helper()
	dir := t.TempDir()
	key, _, err := keys.DevSeal(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := keys.DevCRL(dir)
	if err != nil {
		t.Fatal(err)
	}
	url, tsaChain := testenv.StartTSA(t)
	tsa := &pades.TSA{URL: url, Timeout: 10 * time.Second, Retries: 1}
	s := &seal.Sealer{Key: key, TSA: tsa, Logger: discard,
		LTV: &pades.LTV{Revocation: &pades.Revocation{Timeout: 5 * time.Second, Local: [][]byte{crl}}, TSA: tsa, Extra: tsaChain}}
	return s
}

// TestSealDevLTA seals with the development seal at B-LTA: its CA's CRL,
// made with the CA, is embedded in the /DSS, then a document time-stamp.
func TestSealDevLTA(t *testing.T) {
	s := devLTASealer(t)
	rendered := render(t, newRenderer(t), "loiano", faldone.KindAdesione)
	out, facts, err := sealLocked(s, rendered)
	if err != nil {
		t.Fatal(err)
	}
	if facts.Level != pades.LevelBLTA || facts.ArchiveTimestampTime == nil || facts.TimestampTime == nil || facts.LTVFallback {
		t.Fatalf("facts %+v", facts)
	}
	sigs, err := pades.Inspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[0].Level != pades.LevelBLTA || sigs[0].Validation == nil || len(sigs[0].Validation.CRLs) != 1 ||
		!bytes.Equal(sigs[0].Validation.CRLs[0], s.LTV.Revocation.Local[0]) || sigs[1].SubFilter != pades.SubFilterDocTimestamp {
		t.Fatalf("signatures %+v", sigs)
	}
	if a, err := pades.Analyse(out); err != nil || !a.OK() {
		t.Fatalf("analysis: %v %+v", err, a)
	}
}

// TestSealLTVFailures: with a seal of the test PKI, the seal reaches
// B-LTA with the PKI's OCSP responder and CRL server; when they cannot be
// reached it is refused, or sealed at B-T with Fallback and recorded so;
// a revoked seal certificate is always refused.
func TestSealLTVFailures(t *testing.T) {
	pki := testenv.NewPKI(t)
	tsa := &pades.TSA{URL: pki.StartPKITSA(t).URL, Timeout: 10 * time.Second}
	key, err := keys.LoadPEM(pki.SealKeyFile, pki.ChainFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := &url.URL{Scheme: "http", Host: l.Addr().String()}
	l.Close()
	down := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(closed)}}
	rendered := render(t, newRenderer(t), "loiano", faldone.KindAdesione)
	sealer := func(client *http.Client, fallback bool, key *keys.Seal) *seal.Sealer {
		return &seal.Sealer{Key: key, TSA: tsa, Logger: discard, Fallback: fallback,
			LTV: &pades.LTV{Revocation: &pades.Revocation{Timeout: time.Second, Client: client}, TSA: tsa}}
	}

	out, facts, err := sealLocked(sealer(nil, false, key), rendered)
	if err != nil || facts.Level != pades.LevelBLTA {
		t.Fatalf("up: %v, %+v", err, facts)
	}
	if sigs, _ := pades.Inspect(out); len(sigs) != 2 || sigs[0].Level != pades.LevelBLTA || len(sigs[0].Validation.OCSPs) != 2 {
		t.Fatalf("signatures %+v", sigs)
	}

	_, _, err = sealLocked(sealer(down, false, key), rendered)
	var fe *faldone.Error
	if !errors.As(err, &fe) || fe.Code != faldone.EUNAVAILABLE || fe.MessageID != "error.ltv_unavailable" {
		t.Fatalf("down: %v", err)
	}
	out, facts, err = sealLocked(sealer(down, true, key), rendered)
	if err != nil || facts.Level != pades.LevelBT || !facts.LTVFallback {
		t.Fatalf("down with fallback: %v, %+v", err, facts)
	}
	if sigs, _ := pades.Inspect(out); len(sigs) != 1 || sigs[0].Level != pades.LevelBT {
		t.Fatalf("down with fallback: signatures %+v", sigs)
	}

	revoked, err := keys.LoadPEM(pki.RevokedKeyFile, filepath.Join(pki.Dir, "revoked.pem"))
	if err != nil {
		t.Fatal(err)
	}
	revoked.Chain = append(revoked.Chain, pki.Inter, pki.Root)
	_, _, err = sealLocked(sealer(nil, true, revoked), rendered)
	if !errors.As(err, &fe) || fe.MessageID != "error.seal_revoked" {
		t.Fatalf("revoked: %v", err)
	}
	_ = context.Background
}

// TestSealedLTAArePDFA: the /DSS and document time-stamp updates keep
// every kind PDF/A-2b (internal/pdftest/pdfa), the time-stamp's widget
// printable, of zero size, with an appearance.
func TestSealedLTAArePDFA(t *testing.T) {
	s := devLTASealer(t)
	r := newRenderer(t)
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			rendered := render(t, r, "loiano", kind)
			out, facts, err := sealLocked(s, rendered)
			if err != nil {
				t.Fatal(err)
			}
			if facts.Level != pades.LevelBLTA {
				t.Fatalf("level %s", facts.Level)
			}
			pdfa.Require(t, out)
			doc, err := pades.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			form := doc.Dict(doc.Dict(doc.Trailer()["Root"])["AcroForm"])
			found := false
			for _, f := range doc.Array(form["Fields"]) {
				w := doc.Dict(f)
				if doc.Dict(w["V"])["Type"] != pades.Name("DocTimeStamp") {
					continue
				}
				found = true
				flags, _ := w["F"].(int64)
				rect := doc.Array(w["Rect"])
				if flags&4 == 0 || flags&(1|2|32) != 0 || doc.Dict(doc.Dict(w["AP"])["N"]) == nil || len(rect) != 4 || rect[0] != rect[2] || rect[1] != rect[3] {
					t.Errorf("time-stamp widget %v", w)
				}
			}
			if !found {
				t.Error("no document time-stamp field")
			}
		})
	}
}

package verify_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/pdftest"
	"faldone/internal/trust"
	"faldone/internal/trust/trusttest"
	"faldone/internal/verify"
)

// TestEvidenceCarriesTrustedList: an evidence bundle carries the Trusted
// List services the service trusts with their status history, not as
// anchors trusted at any time, so offline verification judges a comune's
// signer as the service does: trusted while its CA was granted, not after
// the list withdrew it.
func TestEvidenceCarriesTrustedList(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name    string
		history []trusttest.Status
		trusted bool
	}{
		{"granted", []trusttest.Status{{Status: trusttest.Granted, From: now.Add(-365 * 24 * time.Hour)}}, true},
		{"withdrawn an hour ago", []trusttest.Status{{Status: trusttest.Withdrawn, From: now.Add(-time.Hour)}, {Status: trusttest.Granted, From: now.Add(-365 * 24 * time.Hour)}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.svc.Trust = e.verifier.Policy()
			comune := pdftest.NewPKIWith(t, "Lucia Verdi", pdftest.PKIOptions{SerialNumber: "TINIT-VRDLCU75C41G702K"})
			key, signer := trusttest.Signer(t)
			svc := trusttest.Service{Provider: "Test QTSP", Name: "Test Qualified CA", Type: trust.SvcCAQC, Cert: comune.CA, History: tc.history}
			tl, err := trust.ParseTrustedList(trusttest.Sign(t, trusttest.XML([]trusttest.Service{svc}, now.Add(24*time.Hour)), key, signer), []*x509.Certificate{signer}, now)
			if err != nil {
				t.Fatal(err)
			}
			e.verifier.Anchors.AddTrustedList(tl, "trusted-list:it.xml")

			rec, sealed := e.create(t, "loiano", "adesione")
			signed, _, err := pades.Sign(context.Background(), sealed, pades.Options{Signer: comune.Key, Chain: []*x509.Certificate{comune.Leaf, comune.CA}, FieldName: "FirmaComune"})
			if err != nil {
				t.Fatal(err)
			}
			v2, _, err := e.svc.ReturnSigned(context.Background(), rec.ID, signed, "en", "test")
			if err != nil {
				t.Fatal(err)
			}
			if sg := v2.Seal.ComuneSigner; sg == nil || sg.Trusted != tc.trusted {
				t.Fatalf("intake: signer %+v, want trusted %v", sg, tc.trusted)
			}
			b, err := e.verifier.Evidence(context.Background(), v2, signed)
			if err != nil {
				t.Fatal(err)
			}
			// The list's CA travels as a service with its history, not as an
			// anchor of any time.
			if len(b.TrustedServices) != 1 || strings.Contains(b.TrustAnchors, string(comune.CAPEM)) {
				t.Fatalf("bundle: %d services, anchors of any time:\n%s", len(b.TrustedServices), b.TrustAnchors)
			}
			data, _ := json.Marshal(b)
			parsed, err := verify.ParseBundle(data)
			if err != nil {
				t.Fatal(err)
			}
			off, err := parsed.Offline(nil, "", e.set)
			if err != nil {
				t.Fatal(err)
			}
			online, err := e.verifier.Verify(context.Background(), signed, "en")
			if err != nil {
				t.Fatal(err)
			}
			offline, err := off.Verify(context.Background(), signed, "en")
			if err != nil {
				t.Fatal(err)
			}
			// Reports name the list, not each of its services.
			if l := online.TrustedLists; len(l) != 1 || l[0].Source != "trusted-list:it.xml" || l[0].Territory != "IT" || l[0].Anchors != 1 || l[0].Sequence != 42 {
				t.Errorf("online trusted lists %+v", l)
			}
			if l := offline.TrustedLists; len(l) != 1 || l[0].Source != "evidence" || l[0].Anchors != 1 {
				t.Errorf("offline trusted lists %+v", l)
			}
			for _, a := range append(online.TrustAnchors, offline.TrustAnchors...) {
				if a.Service != nil {
					t.Errorf("a service among the anchors of any time: %+v", a)
				}
			}
			if online.Signatures[1].Trusted != tc.trusted || offline.Signatures[1].Trusted != tc.trusted ||
				!slices.Equal(codes(online, verify.SeverityError), codes(offline, verify.SeverityError)) {
				t.Fatalf("online trusted %v %v, offline trusted %v %v", online.Signatures[1].Trusted, codes(online, verify.SeverityError),
					offline.Signatures[1].Trusted, codes(offline, verify.SeverityError))
			}
		})
	}
}

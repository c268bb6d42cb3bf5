package trust_test

import (
	"bytes"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/trust"
	"faldone/internal/trust/trusttest"
)

var day = 24 * time.Hour

// TestTrustedList: a list signed by the pinned certificate is read, only
// from its signed content; a tampered list, one signed by another key, and
// one with no pinned signer are refused.
func TestTrustedList(t *testing.T) {
	now := time.Now()
	ca := newCA(t, "Aruba PEC Qualified CA", now.Add(-3*365*day), now.Add(5*365*day), nil)
	key, signer := trusttest.Signer(t)
	svc := trusttest.Service{Provider: "Aruba PEC S.p.A.", Name: "ArubaPEC EU Qualified Certificates CA G1", Type: trust.SvcCAQC, Cert: ca.Certificate,
		History: []trusttest.Status{{Status: trusttest.Granted, From: now.Add(-2 * 365 * day)}}}
	signed := trusttest.Sign(t, trusttest.XML([]trusttest.Service{svc}, now.Add(180*day)), key, signer)

	tl, err := trust.ParseTrustedList(signed, []*x509.Certificate{signer}, now)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Territory != "IT" || tl.Sequence != 42 || tl.Operator != "Agenzia per l'Italia Digitale" || !tl.Signer.Equal(signer) || tl.Stale(now) || !tl.Stale(now.Add(365*day)) {
		t.Errorf("list %+v", tl)
	}
	if len(tl.Services) != 1 {
		t.Fatalf("services %+v", tl.Services)
	}
	s := tl.Services[0]
	if s.Name != svc.Name || s.Provider != svc.Provider || !s.Qualified() || !s.Anchors() || len(s.Certificates()) != 1 || !s.Certificates()[0].Equal(ca.Certificate) {
		t.Errorf("service %+v", s)
	}

	t.Run("tampered", func(t *testing.T) {
		// Withdrawn instead of granted: the digest no longer matches.
		bad := bytes.Replace(signed, []byte("Svcstatus/granted"), []byte("Svcstatus/withdrawn"), 1)
		if _, err := trust.ParseTrustedList(bad, []*x509.Certificate{signer}, now); err == nil {
			t.Fatal("tampered list accepted")
		} else {
			t.Log(err)
		}
		// A service added after signing.
		other := newCA(t, "Rogue CA", now.Add(-day), now.Add(day), nil)
		rogue := trusttest.XML([]trusttest.Service{{Provider: "Rogue", Name: "Rogue CA", Type: trust.SvcCAQC, Cert: other.Certificate, History: []trusttest.Status{{Status: trusttest.Granted, From: now.Add(-day)}}}}, now.Add(day))
		i := strings.Index(rogue, "<TrustServiceProvider>")
		j := strings.Index(rogue, "</TrustServiceProviderList>")
		bad = bytes.Replace(signed, []byte("</TrustServiceProviderList>"), []byte(rogue[i:j]+"</TrustServiceProviderList>"), 1)
		if _, err := trust.ParseTrustedList(bad, []*x509.Certificate{signer}, now); err == nil {
			t.Fatal("list with an added service accepted")
		}
	})
	t.Run("another signer", func(t *testing.T) {
		key2, signer2 := trusttest.Signer(t)
		forged := trusttest.Sign(t, trusttest.XML([]trusttest.Service{svc}, now.Add(day)), key2, signer2)
		if _, err := trust.ParseTrustedList(forged, []*x509.Certificate{signer}, now); err == nil {
			t.Fatal("list signed by another key accepted")
		} else {
			t.Log(err)
		}
		if _, err := trust.ParseTrustedList(signed, nil, now); err == nil {
			t.Fatal("list accepted with no pinned signer")
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		if _, err := trust.ParseTrustedList([]byte(trusttest.XML([]trusttest.Service{svc}, now.Add(day))), []*x509.Certificate{signer}, now); err == nil {
			t.Fatal("unsigned list accepted")
		}
	})
	t.Run("signer expired", func(t *testing.T) {
		if _, err := trust.ParseTrustedList(signed, []*x509.Certificate{signer}, now.Add(2*365*day)); err == nil {
			t.Fatal("list accepted after its signer expired")
		}
	})
	t.Run("a national list's size", func(t *testing.T) {
		// More elements before the signature than goxmldsig searches.
		many := make([]trusttest.Service, 120)
		for i := range many {
			many[i] = svc
		}
		tl, err := trust.ParseTrustedList(trusttest.Sign(t, trusttest.XML(many, now.Add(day)), key, signer), []*x509.Certificate{signer}, now)
		if err != nil || len(tl.Services) != 120 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("two signatures", func(t *testing.T) {
		i := bytes.Index(signed, []byte("<ds:Signature"))
		j := bytes.Index(signed, []byte("</ds:Signature>")) + len("</ds:Signature>")
		if i < 0 || j < i {
			t.Fatalf("no signature in %s", signed)
		}
		twice := append(append(bytes.Clone(signed[:j]), signed[i:j]...), signed[j:]...)
		if _, err := trust.ParseTrustedList(twice, []*x509.Certificate{signer}, now); err == nil || !strings.Contains(err.Error(), "2 signatures") {
			t.Fatalf("two signatures: %v", err)
		}
	})
	t.Run("not a list", func(t *testing.T) {
		for _, in := range []string{"", "<a/>", "<TrustServiceStatusList", "%PDF-1.7"} {
			if _, err := trust.ParseTrustedList([]byte(in), []*x509.Certificate{signer}, now); err == nil {
				t.Errorf("%q accepted", in)
			}
		}
	})
}

// TestTrustedListStatusOverTime: an anchor from a Trusted List is trusted
// only while its service's status is granted.
func TestTrustedListStatusOverTime(t *testing.T) {
	now := time.Now()
	ca := newCA(t, "InfoCert Qualified CA", now.Add(-3*365*day), now.Add(5*365*day), nil)
	person := newPerson(t, ca, now.Add(-365*day), now.Add(365*day))
	key, signer := trusttest.Signer(t)
	withdrawnAt := now.Add(-30 * day)
	svc := trusttest.Service{Provider: "InfoCert S.p.A.", Name: "InfoCert Qualified CA", Type: trust.SvcCAQC, Cert: ca.Certificate,
		History: []trusttest.Status{{Status: trusttest.Withdrawn, From: withdrawnAt}, {Status: trusttest.Granted, From: now.Add(-2 * 365 * day)}}}
	tl, err := trust.ParseTrustedList(trusttest.Sign(t, trusttest.XML([]trusttest.Service{svc}, now.Add(day)), key, signer), []*x509.Certificate{signer}, now)
	if err != nil {
		t.Fatal(err)
	}
	anchors := &trust.Anchors{}
	if n := anchors.AddTrustedList(tl, "trusted-list:it.xml"); n != 1 {
		t.Fatalf("%d anchors", n)
	}
	if a := anchors.List()[0]; a.Source != "trusted-list:it.xml" || a.Service == nil || a.Service.Name != svc.Name {
		t.Errorf("anchor %+v", a)
	}
	if _, an, err := anchors.Verify(person.Certificate, nil, withdrawnAt.Add(-day)); err != nil || an.Service == nil {
		t.Errorf("before the withdrawal: %v", err)
	}
	if _, _, err := anchors.Verify(person.Certificate, nil, withdrawnAt.Add(day)); err == nil || !strings.Contains(err.Error(), "withdrawn") {
		t.Errorf("after the withdrawal: %v", err)
	}
	if _, _, err := anchors.Verify(person.Certificate, nil, now.Add(-3*365*day)); err == nil {
		t.Error("trusted before the service had a status")
	}
}

// TestSignerOf reads the facts a record keeps of a comune's signer.
func TestSignerOf(t *testing.T) {
	now := time.Now()
	ca := newCA(t, "Namirial CA Firma Qualificata", now.Add(-day), now.Add(365*day), nil)
	s := trust.SignerOf(newPerson(t, ca, now.Add(-day), now.Add(day)).Certificate)
	if s.CommonName != "Maria Rossi" || s.SerialNumber != "TINIT-RSSMRA80A41H501U" || s.Organization != "Comune di Suvereto" ||
		!strings.Contains(s.Issuer, "Namirial") || !s.Qualified || !s.QSCD || s.QCType != "esign" || len(s.CertSHA256) != 64 {
		t.Errorf("signer %+v", s)
	}
	if s := trust.SignerOf(ca.Certificate); s.Qualified || s.QSCD || s.QCType != "" {
		t.Errorf("a certificate without QCStatements: %+v", s)
	}
}

// judgeEnv is a CA for signers and a time-stamping authority, both
// trusted.
type judgeEnv struct {
	now     time.Time
	ca, tsa *cert
	anchors *trust.Anchors
}

func newJudgeEnv(t testing.TB) *judgeEnv {
	now := time.Now().UTC().Truncate(time.Second)
	e := &judgeEnv{now: now, anchors: &trust.Anchors{}}
	e.ca = newCA(t, "Qualified CA", now.Add(-365*day), now.Add(365*day), nil)
	tsaCA := newCA(t, "TSA CA", now.Add(-365*day), now.Add(365*day), nil)
	e.tsa = issue(t, &x509.Certificate{Subject: tsaCA.Subject, NotBefore: now.Add(-365 * day), NotAfter: now.Add(365 * day),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}, tsaCA)
	e.tsa.Subject.CommonName = "TSA"
	e.anchors.Add(e.ca.Certificate, "bundle:ca.pem")
	e.anchors.Add(tsaCA.Certificate, "bundle:tsa.pem")
	return e
}

func (e *judgeEnv) sig(c *cert, claimed time.Time, ts *time.Time) pades.Signature {
	s := pades.Signature{Signer: c.Certificate, Certs: []*x509.Certificate{c.Certificate}, SigningTime: claimed}
	if ts != nil {
		s.Timestamp = &pades.Timestamp{Time: *ts, Signer: e.tsa.Certificate, Certs: []*x509.Certificate{e.tsa.Certificate}, ImprintMatches: true}
	}
	return s
}

func codes(j trust.Judgement) []string {
	var out []string
	for _, f := range j.Findings {
		out = append(out, f.Code)
	}
	return out
}

// TestJudge: trust is decided at a trusted time-stamp's time, else now,
// never at the claimed time; claimed times outside the certificate, far
// from the time-stamp or running backwards are findings.
func TestJudge(t *testing.T) {
	e := newJudgeEnv(t)
	p := &trust.Policy{Anchors: e.anchors}
	now := e.now
	valid := newPerson(t, e.ca, now.Add(-30*day), now.Add(30*day))
	expired := newPerson(t, e.ca, now.Add(-30*day), now.Add(-10*day))
	selfSigned := newCA(t, "Comune di Nowhere", now.Add(-day), now.Add(day), nil)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }

	for _, tc := range []struct {
		name     string
		sigs     []pades.Signature
		accepted bool
		source   string
		codes    []string
	}{
		{"trusted, no time-stamp: now", []pades.Signature{e.sig(valid, now.Add(-time.Minute), nil)}, true, "now", nil},
		{"trusted, time-stamped", []pades.Signature{e.sig(valid, now.Add(-time.Minute), at(-time.Minute))}, true, "timestamp", nil},
		{"self-signed", []pades.Signature{e.sig(selfSigned, now, nil)}, false, "now", []string{"untrusted_signer"}},
		{"backdated into an expired certificate", []pades.Signature{e.sig(expired, now.Add(-20*day), nil)}, false, "now", []string{"signer_expired"}},
		{"expired, claimed now", []pades.Signature{e.sig(expired, now, nil)}, false, "now", []string{"signer_expired", "signing_time_outside_validity"}},
		{"expired, but time-stamped while valid", []pades.Signature{e.sig(expired, now.Add(-20*day), at(-20*day))}, true, "timestamp", nil},
		{"claimed an hour before the time-stamp", []pades.Signature{e.sig(valid, now.Add(-time.Hour), at(0))}, false, "timestamp", []string{"claimed_time_mismatch"}},
		{"claimed an hour after the time-stamp", []pades.Signature{e.sig(valid, now.Add(time.Hour), at(0))}, false, "timestamp", []string{"claimed_time_mismatch"}},
		{"claimed before the certificate", []pades.Signature{e.sig(valid, now.Add(-40*day), nil)}, false, "now", []string{"signing_time_outside_validity"}},
		{"claimed before the previous revision's time-stamp",
			[]pades.Signature{e.sig(valid, now.Add(-2*day), at(-2*day)), e.sig(valid, now.Add(-5*day), nil)}, false, "now", []string{"time_backwards"}},
		{"in order", []pades.Signature{e.sig(valid, now.Add(-2*day), at(-2*day)), e.sig(valid, now.Add(-day), nil)}, true, "now", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := p.Judge(tc.sigs, now)
			j := js[len(js)-1]
			if j.Accepted() != tc.accepted || j.Signer.TrustTimeSource != tc.source || !slices.Equal(codes(j), tc.codes) {
				t.Errorf("accepted %v, trust time from %s, findings %v (%+v); want %v, %s, %v", j.Accepted(), j.Signer.TrustTimeSource, codes(j), j.Findings, tc.accepted, tc.source, tc.codes)
			}
			if tc.source == "timestamp" && !j.Signer.TrustTime.Equal(tc.sigs[len(tc.sigs)-1].Timestamp.Time) {
				t.Errorf("trust time %s", j.Signer.TrustTime)
			}
		})
	}
}

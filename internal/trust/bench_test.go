package trust_test

import (
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"faldone/internal/pades"
	"faldone/internal/trust"
	"faldone/internal/trust/trusttest"
)

// BenchmarkParseTrustedList checks the signature of, and reads, a list of
// 300 services with one history entry each, about the size of the Italian
// list.
func BenchmarkParseTrustedList(b *testing.B) {
	now := time.Now()
	var services []trusttest.Service
	ca := newCA(b, "Bench CA", now.Add(-day), now.Add(day), nil)
	for i := range 300 {
		services = append(services, trusttest.Service{Provider: fmt.Sprintf("QTSP %d", i), Name: fmt.Sprintf("CA %d", i), Type: trust.SvcCAQC, Cert: ca.Certificate,
			History: []trusttest.Status{{Status: trusttest.Granted, From: now.Add(-day)}, {Status: trusttest.Withdrawn, From: now.Add(-2 * day)}}})
	}
	key, signer := trusttest.Signer(b)
	list := trusttest.Sign(b, trusttest.XML(services, now.Add(day)), key, signer)
	b.SetBytes(int64(len(list)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := trust.ParseTrustedList(list, []*x509.Certificate{signer}, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJudge judges a time-stamped signature of a qualified signer.
func BenchmarkJudge(b *testing.B) {
	e := newJudgeEnv(b)
	p := &trust.Policy{Anchors: e.anchors}
	person := newPerson(b, e.ca, e.now.Add(-day), e.now.Add(day))
	ts := e.now.Add(-time.Minute)
	sigs := []pades.Signature{e.sig(person, ts, &ts)}
	for b.Loop() {
		if j := p.Judge(sigs, e.now); !j[0].Accepted() {
			b.Fatal(j[0].Findings)
		}
	}
}

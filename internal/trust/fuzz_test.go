package trust_test

import (
	"bytes"
	"crypto/x509"
	"testing"
	"time"

	"faldone/internal/trust"
	"faldone/internal/trust/trusttest"
)

// FuzzParseTrustedList: no input makes the Trusted List reader panic, and
// nothing but the signed list is accepted.
func FuzzParseTrustedList(f *testing.F) {
	now := time.Now()
	ca := newCA(f, "Fuzz CA", now.Add(-day), now.Add(day), nil)
	key, signer := trusttest.Signer(f)
	svc := trusttest.Service{Provider: "P", Name: "S", Type: trust.SvcCAQC, Cert: ca.Certificate,
		History: []trusttest.Status{{Status: trusttest.Granted, From: now.Add(-day)}}}
	signed := trusttest.Sign(f, trusttest.XML([]trusttest.Service{svc}, now.Add(day)), key, signer)
	f.Add(signed)
	f.Add([]byte(trusttest.XML([]trusttest.Service{svc}, now.Add(day))))
	f.Add(bytes.Replace(signed, []byte("granted"), []byte("withdrawn"), 1))
	f.Add([]byte(`<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#"><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></TrustServiceStatusList>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><TrustServiceStatusList>&b;</TrustServiceStatusList>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tl, err := trust.ParseTrustedList(data, []*x509.Certificate{signer}, now)
		if err == nil && !bytes.Equal(data, signed) && len(tl.Services) > 0 && tl.Services[0].Name != "S" {
			t.Fatalf("a list not signed as made was read: %+v", tl)
		}
	})
}

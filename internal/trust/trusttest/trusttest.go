// Package trusttest makes Trusted Lists (ETSI TS 119 612) for tests,
// signed with an enveloped XML signature as scheme operators sign them.
package trusttest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Service statuses.
const (
	Granted   = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
	Withdrawn = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
)

// Service is a service of a test Trusted List.
type Service struct {
	Provider, Name, Type string
	Cert                 *x509.Certificate
	// History is the service's status, newest first; the first is the
	// current one.
	History []Status
}

// Status is a status from a time on.
type Status struct {
	Status string
	From   time.Time
}

func serviceInfo(b *strings.Builder, s Service, st Status) {
	fmt.Fprintf(b, `<ServiceTypeIdentifier>%s</ServiceTypeIdentifier><ServiceName><Name xml:lang="it">%s (it)</Name><Name xml:lang="en">%s</Name></ServiceName>`, s.Type, s.Name, s.Name)
	fmt.Fprintf(b, `<ServiceDigitalIdentity><DigitalId><X509Certificate>%s</X509Certificate></DigitalId></ServiceDigitalIdentity>`, base64.StdEncoding.EncodeToString(s.Cert.Raw))
	fmt.Fprintf(b, `<ServiceStatus>%s</ServiceStatus><StatusStartingTime>%s</StatusStartingTime>`, st.Status, st.From.UTC().Format(time.RFC3339))
}

// XML returns an unsigned Trusted List of Italy with services, next
// update at next.
func XML(services []Service, next time.Time) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#" Id="TrustServiceStatusList-IT" TSLTag="http://uri.etsi.org/19612/TSLTag">`)
	fmt.Fprintf(&b, `<SchemeInformation><TSLVersionIdentifier>5</TSLVersionIdentifier><TSLSequenceNumber>42</TSLSequenceNumber><TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</TSLType><SchemeOperatorName><Name xml:lang="en">Agenzia per l'Italia Digitale</Name></SchemeOperatorName><SchemeTerritory>IT</SchemeTerritory><ListIssueDateTime>%s</ListIssueDateTime><NextUpdate><dateTime>%s</dateTime></NextUpdate></SchemeInformation>`,
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), next.UTC().Format(time.RFC3339))
	b.WriteString(`<TrustServiceProviderList>`)
	for _, s := range services {
		fmt.Fprintf(&b, `<TrustServiceProvider><TSPInformation><TSPName><Name xml:lang="en">%s</Name></TSPName></TSPInformation><TSPServices><TSPService><ServiceInformation>`, s.Provider)
		serviceInfo(&b, s, s.History[0])
		b.WriteString(`</ServiceInformation>`)
		if len(s.History) > 1 {
			b.WriteString(`<ServiceHistory>`)
			for _, h := range s.History[1:] {
				b.WriteString(`<ServiceHistoryInstance>`)
				serviceInfo(&b, s, h)
				b.WriteString(`</ServiceHistoryInstance>`)
			}
			b.WriteString(`</ServiceHistory>`)
		}
		b.WriteString(`</TSPService></TSPServices></TrustServiceProvider>`)
	}
	b.WriteString(`</TrustServiceProviderList></TrustServiceStatusList>`)
	return b.String()
}

// Sign signs a Trusted List with an enveloped XML signature: exclusive
// canonicalisation, RSA-SHA256, the signer's certificate in KeyInfo.
func Sign(tb testing.TB, xml string, key *rsa.PrivateKey, c *x509.Certificate) []byte {
	tb.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(xml); err != nil {
		tb.Fatal(err)
	}
	ctx, err := dsig.NewSigningContext(key, [][]byte{c.Raw})
	if err != nil {
		tb.Fatal(err)
	}
	ctx.IdAttribute = "Id"
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := ctx.SignEnveloped(doc.Root())
	if err != nil {
		tb.Fatal(err)
	}
	doc.SetRoot(signed)
	b, err := doc.WriteToBytes()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Signer makes the scheme operator's signing key and self-signed
// certificate, valid for a year.
func Signer(tb testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "AgID Trusted List signer", Country: []string{"IT"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, c
}

// Files writes a signed Trusted List whose one granted CA/QC service is
// ca, next update at next, and the PEM of its signer's certificate, in a
// temporary directory; it returns their paths.
func Files(tb testing.TB, ca *x509.Certificate, next time.Time) (list, signer string) {
	tb.Helper()
	key, cert := Signer(tb)
	svc := Service{Provider: "Test QTSP S.p.A.", Name: "Test Qualified CA", Type: "http://uri.etsi.org/TrstSvc/Svctype/CA/QC", Cert: ca,
		History: []Status{{Status: Granted, From: time.Now().Add(-365 * 24 * time.Hour)}}}
	dir := tb.TempDir()
	list, signer = filepath.Join(dir, "IT_TSL.xml"), filepath.Join(dir, "tsl-signer.pem")
	if err := os.WriteFile(list, Sign(tb, XML([]Service{svc}, next), key, cert), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(signer, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return list, signer
}

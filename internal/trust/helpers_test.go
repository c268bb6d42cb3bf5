package trust_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// cert is a certificate and its key.
type cert struct {
	*x509.Certificate
	key crypto.Signer
}

var serial int64 = 100

// issue makes a certificate for tmpl signed by parent (nil: self-signed).
func issue(t *testing.T, tmpl *x509.Certificate, parent *cert) *cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	issuer, signer := tmpl, crypto.Signer(key)
	if parent != nil {
		issuer, signer = parent.Certificate, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &cert{c, key}
}

func newCA(t *testing.T, name string, from, to time.Time, parent *cert) *cert {
	return issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: name, Organization: []string{name}, Country: []string{"IT"}}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, parent)
}

// qcStatements encodes QcCompliance, QcSSCD and QcType esign.
func qcStatements(t *testing.T) pkix.Extension {
	t.Helper()
	types, _ := asn1.Marshal([]asn1.ObjectIdentifier{{0, 4, 0, 1862, 1, 6, 1}})
	type stmt struct {
		ID   asn1.ObjectIdentifier
		Info asn1.RawValue `asn1:"optional"`
	}
	v, err := asn1.Marshal([]stmt{
		{ID: asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}},
		{ID: asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}},
		{ID: asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}, Info: asn1.RawValue{FullBytes: types}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}, Value: v}
}

// newPerson issues a qualified signature certificate of a person, with an
// Italian tax code as serialNumber.
func newPerson(t *testing.T, ca *cert, from, to time.Time) *cert {
	return issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Maria Rossi", SerialNumber: "TINIT-RSSMRA80A41H501U", Organization: []string{"Comune di Suvereto"}, Country: []string{"IT"}},
		NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageContentCommitment,
		ExtraExtensions: []pkix.Extension{qcStatements(t)},
	}, ca)
}

// tslService is a service of a test Trusted List.
type tslService struct {
	provider, name, typ string
	cert                *x509.Certificate
	history             []status // newest first; the first is the current one
}

type status struct {
	status string
	from   time.Time
}

const granted = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
const withdrawn = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"

func serviceInfo(b *strings.Builder, s tslService, st status) {
	fmt.Fprintf(b, `<ServiceTypeIdentifier>%s</ServiceTypeIdentifier><ServiceName><Name xml:lang="it">%s (it)</Name><Name xml:lang="en">%s</Name></ServiceName>`, s.typ, s.name, s.name)
	fmt.Fprintf(b, `<ServiceDigitalIdentity><DigitalId><X509Certificate>%s</X509Certificate></DigitalId></ServiceDigitalIdentity>`, base64.StdEncoding.EncodeToString(s.cert.Raw))
	fmt.Fprintf(b, `<ServiceStatus>%s</ServiceStatus><StatusStartingTime>%s</StatusStartingTime>`, st.status, st.from.UTC().Format(time.RFC3339))
}

// tslXML is an unsigned Trusted List of services.
func tslXML(services []tslService, next time.Time) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#" Id="TrustServiceStatusList-IT" TSLTag="http://uri.etsi.org/19612/TSLTag">`)
	fmt.Fprintf(&b, `<SchemeInformation><TSLVersionIdentifier>5</TSLVersionIdentifier><TSLSequenceNumber>42</TSLSequenceNumber><TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</TSLType><SchemeOperatorName><Name xml:lang="en">Agenzia per l'Italia Digitale</Name></SchemeOperatorName><SchemeTerritory>IT</SchemeTerritory><ListIssueDateTime>%s</ListIssueDateTime><NextUpdate><dateTime>%s</dateTime></NextUpdate></SchemeInformation>`,
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), next.UTC().Format(time.RFC3339))
	b.WriteString(`<TrustServiceProviderList>`)
	for _, s := range services {
		fmt.Fprintf(&b, `<TrustServiceProvider><TSPInformation><TSPName><Name xml:lang="en">%s</Name></TSPName></TSPInformation><TSPServices><TSPService><ServiceInformation>`, s.provider)
		serviceInfo(&b, s, s.history[0])
		b.WriteString(`</ServiceInformation>`)
		if len(s.history) > 1 {
			b.WriteString(`<ServiceHistory>`)
			for _, h := range s.history[1:] {
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

// signTSL signs a Trusted List with an enveloped XML signature, exclusive
// canonicalisation, RSA-SHA256, the signer's certificate in KeyInfo.
func signTSL(t *testing.T, xml string, key *rsa.PrivateKey, c *x509.Certificate) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(xml); err != nil {
		t.Fatal(err)
	}
	ctx, err := dsig.NewSigningContext(key, [][]byte{c.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.IdAttribute = "Id"
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := ctx.SignEnveloped(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(signed)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tslSigner is the scheme operator's signing certificate and key.
func tslSigner(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "AgID Trusted List signer", Country: []string{"IT"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return key, c
}

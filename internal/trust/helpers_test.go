package trust_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"
)

// cert is a certificate and its key.
type cert struct {
	*x509.Certificate
	key crypto.Signer
}

var serial int64 = 100

// issue makes a certificate for tmpl signed by parent (nil: self-signed).
func issue(t testing.TB, tmpl *x509.Certificate, parent *cert) *cert {
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

func newCA(t testing.TB, name string, from, to time.Time, parent *cert) *cert {
	return issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: name, Organization: []string{name}, Country: []string{"IT"}}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, parent)
}

// qcStatements encodes QcCompliance, QcSSCD and QcType esign.
func qcStatements(t testing.TB) pkix.Extension {
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
func newPerson(t testing.TB, ca *cert, from, to time.Time) *cert {
	return issue(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "Maria Rossi", SerialNumber: "TINIT-RSSMRA80A41H501U", Organization: []string{"Comune di Suvereto"}, Country: []string{"IT"}},
		NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageContentCommitment,
		ExtraExtensions: []pkix.Extension{qcStatements(t)},
	}, ca)
}

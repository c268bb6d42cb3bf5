package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"strings"

	"faldone/internal/faldone"
)

// Object identifiers of the qualified certificate statements (RFC 3739,
// ETSI EN 319 412-5) and of the subject's serialNumber attribute.
var (
	oidQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	oidQcCompliance = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}
	oidQcSSCD       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}
	oidQcType       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}
	oidQcTypeESign  = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}
	oidQcTypeESeal  = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}
	oidQcTypeWeb    = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 3}
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
)

// Signer describes who signed and the trust judgement (see
// faldone.Signer).
type Signer = faldone.Signer

// SignerOf returns the certificate facts of c; the judgement fields are
// left empty.
func SignerOf(c *x509.Certificate) Signer {
	sum := sha256.Sum256(c.Raw)
	s := Signer{
		Subject: clean(c.Subject.String()), CommonName: clean(c.Subject.CommonName),
		SerialNumber: clean(c.Subject.SerialNumber), Issuer: clean(c.Issuer.String()),
		CertSerial: c.SerialNumber.Text(16), CertSHA256: hex.EncodeToString(sum[:]),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
	}
	if len(c.Subject.Organization) > 0 {
		s.Organization = clean(c.Subject.Organization[0])
	}
	if s.SerialNumber == "" {
		s.SerialNumber = clean(attr(c.Subject.Names, oidSerialNumber))
	}
	s.Qualified, s.QSCD, s.QCType = qcStatements(c)
	return s
}

// clean makes s valid UTF-8, so that a record holding it has a stable
// canonical form.
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func attr(names []pkix.AttributeTypeAndValue, oid asn1.ObjectIdentifier) string {
	for _, n := range names {
		if n.Type.Equal(oid) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// qcStatements reads the QCStatements extension: QcCompliance, QcSSCD and
// QcType. An extension that cannot be read says nothing.
func qcStatements(c *x509.Certificate) (compliance, sscd bool, qcType string) {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidQCStatements) {
			continue
		}
		var stmts []struct {
			ID   asn1.ObjectIdentifier
			Info asn1.RawValue `asn1:"optional"`
		}
		if rest, err := asn1.Unmarshal(ext.Value, &stmts); err != nil || len(rest) > 0 {
			return false, false, ""
		}
		for _, st := range stmts {
			switch {
			case st.ID.Equal(oidQcCompliance):
				compliance = true
			case st.ID.Equal(oidQcSSCD):
				sscd = true
			case st.ID.Equal(oidQcType):
				var types []asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(st.Info.FullBytes, &types); err == nil && len(types) > 0 {
					switch {
					case types[0].Equal(oidQcTypeESign):
						qcType = "esign"
					case types[0].Equal(oidQcTypeESeal):
						qcType = "eseal"
					case types[0].Equal(oidQcTypeWeb):
						qcType = "web"
					}
				}
			}
		}
	}
	return compliance, sscd, qcType
}

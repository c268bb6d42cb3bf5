package trust

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"

	"faldone/internal/pades"
)

// Codes of the revocation checks, made with the validation data the file
// carries (its /DSS: OCSP responses and CRLs, each verified with the
// issuer's key).
const (
	// CodeCertificateRevoked: a certificate of the signer's chain, or the
	// time-stamp authority's, was revoked at or before the trust time.
	CodeCertificateRevoked = "certificate_revoked"
	// CodeRevokedLater (warning): a certificate was revoked after the
	// trust time; the signature was made while it was valid.
	CodeRevokedLater = "certificate_revoked_later"
)

// revokedAt looks c up in vd: the revocation time when an OCSP response
// or CRL of vd, signed by issuer, says c is revoked.
func revokedAt(vd *pades.ValidationData, c, issuer *x509.Certificate) (time.Time, bool) {
	for _, der := range vd.OCSPs {
		r, err := ocsp.ParseResponseForCert(der, c, issuer)
		if err == nil && r.Status == ocsp.Revoked {
			return r.RevokedAt, true
		}
	}
	for _, der := range vd.CRLs {
		crl, err := x509.ParseRevocationList(der)
		if err != nil || !bytes.Equal(crl.RawIssuer, issuer.RawSubject) || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				return e.RevocationTime, true
			}
		}
	}
	return time.Time{}, false
}

// checkRevocation adds a finding for every certificate of chain (leaf
// first, anchor last) that the file's validation data says is revoked.
func (j *Judgement) checkRevocation(vd *pades.ValidationData, chain []*x509.Certificate, trustTime time.Time) {
	if vd == nil {
		return
	}
	for i := 0; i+1 < len(chain); i++ {
		c, issuer := chain[i], chain[i+1]
		at, revoked := revokedAt(vd, c, issuer)
		if !revoked {
			continue
		}
		params := map[string]any{"Subject": c.Subject.String(), "RevokedAt": rfc(at), "TrustTime": rfc(trustTime)}
		if at.After(trustTime) {
			j.add(SeverityWarning, CodeRevokedLater, fmt.Sprintf("certificate %q was revoked at %s, after the trust time %s", c.Subject.String(), rfc(at), rfc(trustTime)), params)
			continue
		}
		j.add(SeverityError, CodeCertificateRevoked, fmt.Sprintf("certificate %q was revoked at %s, at or before the trust time %s", c.Subject.String(), rfc(at), rfc(trustTime)), params)
	}
}

// withDSS returns certs and the certificates of the file's validation
// data, which may complete a chain a signature or time-stamp token does
// not carry whole.
func withDSS(certs []*x509.Certificate, vd *pades.ValidationData) []*x509.Certificate {
	if vd == nil || len(vd.Certs) == 0 {
		return certs
	}
	out := append([]*x509.Certificate{}, certs...)
	for _, der := range vd.Certs {
		if c, err := x509.ParseCertificate(der); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// Certificates returns the certificates of the anchors, such as the
// issuers a signature does not carry, for collecting validation data.
func (a *Anchors) Certificates() []*x509.Certificate {
	var out []*x509.Certificate
	for _, x := range a.List() {
		out = append(out, x.cert)
	}
	return out
}

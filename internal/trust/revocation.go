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
	// CodeTimestampUnprotected: the certificate of a time-stamp's
	// authority has expired by the time of the verification, and no later
	// document time-stamp, itself trusted, was made before that expiry:
	// nothing proves the time-stamp was made while it could be trusted.
	// A time-stamp so protected is judged at its own time; so is the one
	// protecting it, back to the seal (PAdES B-LTA).
	CodeTimestampUnprotected = "timestamp_unprotected"
)

// checkTimestampChain adds CodeTimestampUnprotected to every trusted
// time-stamp whose authority's certificate expired before now and that no
// later trusted document time-stamp, made before that expiry, covers.
func checkTimestampChain(sigs []pades.Signature, out []Judgement, now time.Time) {
	for i := range sigs {
		ts, j := sigs[i].Timestamp, &out[i]
		if sigs[i].IntegrityErr != nil || !j.TimestampTrusted || ts == nil || ts.Signer == nil || !now.After(ts.Signer.NotAfter) {
			continue
		}
		end := ts.Signer.NotAfter
		protected := false
		for k := i + 1; k < len(sigs) && !protected; k++ {
			next := sigs[k].Timestamp
			protected = sigs[k].SubFilter == pades.SubFilterDocTimestamp && sigs[k].IntegrityErr == nil && out[k].TimestampTrusted &&
				next != nil && !next.Time.After(end) && !next.Time.Before(ts.Time)
		}
		if !protected {
			j.add(SeverityError, CodeTimestampUnprotected,
				fmt.Sprintf("the time-stamp of %s by %q, whose certificate expired on %s, is covered by no later document time-stamp made before then", rfc(ts.Time), ts.Signer.Subject.String(), rfc(end)),
				map[string]any{"Authority": ts.Signer.Subject.String(), "Time": rfc(ts.Time), "NotAfter": rfc(end)})
		}
	}
}

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

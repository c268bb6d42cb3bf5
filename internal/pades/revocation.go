package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ErrRevocationUnavailable is wrapped by errors from Revocation.Collect
// when a certificate's revocation status could be fetched neither from
// its OCSP responder nor from its CRL distribution points (after all
// retries).
var ErrRevocationUnavailable = errors.New("revocation information unavailable")

// ErrRevoked is wrapped by errors from Revocation.Collect when a
// certificate is revoked.
var ErrRevoked = errors.New("certificate revoked")

// ValidationData is the validation material of a Document Security Store:
// DER certificates, OCSP responses (OCSPResponse) and CRLs
// (CertificateList).
type ValidationData struct {
	Certs, OCSPs, CRLs [][]byte
}

// add appends what o holds that v does not, comparing bytes.
func (v *ValidationData) add(o *ValidationData) {
	if o == nil {
		return
	}
	v.Certs = appendNew(v.Certs, o.Certs...)
	v.OCSPs = appendNew(v.OCSPs, o.OCSPs...)
	v.CRLs = appendNew(v.CRLs, o.CRLs...)
}

func appendNew(list [][]byte, items ...[]byte) [][]byte {
	for _, it := range items {
		found := false
		for _, l := range list {
			if bytes.Equal(l, it) {
				found = true
				break
			}
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

// Revocation fetches the revocation status of certificates: an OCSP
// response from the responder named in the certificate's Authority
// Information Access, else a CRL from its CRL distribution points.
type Revocation struct {
	// Timeout bounds each attempt. Optional: 0 means 10 seconds.
	Timeout time.Duration
	// Retries is the number of further attempts after a failed one. Optional.
	Retries int
	// Client is the HTTP client. Optional: nil means http.DefaultClient.
	Client *http.Client
	// Local are CRLs (DER) held locally, such as the development CA's,
	// consulted for a certificate that names no OCSP responder and no
	// CRL distribution point. Optional.
	Local [][]byte
}

const maxRevocationResponse = 4 << 20

// Collect returns the certificates of certs and the revocation data of
// every one of them that is not self-signed; each certificate's issuer
// must be among certs. A certificate that names no OCSP responder and no
// CRL distribution point, and that no Local CRL covers, has no status to
// fetch and is returned without one. Responses are verified with the issuer's key (an
// OCSP response signed by a delegated responder carries the responder's
// certificate, which is added too). It fails, wrapping
// ErrRevocationUnavailable, when a status cannot be obtained, and,
// wrapping ErrRevoked, when a certificate is revoked; then the data
// gathered so far is returned too.
func (r *Revocation) Collect(ctx context.Context, certs []*x509.Certificate) (*ValidationData, error) {
	return r.collect(ctx, certs, nil, nil)
}

// collect is Collect, reusing and filling cache: the revocation data of
// each certificate already looked up, by SHA-256 of the certificate.
func (r *Revocation) collect(ctx context.Context, certs []*x509.Certificate, cache map[[32]byte]*ValidationData, checks sigChecks) (*ValidationData, error) {
	vd := &ValidationData{}
	seen := map[[32]byte]bool{}
	var uniq []*x509.Certificate
	for _, c := range certs {
		if c == nil || seen[sha256.Sum256(c.Raw)] {
			continue
		}
		seen[sha256.Sum256(c.Raw)] = true
		uniq = append(uniq, c)
		vd.Certs = append(vd.Certs, c.Raw)
	}
	var revoked error
	for _, c := range uniq {
		if checks.selfSigned(c) {
			continue
		}
		issuer := checks.issuerOf(c, uniq)
		if issuer == nil {
			return vd, fmt.Errorf("revocation: %w: the issuer of %q is not in the chain", ErrRevocationUnavailable, c.Subject.String())
		}
		key := sha256.Sum256(c.Raw)
		if got, ok := cache[key]; ok {
			vd.add(got)
			continue
		}
		one := &ValidationData{}
		st, err := r.status(ctx, c, issuer, one)
		vd.add(one)
		if err != nil {
			return vd, fmt.Errorf("revocation of %q: %w", c.Subject.String(), err)
		}
		if cache != nil && st == nil {
			cache[key] = one
		}
		if st != nil && revoked == nil {
			revoked = fmt.Errorf("revocation: %w: %q at %s", ErrRevoked, c.Subject.String(), st.UTC().Format(time.RFC3339))
		}
	}
	return vd, revoked
}

// sigChecks remembers which certificate signed which, so that chains
// built again and again check each signature once. A nil sigChecks
// remembers nothing.
type sigChecks map[[2]*x509.Certificate]bool

func (m sigChecks) signed(child, parent *x509.Certificate) bool {
	if m == nil {
		return child.CheckSignatureFrom(parent) == nil
	}
	k := [2]*x509.Certificate{child, parent}
	v, ok := m[k]
	if !ok {
		v = child.CheckSignatureFrom(parent) == nil
		m[k] = v
	}
	return v
}

func (m sigChecks) selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && m.signed(c, c)
}

func (m sigChecks) issuerOf(c *x509.Certificate, certs []*x509.Certificate) *x509.Certificate {
	for _, i := range certs {
		if i != c && bytes.Equal(c.RawIssuer, i.RawSubject) && m.signed(c, i) {
			return i
		}
	}
	return nil
}

// status fetches c's status into vd: the revocation time when revoked,
// nil when good.
func (r *Revocation) status(ctx context.Context, c, issuer *x509.Certificate, vd *ValidationData) (*time.Time, error) {
	var errs []error
	for _, u := range c.OCSPServer {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			continue
		}
		der, resp, err := r.ocsp(ctx, u, c, issuer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vd.OCSPs = appendNew(vd.OCSPs, der)
		if resp.Certificate != nil {
			vd.Certs = appendNew(vd.Certs, resp.Certificate.Raw)
		}
		if resp.Status == ocsp.Revoked {
			t := resp.RevokedAt
			return &t, nil
		}
		return nil, nil
	}
	for _, u := range c.CRLDistributionPoints {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			continue
		}
		der, crl, err := r.crl(ctx, u, issuer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vd.CRLs = appendNew(vd.CRLs, der)
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				t := e.RevocationTime
				return &t, nil
			}
		}
		return nil, nil
	}
	if len(errs) == 0 {
		for _, der := range r.Local {
			crl, err := x509.ParseRevocationList(der)
			if err != nil || !bytes.Equal(crl.RawIssuer, issuer.RawSubject) || crl.CheckSignatureFrom(issuer) != nil ||
				!crl.NextUpdate.IsZero() && time.Now().After(crl.NextUpdate) {
				continue
			}
			vd.CRLs = appendNew(vd.CRLs, der)
			for _, e := range crl.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
					t := e.RevocationTime
					return &t, nil
				}
			}
			return nil, nil
		}
		// No revocation service is named: there is no status to fetch,
		// and the certificate is recorded without one.
		return nil, nil
	}
	// every named source failed: the status is unavailable, whatever the
	// failure (no answer, an error status, a response that does not verify)
	return nil, fmt.Errorf("%w: %w", ErrRevocationUnavailable, errors.Join(errs...))
}

// ocsp asks the responder at url for c's status.
func (r *Revocation) ocsp(ctx context.Context, url string, c, issuer *x509.Certificate) ([]byte, *ocsp.Response, error) {
	req, err := ocsp.CreateRequest(c, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		return nil, nil, err
	}
	der, err := r.fetch(ctx, http.MethodPost, url, "application/ocsp-request", req)
	if err != nil {
		return nil, nil, fmt.Errorf("ocsp %s: %w", url, err)
	}
	resp, err := ocsp.ParseResponseForCert(der, c, issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("ocsp %s: %w", url, err)
	}
	if resp.Status != ocsp.Good && resp.Status != ocsp.Revoked {
		return nil, nil, fmt.Errorf("ocsp %s: status unknown", url)
	}
	return der, resp, nil
}

// crl fetches the CRL at url and checks it is issuer's and current.
func (r *Revocation) crl(ctx context.Context, url string, issuer *x509.Certificate) ([]byte, *x509.RevocationList, error) {
	der, err := r.fetch(ctx, http.MethodGet, url, "", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("crl %s: %w", url, err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, nil, fmt.Errorf("crl %s: %w", url, err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, nil, fmt.Errorf("crl %s: %w", url, err)
	}
	if !crl.NextUpdate.IsZero() && time.Now().After(crl.NextUpdate) {
		return nil, nil, fmt.Errorf("crl %s: past its next update %s", url, crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	return der, crl, nil
}

// fetch does one request with the timeouts and retries of the TSA
// client (peer.fetch).
func (r *Revocation) fetch(ctx context.Context, method, url, ctype string, body []byte) ([]byte, error) {
	var header http.Header
	if ctype != "" {
		header = http.Header{"Content-Type": {ctype}}
	}
	p := peer{timeout: r.Timeout, retries: r.Retries, client: r.Client, limit: maxRevocationResponse}
	return p.fetch(ctx, ErrRevocationUnavailable, method, url, header, body)
}

package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// Anchor is one trusted certification authority.
type Anchor struct {
	Subject  string    `json:"subject"`
	SHA256   string    `json:"sha256"` // of the certificate's DER
	NotAfter time.Time `json:"not_after"`
	// Source says where the anchor was configured: "service" (the seal's
	// CA), "bundle:PATH" (a PEM trust bundle), "evidence" (an evidence
	// bundle's anchors), "trusted-list:PATH" (a Trusted List's service).
	Source string `json:"source"`
	// Service is the Trusted List service the anchor is the identity of;
	// nil for anchors from PEM bundles, which are trusted at any time.
	Service *Service `json:"service,omitempty"`

	cert *x509.Certificate
}

// Certificate returns the anchor's certificate.
func (a *Anchor) Certificate() *x509.Certificate { return a.cert }

// Anchors is a set of trust anchors. The zero value is empty; it is safe
// for concurrent use once built.
type Anchors struct {
	mu    sync.RWMutex
	list  []Anchor
	pool  *x509.CertPool
	lists []ListInfo
}

// ListInfo describes a Trusted List whose services are anchors.
type ListInfo struct {
	Source     string    `json:"source"`
	Territory  string    `json:"territory,omitempty"`
	Operator   string    `json:"operator,omitempty"`
	Sequence   int       `json:"sequence,omitempty"`
	Issued     time.Time `json:"issued,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	// Signer is the subject of the certificate that signed the list.
	Signer string `json:"signer,omitempty"`
	// Anchors is how many service identities of the list are anchors.
	Anchors int `json:"anchors"`
}

// Add trusts c, reporting source; a certificate already present from the
// same source is kept once.
func (a *Anchors) Add(c *x509.Certificate, source string) {
	a.add(c, source, nil)
}

func (a *Anchors) add(c *x509.Certificate, source string, svc *Service) {
	if c == nil {
		return
	}
	sum := sha256.Sum256(c.Raw)
	fp := hex.EncodeToString(sum[:])
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.list {
		if x.SHA256 == fp && x.Service == nil && svc == nil {
			return
		}
	}
	if a.pool == nil {
		a.pool = x509.NewCertPool()
	}
	a.pool.AddCert(c)
	a.list = append(a.list, Anchor{Subject: c.Subject.String(), SHA256: fp, NotAfter: c.NotAfter.UTC(), Source: source, Service: svc, cert: c})
}

// AddPEM trusts every certificate of a PEM bundle and returns how many it
// read. Blocks that are not certificates are an error, and so is a bundle
// without any certificate.
func (a *Anchors) AddPEM(data []byte, source string) (int, error) {
	certs, err := ParsePEM(data)
	if err != nil {
		return 0, fmt.Errorf("trust anchors %s: %w", source, err)
	}
	for _, c := range certs {
		a.Add(c, source)
	}
	return len(certs), nil
}

// ParsePEM reads the certificates of a PEM bundle: at least one, and
// nothing but certificates.
func ParsePEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	if len(bytes.TrimSpace(data)) > 0 {
		return nil, errors.New("trailing data after the last certificate")
	}
	return out, nil
}

// AddFile trusts the certificates of a PEM file (see AddPEM), with the
// source "bundle:PATH".
func (a *Anchors) AddFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("trust anchors: %w", err)
	}
	return a.AddPEM(b, "bundle:"+path)
}

// AddTrustedList trusts the identities of the services of tl that can
// anchor a signature or a time-stamp (see [Service.Anchors]), each only
// while its status is granted, and returns how many it added.
func (a *Anchors) AddTrustedList(tl *TrustedList, source string) int {
	n := 0
	for i := range tl.Services {
		s := &tl.Services[i]
		if !s.Anchors() {
			continue
		}
		for _, c := range s.certs {
			a.add(c, source, s)
			n++
		}
	}
	info := ListInfo{Source: source, Territory: tl.Territory, Operator: tl.Operator, Sequence: tl.Sequence,
		Issued: tl.Issued, NextUpdate: tl.NextUpdate, Anchors: n}
	if tl.Signer != nil {
		info.Signer = tl.Signer.Subject.String()
	}
	a.mu.Lock()
	a.lists = append(a.lists, info)
	a.mu.Unlock()
	return n
}

// TrustedLists describes the Trusted Lists (or, from an evidence bundle,
// the sets of Trusted List services) whose services are anchors.
func (a *Anchors) TrustedLists() []ListInfo {
	if a == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return append([]ListInfo(nil), a.lists...)
}

// List returns the anchors in the order added.
func (a *Anchors) List() []Anchor {
	if a == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return append([]Anchor(nil), a.list...)
}

// PEM returns the anchors trusted at any time, those of no Trusted List
// service, as a PEM bundle; see Services for the others.
func (a *Anchors) PEM() []byte {
	var b bytes.Buffer
	for _, x := range a.List() {
		if x.Service == nil {
			_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: x.cert.Raw})
		}
	}
	return b.Bytes()
}

// ServiceAnchor is an anchor of a Trusted List service in a form that
// travels (in an evidence bundle): the certificate and the service with
// its status history.
type ServiceAnchor struct {
	Certificate []byte  `json:"certificate"` // DER
	Source      string  `json:"source"`
	Service     Service `json:"service"`
}

// Services returns the anchors of Trusted List services.
func (a *Anchors) Services() []ServiceAnchor {
	var out []ServiceAnchor
	for _, x := range a.List() {
		if x.Service != nil {
			out = append(out, ServiceAnchor{Certificate: x.cert.Raw, Source: x.Source, Service: *x.Service})
		}
	}
	return out
}

// AddServices trusts service anchors (see Services), each only while its
// service's status is granted, reporting source.
func (a *Anchors) AddServices(list []ServiceAnchor, source string) error {
	for _, s := range list {
		c, err := x509.ParseCertificate(s.Certificate)
		if err != nil {
			return fmt.Errorf("service anchor %q: %w", s.Service.Name, err)
		}
		svc := s.Service
		svc.certs = []*x509.Certificate{c}
		slices.SortStableFunc(svc.History, func(a, b Status) int { return b.From.Compare(a.From) })
		a.add(c, source, &svc)
	}
	if len(list) > 0 {
		a.mu.Lock()
		a.lists = append(a.lists, ListInfo{Source: source, Anchors: len(list)})
		a.mu.Unlock()
	}
	return nil
}

// ErrNoAnchors is the chain error when nothing is trusted.
var ErrNoAnchors = errors.New("no trust anchor is configured")

// Verify checks that leaf chains to an anchor at time at, with the other
// certificates as possible intermediates, for any key usage, and that the
// anchor reached is trusted at that time: an anchor from a Trusted List
// only while its service's status is granted. It returns the chain found,
// leaf first, and the anchor it ends at.
func (a *Anchors) Verify(leaf *x509.Certificate, others []*x509.Certificate, at time.Time) ([]*x509.Certificate, *Anchor, error) {
	if a == nil {
		return nil, nil, ErrNoAnchors
	}
	a.mu.RLock()
	pool := a.pool
	a.mu.RUnlock()
	if pool == nil {
		return nil, nil, ErrNoAnchors
	}
	inter := x509.NewCertPool()
	for _, c := range others {
		if !c.Equal(leaf) {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, nil, err
	}
	var statusErr error
	for _, chain := range chains {
		root := chain[len(chain)-1]
		sum := sha256.Sum256(root.Raw)
		fp := hex.EncodeToString(sum[:])
		for _, an := range a.List() {
			if an.SHA256 != fp {
				continue
			}
			if an.Service == nil {
				return chain, &an, nil
			}
			st := an.Service.StatusAt(at)
			if Granted(st.Status) {
				return chain, &an, nil
			}
			statusErr = fmt.Errorf("trusted list service %q of %q is %s at %s", an.Service.Name, an.Service.Provider, statusName(st.Status), at.UTC().Format(time.RFC3339))
		}
	}
	if statusErr == nil {
		statusErr = errors.New("the chain ends at no configured anchor")
	}
	return nil, nil, statusErr
}

// AddAll trusts every anchor of other, with its source and service.
func (a *Anchors) AddAll(other *Anchors) {
	for _, x := range other.List() {
		a.add(x.cert, x.Source, x.Service)
	}
	lists := other.TrustedLists()
	a.mu.Lock()
	a.lists = append(a.lists, lists...)
	a.mu.Unlock()
}

// Fixed returns the anchors trusted at any time: those of no Trusted List
// service (see TrustedLists for the others).
func (a *Anchors) Fixed() []Anchor {
	var out []Anchor
	for _, x := range a.List() {
		if x.Service == nil {
			out = append(out, x)
		}
	}
	return out
}

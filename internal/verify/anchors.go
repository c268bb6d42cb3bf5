package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
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
	// bundle's anchors).
	Source string `json:"source"`

	cert *x509.Certificate
}

// Anchors is a set of trust anchors. The zero value is empty; it is safe
// for concurrent use once built.
type Anchors struct {
	mu   sync.RWMutex
	list []Anchor
	pool *x509.CertPool
}

// Add trusts c, reporting source; a certificate already present is kept once.
func (a *Anchors) Add(c *x509.Certificate, source string) {
	if c == nil {
		return
	}
	sum := sha256.Sum256(c.Raw)
	fp := hex.EncodeToString(sum[:])
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.list {
		if x.SHA256 == fp {
			return
		}
	}
	if a.pool == nil {
		a.pool = x509.NewCertPool()
	}
	a.pool.AddCert(c)
	a.list = append(a.list, Anchor{Subject: c.Subject.String(), SHA256: fp, NotAfter: c.NotAfter.UTC(), Source: source, cert: c})
}

// AddPEM trusts every certificate of a PEM bundle and returns how many it
// read. Blocks that are not certificates are an error, and so is a bundle
// without any certificate.
func (a *Anchors) AddPEM(data []byte, source string) (int, error) {
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return n, fmt.Errorf("trust anchors %s: unexpected PEM block %q", source, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return n, fmt.Errorf("trust anchors %s: %w", source, err)
		}
		a.Add(c, source)
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("trust anchors %s: no PEM certificate found", source)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		return n, fmt.Errorf("trust anchors %s: trailing data after the last certificate", source)
	}
	return n, nil
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

// List returns the anchors in the order added.
func (a *Anchors) List() []Anchor {
	if a == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return append([]Anchor(nil), a.list...)
}

// PEM returns the anchors as a PEM bundle.
func (a *Anchors) PEM() []byte {
	var b bytes.Buffer
	for _, x := range a.List() {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: x.cert.Raw})
	}
	return b.Bytes()
}

// errNoAnchors is the chain error when nothing is trusted.
var errNoAnchors = errors.New("no trust anchor is configured")

// verifyChain checks that leaf chains to an anchor at time at, with the
// other certificates as possible intermediates, for any key usage. It
// returns the chain found, leaf first.
func (a *Anchors) verifyChain(leaf *x509.Certificate, others []*x509.Certificate, at time.Time) ([]*x509.Certificate, error) {
	if a == nil {
		return nil, errNoAnchors
	}
	a.mu.RLock()
	pool := a.pool
	a.mu.RUnlock()
	if pool == nil {
		return nil, errNoAnchors
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
		return nil, err
	}
	return chains[0], nil
}

// Package keys provides the organisation's electronic seal: a private key
// behind crypto.Signer together with its certificate chain.
//
// A seal comes from a PKCS#12 file, PEM files, a PKCS#11 token (HSM, smart
// card, SoftHSM2) or, for development only, a self-made CA kept in a
// directory. Open selects one from a textual spec; see Open for the syntax.
package keys

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

var (
	// ErrBadSecret is returned when a password or PIN is wrong.
	ErrBadSecret = errors.New("wrong password or PIN")
	// ErrNotFound is returned when a token, key or certificate does not exist.
	ErrNotFound = errors.New("not found")
	// ErrKeyMismatch is returned when the private key does not belong to the
	// first certificate of the chain.
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	// ErrDevRefused is returned by Open when a development certificate is
	// found and development seals are not allowed.
	ErrDevRefused = errors.New("development certificate refused: not valid for production")
	// ErrNoSecret is returned by PasswordFrom when neither source is set.
	ErrNoSecret = errors.New("no secret given")
)

// Seal is a signing key with its certificate chain (leaf first).
type Seal struct {
	// Signer signs with the seal's private key. It is safe for concurrent use.
	Signer crypto.Signer
	// Chain holds the seal certificate first, then its issuers.
	Chain []*x509.Certificate
	// Source says where the seal was loaded from: "file:PATH",
	// "pkcs11:MODULE;token=LABEL;..." or "dev:DIR". It never holds secrets.
	Source string
	// Dev reports whether any certificate of the chain is a development
	// certificate (see IsDev).
	Dev bool

	closeOnce sync.Once
	closeErr  error
	closer    func() error
}

// Leaf returns the seal certificate, the first of the chain.
func (s *Seal) Leaf() *x509.Certificate {
	if len(s.Chain) == 0 {
		return nil
	}
	return s.Chain[0]
}

// Fingerprint returns the lowercase hex SHA-256 of the seal certificate's DER
// encoding, or "" when there is no certificate.
func (s *Seal) Fingerprint() string {
	leaf := s.Leaf()
	if leaf == nil {
		return ""
	}
	sum := sha256.Sum256(leaf.Raw)
	return hex.EncodeToString(sum[:])
}

// Close releases the resources behind the signer (the PKCS#11 session pool).
// It is safe to call more than once; the signer must not be used afterwards.
func (s *Seal) Close() error {
	s.closeOnce.Do(func() {
		if s.closer != nil {
			s.closeErr = s.closer()
		}
	})
	return s.closeErr
}

// newSeal checks that signer matches the first certificate of chain and
// builds a Seal.
func newSeal(signer crypto.Signer, chain []*x509.Certificate, source string, closer func() error) (*Seal, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("no certificate: %w", ErrNotFound)
	}
	if err := checkKeyMatches(signer.Public(), chain[0]); err != nil {
		return nil, err
	}
	s := &Seal{Signer: signer, Chain: chain, Source: source, closer: closer}
	for _, c := range chain {
		if IsDev(c) {
			s.Dev = true
		}
	}
	return s, nil
}

// checkKeyMatches reports ErrKeyMismatch when pub is not the public key of cert.
func checkKeyMatches(pub crypto.PublicKey, cert *x509.Certificate) error {
	k, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return fmt.Errorf("unsupported public key type %T", pub)
	}
	if !k.Equal(cert.PublicKey) {
		return fmt.Errorf("%w %q", ErrKeyMismatch, cert.Subject.String())
	}
	return nil
}

// orderChain returns leaf followed by its issuers found among others, each
// certificate signed by the next one. Certificates that are not on the path
// from the leaf are dropped.
func orderChain(leaf *x509.Certificate, others []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	used := make([]bool, len(others))
	for cur := leaf; ; {
		if isSelfSigned(cur) {
			return chain
		}
		next := -1
		for i, c := range others {
			if !used[i] && !c.Equal(cur) && cur.CheckSignatureFrom(c) == nil {
				next = i
				break
			}
		}
		if next < 0 {
			return chain
		}
		used[next] = true
		cur = others[next]
		chain = append(chain, cur)
	}
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil
}

package keys

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"software.sslmate.com/src/go-pkcs12"
)

// LoadPKCS12 loads a seal from a PKCS#12 (.p12, .pfx) file holding one
// private key, its certificate and optionally the issuers. Files written by
// OpenSSL 3 (PBES2 with AES) and by older tools (SHA-1 with 3DES or RC2) are
// accepted. A wrong password yields an error wrapping ErrBadSecret.
func LoadPKCS12(path string, password []byte) (*Seal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load pkcs12: %w", err)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, string(password))
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, fmt.Errorf("load pkcs12 %s: %w", path, ErrBadSecret)
	}
	if err != nil {
		return nil, fmt.Errorf("load pkcs12 %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("load pkcs12 %s: key type %T cannot sign", path, key)
	}
	s, err := newSeal(signer, orderChain(leaf, cas), "file:"+path, nil)
	if err != nil {
		return nil, fmt.Errorf("load pkcs12 %s: %w", path, err)
	}
	return s, nil
}

// LoadPEM loads a seal from a PEM private key (PKCS#8 "PRIVATE KEY", PKCS#1
// "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY"; encrypted keys are not
// supported, use PKCS#12 instead) and a PEM certificate chain, leaf first.
// keyPath and chainPath may name the same file holding both. The key must
// match the first certificate.
func LoadPEM(keyPath, chainPath string) (*Seal, error) {
	signer, err := readPEMKey(keyPath)
	if err != nil {
		return nil, fmt.Errorf("load pem: %w", err)
	}
	chain, err := readPEMCerts(chainPath)
	if err != nil {
		return nil, fmt.Errorf("load pem: %w", err)
	}
	s, err := newSeal(signer, chain, "file:"+keyPath, nil)
	if err != nil {
		return nil, fmt.Errorf("load pem %s: %w", chainPath, err)
	}
	return s, nil
}

// readPEMKey returns the one private key found in the PEM file at path.
func readPEMKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var signer crypto.Signer
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var key any
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%s: encrypted PEM keys are not supported, use PKCS#12", path)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: parse %s: %w", path, b.Type, err)
		}
		if signer != nil {
			return nil, fmt.Errorf("%s: more than one private key", path)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: key type %T cannot sign", path, key)
		}
		signer = s
	}
	if signer == nil {
		return nil, fmt.Errorf("%s: no private key: %w", path, ErrNotFound)
	}
	return signer, nil
}

// readPEMCerts returns the certificates of the PEM file at path, in order.
func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate: %w", path, ErrNotFound)
	}
	return certs, nil
}

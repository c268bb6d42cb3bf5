package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"sort"
	"time"
)

var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertV2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidTimeStampToken    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSHA256WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	derNull              = []byte{0x05, 0x00}
	errUnsupportedSigner = errors.New("unsupported signer key type")
)

// tlv encodes a DER element with the given identifier octet.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func seq(parts ...[]byte) []byte { return tlv(0x30, parts...) }

// derSetOf encodes a SET OF with its elements in DER order.
func derSetOf(tag byte, elems ...[]byte) []byte {
	sorted := append([][]byte(nil), elems...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	return tlv(tag, sorted...)
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func attr(oid asn1.ObjectIdentifier, value []byte) []byte {
	return seq(mustMarshal(oid), derSetOf(0x31, value))
}

// signingCertV2 builds the ESS signing-certificate-v2 value (RFC 5035)
// for cert with SHA-256, the default hash, left implicit.
func signingCertV2(cert *x509.Certificate) []byte {
	h := sha256.Sum256(cert.Raw)
	issuerSerial := seq(
		seq(tlv(0xa4, cert.RawIssuer)), // GeneralNames { directoryName [4] }
		mustMarshal(cert.SerialNumber),
	)
	essCertIDv2 := seq(mustMarshal(h[:]), issuerSerial)
	return seq(seq(essCertIDv2))
}

func signatureAlgorithm(pub crypto.PublicKey) ([]byte, error) {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return seq(mustMarshal(oidECDSAWithSHA256)), nil
	case *rsa.PublicKey:
		return seq(mustMarshal(oidSHA256WithRSA), derNull), nil
	}
	return nil, fmt.Errorf("%w: %T", errUnsupportedSigner, pub)
}

// checkSignature checks sig, made by a signer over the SHA-256 digest,
// with the public key of the certificate that will carry it. It is the
// one part of a seal that code outside faldone makes (a key in a file, a
// PKCS#11 token): a token that signs with another key, or returns a
// damaged signature, is caught here, before anything is archived.
func checkSignature(pub crypto.PublicKey, digest, sig []byte) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("sign attributes: the signature does not verify with the certificate's public key")
		}
		return nil
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig); err != nil {
			return fmt.Errorf("sign attributes: the signature does not verify with the certificate's public key: %w", err)
		}
		return nil
	}
	return fmt.Errorf("%w: %T", errUnsupportedSigner, pub)
}

// ownKey reports whether signer is a private key held by Go's own crypto
// whose public key is the certificate's: its signatures come from the same
// code that would check them, so checking each one adds nothing to the
// comparison of the keys. A token (PKCS#11) or any other signer is
// checked signature by signature.
func ownKey(signer crypto.Signer, pub crypto.PublicKey) bool {
	return InMemoryKey(signer) && signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub)
}

// InMemoryKey reports whether signer is a private key held in this
// process by Go's own crypto, of a kind a seal can use, rather than a
// token (PKCS#11) or another signer that answers in its own time.
func InMemoryKey(signer crypto.Signer) bool {
	switch signer.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
		return true
	}
	return false
}

// cmsResult is the outcome of building a CMS SignedData.
type cmsResult struct {
	der           []byte
	signature     []byte
	timestampTime time.Time
}

// buildCMS builds a detached CMS SignedData over a content whose SHA-256
// is digest: signed attributes content-type, message-digest and
// signing-certificate-v2 (no signing-time, as PAdES requires), and when
// tsa is set the signature time-stamp as unsigned attribute.
func buildCMS(ctx context.Context, digest []byte, signer crypto.Signer, chain []*x509.Certificate, tsa *TSA) (*cmsResult, error) {
	leaf := chain[0]
	sigAlg, err := signatureAlgorithm(signer.Public())
	if err != nil {
		return nil, err
	}
	attrs := [][]byte{
		attr(oidContentType, mustMarshal(oidData)),
		attr(oidMessageDigest, mustMarshal(digest)),
		attr(oidSigningCertV2, signingCertV2(leaf)),
	}
	signedAttrs := derSetOf(0x31, attrs...)
	h := sha256.Sum256(signedAttrs)
	sig, err := signer.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign attributes: %w", err)
	}
	if !ownKey(signer, leaf.PublicKey) {
		if err := checkSignature(leaf.PublicKey, h[:], sig); err != nil {
			return nil, err
		}
	}
	res := &cmsResult{signature: sig}
	var unsigned []byte
	if tsa != nil {
		sh := sha256.Sum256(sig)
		token, t, err := tsa.Stamp(ctx, sh[:])
		if err != nil {
			return nil, fmt.Errorf("time-stamp signature: %w", err)
		}
		res.timestampTime = t
		unsigned = derSetOf(0xa1, attr(oidTimeStampToken, token))
	}
	digestAlg := seq(mustMarshal(oidSHA256))
	signerInfo := seq(
		mustMarshal(1),
		seq(leaf.RawIssuer, mustMarshal(leaf.SerialNumber)),
		digestAlg,
		append([]byte{0xa0}, signedAttrs[1:]...), // [0] IMPLICIT SET
		sigAlg,
		mustMarshal(sig),
		unsigned,
	)
	var certs [][]byte
	for _, c := range chain {
		certs = append(certs, c.Raw)
	}
	signedData := seq(
		mustMarshal(1),
		derSetOf(0x31, digestAlg),
		seq(mustMarshal(oidData)),
		tlv(0xa0, certs...),
		derSetOf(0x31, signerInfo),
	)
	res.der = seq(mustMarshal(oidSignedData), tlv(0xa0, signedData))
	return res, nil
}

package pades

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/smallstep/pkcs7"
)

// cmsInfo is what verifyCMS learns from a signature's CMS.
type cmsInfo struct {
	signer      *x509.Certificate
	certs       []*x509.Certificate
	signature   []byte
	signingTime time.Time
	essCertV2   bool
	token       []byte
}

// byteRange reads and sanity-checks /ByteRange.
func byteRange(sd Dict) ([4]int64, error) {
	var br [4]int64
	a, _ := sd["ByteRange"].(Array)
	if len(a) != 4 {
		return br, errors.New("byte range: not an array of four integers")
	}
	for i, v := range a {
		n, ok := v.(int64)
		if !ok || n < 0 {
			return br, errors.New("byte range: not an array of four non-negative integers")
		}
		br[i] = n
	}
	return br, nil
}

// SubFilterDocTimestamp is the /SubFilter of a document time-stamp
// (/Type /DocTimeStamp): an RFC 3161 token over the byte range.
const SubFilterDocTimestamp = "ETSI.RFC3161"

// checkGap checks that br fits data and that its gap is the hex string
// of contents.
func checkGap(data []byte, br [4]int64, contents []byte) error {
	n := int64(len(data))
	if br[0] != 0 || br[1] > n || br[2] > n || br[3] > n || br[1] >= br[2] || br[2]+br[3] > n {
		return fmt.Errorf("byte range %v does not fit the file", br)
	}
	gap := data[br[1]:br[2]]
	if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
		return errors.New("byte range gap is not a hex string")
	}
	decoded := make([]byte, hex.DecodedLen(len(gap)-2))
	if _, err := hex.Decode(decoded, gap[1:len(gap)-1]); err != nil || !bytes.Equal(decoded, contents) {
		return errors.New("byte range gap is not the signature's /Contents")
	}
	return nil
}

// verifyDocTimestamp checks a document time-stamp: the token in contents
// occupies the gap of br, its signature verifies with the certificate it
// carries, and its message imprint is the hash of the bytes br covers.
func verifyDocTimestamp(data []byte, br [4]int64, contents []byte) (*Timestamp, error) {
	if err := checkGap(data, br, contents); err != nil {
		return nil, err
	}
	token := trimDER(contents)
	ts, err := timestamp.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("parse document time-stamp: %w", err)
	}
	out := &Timestamp{Time: ts.Time, Certs: ts.Certificates, Token: token}
	if p7, err := pkcs7.Parse(token); err == nil {
		out.Signer = p7.GetOnlySigner()
	}
	switch {
	case len(ts.Certificates) == 0 || out.Signer == nil:
		return nil, errors.New("document time-stamp carries no certificate to verify it")
	case !ts.HashAlgorithm.Available() || ts.HashAlgorithm == crypto.SHA1:
		return nil, errors.New("document time-stamp uses a hash that is not accepted")
	}
	h := ts.HashAlgorithm.New()
	h.Write(data[:br[1]])
	h.Write(data[br[2] : br[2]+br[3]])
	if !bytes.Equal(h.Sum(nil), ts.HashedMessage) {
		return nil, errors.New("document time-stamp: message digest mismatch")
	}
	out.ImprintMatches = true
	return out, nil
}

// verifyCMS checks that the CMS in contents is the hex string occupying
// the gap of br in data and that it is a valid detached signature over
// the bytes br covers.
func verifyCMS(data []byte, br [4]int64, contents []byte) (*cmsInfo, error) {
	if err := checkGap(data, br, contents); err != nil {
		return nil, err
	}
	der := contents
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(contents, &raw); err == nil {
		der = raw.FullBytes
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("parse cms: %w", err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("cms has %d signers, want 1", len(p7.Signers))
	}
	content := make([]byte, 0, br[1]+br[3])
	content = append(content, data[:br[1]]...)
	content = append(content, data[br[2]:br[2]+br[3]]...)
	p7.Content = content
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("verify cms: %w", err)
	}
	si := p7.Signers[0]
	info := &cmsInfo{signer: p7.GetOnlySigner(), certs: p7.Certificates, signature: si.EncryptedDigest}
	if info.signer == nil {
		return nil, errors.New("signer certificate not in cms")
	}
	var st time.Time
	if p7.UnmarshalSignedAttribute(oidSigningTime, &st) == nil {
		info.signingTime = st
	}
	for _, a := range si.AuthenticatedAttributes {
		if a.Type.Equal(oidSigningCertV2) {
			if err := checkSigningCertV2(a.Value.Bytes, info.signer); err != nil {
				return nil, err
			}
			info.essCertV2 = true
		}
	}
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimeStampToken) {
			info.token = a.Value.Bytes
		}
	}
	return info, nil
}

// checkSigningCertV2 checks that the first ESSCertIDv2 of a
// signing-certificate-v2 value names cert.
func checkSigningCertV2(value []byte, cert *x509.Certificate) error {
	fail := errors.New("signing-certificate-v2 does not match the signer certificate")
	var sc, ids, id asn1.RawValue
	if _, err := asn1.Unmarshal(value, &sc); err != nil {
		return fail
	}
	if _, err := asn1.Unmarshal(sc.Bytes, &ids); err != nil {
		return fail
	}
	if _, err := asn1.Unmarshal(ids.Bytes, &id); err != nil {
		return fail
	}
	rest := id.Bytes
	var first asn1.RawValue
	rest2, err := asn1.Unmarshal(rest, &first)
	if err != nil {
		return fail
	}
	if first.Tag == asn1.TagSequence { // explicit hashAlgorithm
		var alg asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(first.Bytes, &alg); err != nil || !alg.Equal(oidSHA256) {
			return nil // another hash: not checked here
		}
		if _, err := asn1.Unmarshal(rest2, &first); err != nil {
			return fail
		}
	}
	h := sha256.Sum256(cert.Raw)
	if first.Tag != asn1.TagOctetString || !bytes.Equal(first.Bytes, h[:]) {
		return fail
	}
	return nil
}

// Timestamp describes an RFC 3161 signature time-stamp token.
type Timestamp struct {
	// Time is the token's generation time.
	Time time.Time
	// Signer is the TSA certificate that signed the token, when included.
	Signer *x509.Certificate
	// Certs are all certificates carried by the token.
	Certs []*x509.Certificate
	// ImprintMatches reports whether the token's message imprint is the
	// hash of the signature value it is attached to.
	ImprintMatches bool
	// Token is the DER TimeStampToken.
	Token []byte
	// Err is nil when the token verifies and its imprint matches.
	Err error
}

// inspectToken parses a signature time-stamp token over signature.
func inspectToken(token, signature []byte) *Timestamp {
	out := &Timestamp{Token: token}
	ts, err := timestamp.Parse(token)
	if err != nil {
		out.Err = fmt.Errorf("parse time-stamp: %w", err)
		return out
	}
	out.Time, out.Certs = ts.Time, ts.Certificates
	if p7, err := pkcs7.Parse(token); err == nil {
		out.Signer = p7.GetOnlySigner()
	}
	if ts.HashAlgorithm.Available() && ts.HashAlgorithm != crypto.SHA1 {
		h := ts.HashAlgorithm.New()
		h.Write(signature)
		out.ImprintMatches = bytes.Equal(h.Sum(nil), ts.HashedMessage)
	}
	switch {
	case len(ts.Certificates) == 0:
		out.Err = errors.New("time-stamp carries no certificate to verify it")
	case !out.ImprintMatches:
		out.Err = errors.New("time-stamp imprint does not match the signature value")
	}
	return out
}

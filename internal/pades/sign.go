package pades

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Signature levels reported in Result.Level and Signature.Level.
const (
	LevelBB = "B-B" // PAdES-B-B: CAdES detached with signing-certificate-v2
	LevelBT = "B-T" // PAdES-B-T: B-B plus a signature time-stamp
)

// Options configure Sign.
type Options struct {
	// Signer signs with the private key of Chain[0]. Required.
	Signer crypto.Signer
	// Chain is the signer certificate followed by its issuers. Required.
	Chain []*x509.Certificate
	// Certify makes a certification signature (DocMDP, /P 2): later form
	// filling and approval signatures keep it valid. Only allowed on a
	// document without signatures.
	Certify bool
	// Name, Reason, Location and ContactInfo fill the signature dictionary. Optional.
	Name, Reason, Location, ContactInfo string
	// Time is the claimed signing time written to /M. Optional: zero means now.
	Time time.Time
	// TSA, when set, time-stamps the signature value (PAdES-B-T). Optional:
	// nil produces PAdES-B-B.
	TSA *TSA
	// FieldName names the new signature field. Optional: default
	// "Signature1", numbered upwards when taken.
	FieldName string
	// Description describes the signature field to assistive technology
	// (the widget's /TU), e.g. "Sigillo elettronico di ...". Optional. A
	// certification of a tagged document also puts the widget in the
	// structure tree, as a Form element with this alternate text.
	Description string
}

// Result describes a signature made by Sign.
type Result struct {
	// Level is LevelBB or LevelBT.
	Level string
	// SignerSHA256 is the lowercase hex SHA-256 of the signer certificate DER.
	SignerSHA256 string
	// SigningTime is the claimed signing time written to /M.
	SigningTime time.Time
	// TimestampTime is the time-stamp token's time; zero for B-B.
	TimestampTime time.Time
	// ByteRange is the signed byte range of the output.
	ByteRange [4]int64
}

// ErrCertified is returned by Sign when the document's certification
// signature forbids any change (DocMDP /P 1).
var ErrCertified = errors.New("document is certified with no changes allowed")

const maxSignAttempts = 3

// contentsSlack is added to the certificate sizes to size the /Contents
// placeholder (signed attributes, signature value, CMS framing).
var contentsSlack = 2048

// Sign appends to pdf an incremental update holding a PAdES baseline
// signature (B-B, or B-T when o.TSA is set) in an invisible signature
// field on page 1. pdf is an unchanged prefix of the returned bytes. The
// output's signature is verified before it is returned.
func Sign(ctx context.Context, pdf []byte, o Options) ([]byte, *Result, error) {
	if err := o.validate(); err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	doc, err := parseDocument(pdf)
	if err != nil {
		return nil, nil, fmt.Errorf("sign: parse pdf: %w", err)
	}
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	t = t.Truncate(time.Second)
	up, err := planUpdate(doc, &o, t)
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	size := contentsSlack
	for _, c := range o.Chain {
		size += len(c.Raw)
	}
	if o.TSA != nil {
		size += 6144
	}
	for attempt := 0; attempt < maxSignAttempts; attempt++ {
		out, br, err := up.render(pdf, size)
		if err != nil {
			return nil, nil, fmt.Errorf("sign: %w", err)
		}
		h := sha256.New()
		h.Write(out[:br[1]])
		h.Write(out[br[2]:])
		cms, err := buildCMS(ctx, h.Sum(nil), o.Signer, o.Chain, o.TSA)
		if err != nil {
			return nil, nil, fmt.Errorf("sign: %w", err)
		}
		if len(cms.der) > size {
			size = len(cms.der) + 1024
			continue
		}
		hex.Encode(out[br[1]+1:], cms.der)
		if fullSelfCheck {
			if err := checkOwnSignature(out, up.sigRef.Num, br); err != nil {
				return nil, nil, fmt.Errorf("sign: self-check: %w", err)
			}
		}
		sum := sha256.Sum256(o.Chain[0].Raw)
		res := &Result{
			Level: LevelBB, SignerSHA256: hex.EncodeToString(sum[:]), SigningTime: t,
			TimestampTime: cms.timestampTime, ByteRange: br,
		}
		if o.TSA != nil {
			res.Level = LevelBT
		}
		return out, res, nil
	}
	return nil, nil, fmt.Errorf("sign: signature does not fit in %d bytes", size)
}

func (o *Options) validate() error {
	switch {
	case o.Signer == nil:
		return errors.New("options: no signer")
	case len(o.Chain) == 0 || o.Chain[0] == nil:
		return errors.New("options: no certificate chain")
	}
	pub, ok := o.Chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(o.Signer.Public()) {
		return errors.New("options: signer key does not match the leaf certificate")
	}
	if _, err := signatureAlgorithm(o.Signer.Public()); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}

// fullSelfCheck makes Sign re-read and verify every file it signs, as
// checkOwnSignature does. It is on in this package's tests and off in
// production, where it took half of a seal's time, because what it
// checks is either faldone's own deterministic code, or was checked
// already: the signer's output, the one part that code outside faldone
// makes (a key file, a PKCS#11 token), is verified with the certificate's
// public key as soon as it is made (checkSignature); the key must match
// the certificate (Options.validate); and the byte range, the
// placeholder and the CMS that Sign writes are verified, on every kind of
// file the tests seal, by this check and by the independent validators
// (poppler's pdfsig, mupdf, pdfcpu, openssl cms, pdfsign).
var fullSelfCheck = false

// checkOwnSignature re-reads out and verifies the new signature, so
// that Sign never returns a file that does not verify.
func checkOwnSignature(out []byte, sigNum int, br [4]int64) error {
	doc, err := parseDocument(out)
	if err != nil {
		return err
	}
	sd := doc.dict(Ref{Num: sigNum})
	if sd == nil {
		return errors.New("signature dictionary not found")
	}
	got, err := byteRange(sd)
	if err != nil {
		return err
	}
	if got != br || br[2]+br[3] != int64(len(out)) {
		return errors.New("byte range mismatch")
	}
	contents, _ := sd["Contents"].(String)
	_, err = verifyCMS(out, br, contents)
	return err
}

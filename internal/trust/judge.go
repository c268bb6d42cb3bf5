package trust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"faldone/internal/pades"
)

// DefaultTolerance is how far a claimed signing time may be from the
// time-stamp over its signature, and how far a revision's time may run
// behind the revision before it, when a Policy leaves Tolerance zero.
const DefaultTolerance = 15 * time.Minute

// Severities of a Finding.
const (
	SeverityError   = "error"   // the signature is not to be trusted
	SeverityWarning = "warning" // reported; the signature may still be trusted
)

// Finding codes.
const (
	// CodeUntrustedSigner: the signer does not chain to a trust anchor
	// valid at the trust time.
	CodeUntrustedSigner = "untrusted_signer"
	// CodeSignerExpired: the signer's certificate is not valid at the
	// trust time (expired, or not yet valid).
	CodeSignerExpired = "signer_expired"
	// CodeTimestampUntrusted (warning): the time-stamp authority does not
	// chain to a trust anchor at the time-stamp's time, so the time-stamp
	// does not fix the trust time.
	CodeTimestampUntrusted = "timestamp_untrusted"
	// CodeSigningTimeOutsideValidity: the signing time the signer claims is
	// outside the validity of its certificate.
	CodeSigningTimeOutsideValidity = "signing_time_outside_validity"
	// CodeClaimedTimeMismatch: the claimed signing time is more than the
	// tolerance away from the trusted time-stamp over the signature.
	CodeClaimedTimeMismatch = "claimed_time_mismatch"
	// CodeTimeBackwards: the signature's time is earlier, by more than the
	// tolerance, than the time of a signature of an earlier revision.
	CodeTimeBackwards = "time_backwards"
)

// Finding is one thing the judgement found about a signature.
type Finding struct {
	Code     string
	Severity string
	// Detail is technical evidence in English.
	Detail string
	// Params are the values a localised message needs.
	Params map[string]any
}

// Judgement is the trust judgement of one signature.
type Judgement struct {
	// Signer describes the signer and the outcome; nil when the signature
	// carries no signer certificate.
	Signer *Signer
	// Chain is the path to the anchor when the signer is trusted.
	Chain []*x509.Certificate
	// TrustErr says why the signer is not trusted, nil when it is.
	TrustErr error
	// TimestampTrusted is true when the signature's time-stamp is valid
	// and its authority chains to an anchor at the time-stamp's time; then
	// TimestampErr is nil.
	TimestampTrusted bool
	TimestampErr     error
	// Time is the signature's best known time: the trusted time-stamp's,
	// else the claimed signing time, else zero; TimeSource says which
	// ("timestamp", "claimed", "").
	Time       time.Time
	TimeSource string
	// Findings are the problems found, in a stable order.
	Findings []Finding
}

// Accepted reports whether the signer is trusted and nothing about the
// signature is an error.
func (j *Judgement) Accepted() bool {
	if j.Signer == nil || !j.Signer.Trusted {
		return false
	}
	for _, f := range j.Findings {
		if f.Severity == SeverityError {
			return false
		}
	}
	return true
}

// Policy judges signatures against trust anchors.
type Policy struct {
	// Anchors are the trusted authorities. Optional: nil trusts no one.
	Anchors *Anchors
	// Tolerance, see DefaultTolerance. Optional.
	Tolerance time.Duration
}

func (p *Policy) tolerance() time.Duration {
	if p.Tolerance > 0 {
		return p.Tolerance
	}
	return DefaultTolerance
}

// Judge judges every signature of a file, in revision order as
// pades.Inspect returns them, at time now. Signatures whose integrity
// failed get facts but no findings: they are not valid anyway.
func (p *Policy) Judge(sigs []pades.Signature, now time.Time) []Judgement {
	out := make([]Judgement, len(sigs))
	tol := p.tolerance()
	var prev *Judgement
	prevIdx := -1
	for i := range sigs {
		s, j := &sigs[i], &out[i]
		p.judgeOne(s, j, now.UTC(), tol)
		if s.IntegrityErr != nil {
			continue
		}
		if prev != nil && !j.Time.IsZero() && j.Time.Before(prev.Time.Add(-tol)) {
			j.add(SeverityError, CodeTimeBackwards, fmt.Sprintf("%s time %s is before the %s time %s of signature %d",
				j.TimeSource, rfc(j.Time), prev.TimeSource, rfc(prev.Time), prevIdx+1),
				map[string]any{"Time": rfc(j.Time), "PrevTime": rfc(prev.Time), "Prev": prevIdx + 1})
		}
		if !j.Time.IsZero() && (prev == nil || j.Time.After(prev.Time)) {
			prev, prevIdx = j, i
		}
	}
	checkTimestampChain(sigs, out, now.UTC())
	return out
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (j *Judgement) add(severity, code, detail string, params map[string]any) {
	j.Findings = append(j.Findings, Finding{Code: code, Severity: severity, Detail: detail, Params: params})
	if severity == SeverityError && j.Signer != nil {
		j.Signer.Reasons = append(j.Signer.Reasons, code)
	}
}

func (p *Policy) judgeOne(s *pades.Signature, j *Judgement, now time.Time, tol time.Duration) {
	intact := s.IntegrityErr == nil
	trustTime, source := now, "now"
	if ts := s.Timestamp; ts != nil {
		switch {
		case ts.Err != nil:
			j.TimestampErr = ts.Err
		case ts.Signer == nil:
			j.TimestampErr = errors.New("time-stamp signer certificate not found")
		default:
			if tsChain, _, err := p.Anchors.Verify(ts.Signer, withDSS(ts.Certs, s.Validation), ts.Time); err != nil {
				j.TimestampErr = err
				if intact {
					j.add(SeverityWarning, CodeTimestampUntrusted, err.Error(), map[string]any{"Authority": ts.Signer.Subject.String()})
				}
			} else {
				j.TimestampTrusted = true
				trustTime, source = ts.Time.UTC(), "timestamp"
				if intact {
					j.checkRevocation(s.Validation, tsChain, ts.Time.UTC())
				}
			}
		}
	}
	claimed := s.SigningTime.UTC()
	switch {
	case j.TimestampTrusted:
		j.Time, j.TimeSource = trustTime, "timestamp"
	case !s.SigningTime.IsZero():
		j.Time, j.TimeSource = claimed, "claimed"
	}
	if s.Signer == nil {
		return
	}
	sg := SignerOf(s.Signer)
	j.Signer = &sg
	sg.TrustTime, sg.TrustTimeSource = trustTime, source
	chain, anchor, err := p.Anchors.Verify(s.Signer, withDSS(s.Certs, s.Validation), trustTime)
	if err == nil {
		sg.Trusted, sg.Anchor, j.Chain = true, anchor.Source, chain
		sg.QualifiedService = anchor.Service != nil && anchor.Service.Type == SvcCAQC
	} else {
		j.TrustErr = err
	}
	if !intact {
		return
	}
	if err == nil {
		j.checkRevocation(s.Validation, chain, trustTime)
	}
	if err != nil {
		var ci x509.CertificateInvalidError
		params := map[string]any{"Subject": sg.Subject, "TrustTime": rfc(trustTime), "NotBefore": rfc(sg.NotBefore), "NotAfter": rfc(sg.NotAfter)}
		if errors.As(err, &ci) && ci.Reason == x509.Expired && ci.Cert != nil && ci.Cert.Equal(s.Signer) {
			j.add(SeverityError, CodeSignerExpired, err.Error(), params)
			// Would it chain while valid? If not, it is untrusted too.
			at := s.Signer.NotAfter
			if trustTime.Before(s.Signer.NotBefore) {
				at = s.Signer.NotBefore
			}
			if _, _, err2 := p.Anchors.Verify(s.Signer, s.Certs, at); err2 != nil {
				j.add(SeverityError, CodeUntrustedSigner, err2.Error(), params)
			}
		} else {
			j.add(SeverityError, CodeUntrustedSigner, err.Error(), params)
		}
	}
	if !s.SigningTime.IsZero() {
		if claimed.Before(s.Signer.NotBefore) || claimed.After(s.Signer.NotAfter) {
			j.add(SeverityError, CodeSigningTimeOutsideValidity,
				fmt.Sprintf("claimed signing time %s is outside the certificate's validity %s to %s", rfc(claimed), rfc(sg.NotBefore), rfc(sg.NotAfter)),
				map[string]any{"Claimed": rfc(claimed), "NotBefore": rfc(sg.NotBefore), "NotAfter": rfc(sg.NotAfter)})
		}
		if j.TimestampTrusted {
			if d := claimed.Sub(trustTime); d > tol || d < -tol {
				j.add(SeverityError, CodeClaimedTimeMismatch,
					fmt.Sprintf("claimed signing time %s is %s from the time-stamp %s (tolerance %s)", rfc(claimed), d.Abs().Round(time.Second), rfc(trustTime), tol),
					map[string]any{"Claimed": rfc(claimed), "Timestamp": rfc(trustTime), "Tolerance": tol.String()})
			}
		}
	}
}

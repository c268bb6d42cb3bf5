// Package seal seals rendered documents with the task force's electronic
// seal: a PAdES certification signature (DocMDP P=2), time-stamped by an
// RFC 3161 authority when one is configured.
package seal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
)

// Sealer seals PDFs. It implements docs.Sealer.
type Sealer struct {
	Key *keys.Seal // Required.
	// TSA time-stamps every seal (PAdES B-T). Optional: nil seals at B-B.
	TSA *pades.TSA
	// LTV, with a TSA, extends every B-T seal to B-LT or B-LTA (with its
	// own TSA): the validation data of the seal's and the authority's
	// chains in a /DSS, then a document time-stamp. Optional: nil seals at
	// B-T.
	LTV *pades.LTV
	// Fallback, when the TSA cannot be reached, seals at B-B instead of
	// failing, and, when the validation data or the document time-stamp
	// cannot be had, at B-T; and records that it did. Optional: default
	// false, fail closed.
	Fallback bool
	// Now is the clock of the claimed signing time. If nil, time.Now is used.
	Now func() time.Time
	// Tolerance is how far the clock may be from the time-stamp token's
	// time before a seal is refused. Optional: default DefaultTolerance.
	Tolerance time.Duration
	// Logger records every seal and every refusal, unless the context of
	// Seal carries a logger (faldone.WithLogger), such as the logger of an
	// HTTP request. Optional.
	Logger *slog.Logger
}

// Local reports whether a seal waits for nothing but this process's CPU:
// no time-stamp authority to ask, and a key held in memory, not in a
// token (PKCS#11), which answers in its own time.
func (s *Sealer) Local() bool {
	return s.TSA == nil && s.Key != nil && pades.InMemoryKey(s.Key.Signer)
}

// DefaultTolerance is the default of Sealer.Tolerance.
const DefaultTolerance = 2 * time.Minute

// Seal certifies pdf. The input stays an exact prefix of the output. When
// the TSA is down it returns EUNAVAILABLE, unless Fallback is set.
//
// The clock is guarded: Seal returns EUNAVAILABLE, and seals nothing a
// verifier would reject, when now is outside the validity of the seal
// certificate, or, with a TSA, further than Tolerance from the time of
// the token.
func (s *Sealer) Seal(ctx context.Context, pdf []byte, d *faldone.Document) ([]byte, *faldone.SealFacts, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	log := faldone.Logger(ctx, s.Logger)
	if t, leaf := now(), s.Key.Leaf(); t.Before(leaf.NotBefore) || t.After(leaf.NotAfter) {
		log.ErrorContext(ctx, "seal refused: the clock is outside the seal certificate's validity",
			"now", t.UTC(), "not_before", leaf.NotBefore.UTC(), "not_after", leaf.NotAfter.UTC())
		return nil, nil, &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.clock_outside_certificate",
			Params:  map[string]any{"Now": t.UTC().Format(time.RFC3339)},
			Message: fmt.Sprintf("the clock (%s) is outside the seal certificate's validity (%s to %s); the document was not sealed", t.UTC().Format(time.RFC3339), leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))}
	}
	opts := pades.Options{
		Signer:   s.Key.Signer,
		Chain:    s.Key.Chain,
		Certify:  true,
		Name:     s.Key.Leaf().Subject.CommonName,
		Reason:   "Sigillo elettronico della task force FAST Piccoli Comuni",
		Location: "Italia",
		Time:     now(),
		TSA:      s.TSA,
		// What a screen reader says of the seal's field, in the document's language.
		Description: sealDescription(d.Lang, s.Key.Leaf().Subject.CommonName),
	}
	out, res, err := pades.Sign(ctx, pdf, opts)
	fallback := false
	if err != nil && errors.Is(err, pades.ErrTSAUnavailable) {
		if !s.Fallback {
			log.WarnContext(ctx, "seal refused: time-stamp authority unavailable", "kind", d.Kind, "error", err.Error())
			return nil, nil, &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.tsa_unavailable", Message: "the time-stamp authority is unavailable; the document was not sealed", Err: err}
		}
		log.WarnContext(ctx, "time-stamp authority unavailable: sealing at B-B", "kind", d.Kind, "error", err.Error())
		opts.TSA = nil
		fallback = true
		out, res, err = pades.Sign(ctx, pdf, opts)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	if !res.TimestampTime.IsZero() {
		tol := s.Tolerance
		if tol <= 0 {
			tol = DefaultTolerance
		}
		if skew := res.SigningTime.Sub(res.TimestampTime); skew > tol || skew < -tol {
			log.ErrorContext(ctx, "seal refused: the clock differs from the time-stamp authority's",
				"signing_time", res.SigningTime.UTC(), "timestamp_time", res.TimestampTime.UTC(), "skew", skew.String())
			return nil, nil, &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.clock_skew_tsa",
				Params:  map[string]any{"Skew": skew.Round(time.Second).String()},
				Message: fmt.Sprintf("the clock differs by %s from the time-stamp's time (tolerance %s); the document was not sealed", skew.Round(time.Second), tol)}
		}
	}
	facts := &faldone.SealFacts{CertSHA256: res.SignerSHA256, Level: res.Level, TSAFallback: fallback}
	st := res.SigningTime.UTC()
	facts.SigningTime = &st
	if !res.TimestampTime.IsZero() {
		t := res.TimestampTime.UTC()
		facts.TimestampTime = &t
	}
	if out, err = s.extend(ctx, log, out, d, facts); err != nil {
		return nil, nil, err
	}
	log.InfoContext(ctx, "sealed", "kind", d.Kind, "level", facts.Level, "cert_sha256", res.SignerSHA256, "tsa_fallback", fallback)
	return out, facts, nil
}

// sealDescription describes the seal's signature field (its /TU) in the
// document's language.
func sealDescription(lang, name string) string {
	switch lang {
	case "en":
		return "Electronic seal of " + name
	case "de":
		return "Elektronisches Siegel von " + name
	}
	return "Sigillo elettronico di " + name
}

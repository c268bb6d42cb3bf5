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
	// Fallback, when the TSA cannot be reached, seals at B-B instead of
	// failing, and records that it did. Optional: default false, fail closed.
	Fallback bool
	// Now is the clock of the claimed signing time. If nil, time.Now is used.
	Now func() time.Time
	// Logger records every seal and every refusal, unless the context of
	// Seal carries a logger (faldone.WithLogger), such as the logger of an
	// HTTP request. Optional.
	Logger *slog.Logger
}

// Seal certifies pdf. The input stays an exact prefix of the output. When
// the TSA is down it returns EUNAVAILABLE, unless Fallback is set.
func (s *Sealer) Seal(ctx context.Context, pdf []byte, d *faldone.Document) ([]byte, *faldone.SealFacts, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	log := faldone.Logger(ctx, s.Logger)
	opts := pades.Options{
		Signer:   s.Key.Signer,
		Chain:    s.Key.Chain,
		Certify:  true,
		Name:     s.Key.Leaf().Subject.CommonName,
		Reason:   "Sigillo elettronico della task force FAST Piccoli Comuni",
		Location: "Italia",
		Time:     now(),
		TSA:      s.TSA,
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
	facts := &faldone.SealFacts{CertSHA256: res.SignerSHA256, Level: res.Level, TSAFallback: fallback}
	st := res.SigningTime.UTC()
	facts.SigningTime = &st
	if !res.TimestampTime.IsZero() {
		t := res.TimestampTime.UTC()
		facts.TimestampTime = &t
	}
	log.InfoContext(ctx, "sealed", "kind", d.Kind, "level", res.Level, "cert_sha256", res.SignerSHA256, "tsa_fallback", fallback)
	return out, facts, nil
}

package seal

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"faldone/internal/faldone"
	"faldone/internal/pades"
)

// extend brings a B-T seal to B-LT or B-LTA with s.LTV. When the
// revocation data or the document time-stamp cannot be had, it refuses
// (EUNAVAILABLE), or with Fallback keeps the B-T seal and records that it
// did. A revoked certificate in the seal's or the authority's chain is
// always refused.
func (s *Sealer) extend(ctx context.Context, log *slog.Logger, out []byte, d *faldone.Document, facts *faldone.SealFacts) ([]byte, error) {
	if s.LTV == nil || facts.Level != pades.LevelBT {
		return out, nil
	}
	ext, res, err := s.LTV.Extend(ctx, out)
	switch {
	case err == nil:
		facts.Level = res.Level
		if !res.TimestampTime.IsZero() {
			t := res.TimestampTime.UTC()
			facts.ArchiveTimestampTime = &t
		}
		return ext, nil
	case errors.Is(err, pades.ErrRevoked):
		log.ErrorContext(ctx, "seal refused: a certificate of the seal's or the time-stamp authority's chain is revoked", "kind", d.Kind, "error", err.Error())
		return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.seal_revoked",
			Message: "a certificate of the seal's or the time-stamp authority's chain is revoked; the document was not sealed", Err: err}
	case errors.Is(err, pades.ErrRevocationUnavailable) || errors.Is(err, pades.ErrTSAUnavailable):
		if !s.Fallback {
			log.WarnContext(ctx, "seal refused: validation data or document time-stamp unavailable", "kind", d.Kind, "error", err.Error())
			return nil, &faldone.Error{Code: faldone.EUNAVAILABLE, MessageID: "error.ltv_unavailable",
				Message: "the revocation data or the document time-stamp is unavailable; the document was not sealed", Err: err}
		}
		log.WarnContext(ctx, "validation data or document time-stamp unavailable: sealing at B-T", "kind", d.Kind, "error", err.Error())
		facts.LTVFallback = true
		return out, nil
	}
	return nil, fmt.Errorf("seal: long-term validation data: %w", err)
}

// ExtendSigned brings a copy the comune signed to the seal's long-term
// level: the validation data of every signature in a /DSS and, at B-LTA,
// a document time-stamp. It returns the copy unchanged and a nil result
// when s has no LTV. extra are further certificates to build chains
// with, such as the trust anchors the comune's signature chains to.
func (s *Sealer) ExtendSigned(ctx context.Context, pdf []byte, extra []*x509.Certificate) ([]byte, *pades.LTVResult, error) {
	if s.LTV == nil {
		return pdf, nil, nil
	}
	l := *s.LTV
	l.Extra = append(slices.Clone(l.Extra), extra...)
	out, res, err := l.Extend(ctx, pdf)
	if err != nil {
		return nil, nil, fmt.Errorf("extend signed copy: %w", err)
	}
	return out, res, nil
}

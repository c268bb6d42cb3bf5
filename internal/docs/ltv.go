package docs

import (
	"context"
	"crypto/x509"

	"faldone/internal/faldone"
	"faldone/internal/pades"
)

// Extender brings a signed copy to the seal's long-term level (see
// seal.Sealer.ExtendSigned); a Sealer that is one extends the comune's
// copies too.
type Extender interface {
	ExtendSigned(ctx context.Context, pdf []byte, extra []*x509.Certificate) ([]byte, *pades.LTVResult, error)
}

// extendSigned extends the comune's copy when the sealer can, and notes
// it in rec. A copy that cannot be extended (the TSA or a revocation
// service is down) is archived as received, never lost, and recorded
// with LTVFallback.
func (s *Service) extendSigned(ctx context.Context, signed []byte, rec *faldone.Record) []byte {
	x, ok := s.Sealer.(Extender)
	if !ok {
		return signed
	}
	var anchors []*x509.Certificate
	if s.Trust != nil {
		anchors = s.Trust.Anchors.Certificates()
	}
	out, res, err := x.ExtendSigned(ctx, signed, anchors)
	if err != nil {
		faldone.Logger(ctx, nil).WarnContext(ctx, "signed copy archived without long-term validation data", "id", rec.ID, "error", err.Error())
		rec.Seal.LTVFallback = true
		return signed
	}
	if res != nil {
		rec.Seal.Level = res.Level
		rec.Seal.LTVFallback = false
		if !res.TimestampTime.IsZero() {
			t := res.TimestampTime.UTC()
			rec.Seal.ArchiveTimestampTime = &t
		}
	}
	return out
}

package docs

import (
	"context"
	"fmt"

	"faldone/internal/faldone"
)

// Sealer seals a rendered PDF. It returns the sealed file and the facts of
// the seal; the rendered bytes MUST stay an exact prefix of the result.
type Sealer interface {
	Seal(ctx context.Context, pdf []byte, d *faldone.Document) ([]byte, *faldone.SealFacts, error)
}

// Service creates documents: render, seal, store.
type Service struct {
	Renderer *Renderer
	Sealer   Sealer // nil: documents are stored unsealed
	Store    faldone.DocumentStore
}

// Create renders a document of kind from a request body, seals it and
// stores it under a new id. The returned document describes the stored
// (sealed) PDF.
func (s *Service) Create(ctx context.Context, kind faldone.Kind, body []byte, lang string) (*faldone.Document, error) {
	res, err := s.Renderer.Render(ctx, kind, body, lang)
	if err != nil {
		return nil, err
	}
	d := res.Document
	d.ID = NewID()
	pdf := res.PDF
	if s.Sealer != nil {
		sealed, facts, err := s.Sealer.Seal(ctx, pdf, &d)
		if err != nil {
			return nil, err
		}
		pdf, d.Seal = sealed, facts
		d.SHA256, d.Size = sha256Hex(pdf), int64(len(pdf))
	}
	if err := s.Store.Put(ctx, &d, pdf); err != nil {
		return nil, fmt.Errorf("create %s: %w", kind, err)
	}
	return &d, nil
}

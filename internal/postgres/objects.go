package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// objectPDF is PDF when the PDFs are in the object store.
func (a *Archive) objectPDF(ctx context.Context, sum string) ([]byte, error) {
	var one int
	err := a.pool.QueryRow(ctx, `SELECT 1 FROM records WHERE sha256 = $1 LIMIT 1`, sum).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "PDF %s not found", sum)
	}
	if err != nil {
		return nil, fmt.Errorf("pdf %s: %w", sum, err)
	}
	data, err := a.Objects.Get(ctx, sum)
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, fmt.Errorf("pdf %s: the object is missing from %s although a record names it: restore it from a backup and run an audit", sum, a.Objects)
	}
	if err != nil {
		return nil, fmt.Errorf("pdf %s: %w", sum, err)
	}
	if err := archive.CheckBlob(a.Objects.String()+"/"+sum, sum, data); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return data, nil
}

// objectBlobs is Blobs when the PDFs are in the object store.
func (a *Archive) objectBlobs(ctx context.Context, sums []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(sums))
	for _, sum := range sums {
		data, err := a.Objects.Get(ctx, sum)
		switch {
		case faldone.ErrorCode(err) == faldone.ENOTFOUND:
		case err != nil:
			return nil, fmt.Errorf("blobs: %w", err)
		default:
			out[sum] = data
		}
	}
	return out, nil
}

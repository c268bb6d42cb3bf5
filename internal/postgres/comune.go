package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"faldone/internal/faldone"
)

// ComuneOf returns the ISTAT code of the comune of document id, or
// ENOTFOUND, reading one indexed column and nothing else: callers that
// confine a comune to its own documents check it before reading a record
// or a PDF, so that another comune's document costs what a missing one
// does.
func (a *Archive) ComuneOf(ctx context.Context, id string) (string, error) {
	var comune string
	err := a.pool.QueryRow(ctx, `SELECT comune FROM records WHERE id = $1 AND version = 1`, id).Scan(&comune)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", faldone.Errorf(faldone.ENOTFOUND, "document %s not found", id)
	}
	if err != nil {
		return "", classify(fmt.Errorf("comune of %s: %w", id, err))
	}
	return comune, nil
}

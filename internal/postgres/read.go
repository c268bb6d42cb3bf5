package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// recordCols are the columns scanned by scanRow, in order.
const recordCols = `leaf_index, id, version, comune, sha256, body, signer_sha256, signer_trusted`

// scanRow reads one record row.
func scanRow(row pgx.Row) (*faldone.Record, error) {
	var r archive.Row
	if err := row.Scan(&r.Leaf, &r.ID, &r.Version, &r.Comune, &r.SHA256, &r.Body, &r.SignerSHA256, &r.SignerTrusted); err != nil {
		return nil, err
	}
	return archive.Decode(&r)
}

// one returns the single record a query selects, or ENOTFOUND.
func (a *Archive) one(ctx context.Context, op, what, query string, args ...any) (*faldone.Record, error) {
	rec, err := scanRow(a.pool.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "%s not found", what)
	}
	if err != nil {
		return nil, classify(fmt.Errorf("%s: %w", op, err))
	}
	return rec, nil
}

// many returns the records a query selects.
func (a *Archive) many(ctx context.Context, op, query string, args ...any) ([]*faldone.Record, error) {
	rows, err := a.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, classify(fmt.Errorf("%s: %w", op, err))
	}
	defer rows.Close()
	out := []*faldone.Record{}
	for rows.Next() {
		rec, err := scanRow(rows)
		if err != nil {
			return nil, classify(fmt.Errorf("%s: %w", op, err))
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("%s: %w", op, err))
	}
	return out, nil
}

// Latest returns the newest version of a document, or ENOTFOUND.
func (a *Archive) Latest(ctx context.Context, id string) (*faldone.Record, error) {
	return a.one(ctx, "latest", "document "+id,
		`SELECT `+recordCols+` FROM records WHERE id = $1 ORDER BY version DESC LIMIT 1`, id)
}

// Version returns one version of a document, or ENOTFOUND.
func (a *Archive) Version(ctx context.Context, id string, version int) (*faldone.Record, error) {
	return a.one(ctx, "version", fmt.Sprintf("document %s version %d", id, version),
		`SELECT `+recordCols+` FROM records WHERE id = $1 AND version = $2`, id, version)
}

// Dossier lists every version of every document of a comune (by ISTAT
// code), oldest first (in log order). It returns an empty list, not
// ENOTFOUND, for a comune with no documents.
func (a *Archive) Dossier(ctx context.Context, istat string) ([]*faldone.Record, error) {
	return a.many(ctx, "dossier "+istat,
		`SELECT `+recordCols+` FROM records WHERE comune = $1 ORDER BY leaf_index`, istat)
}

// BySHA returns the versions whose PDF has this SHA-256, in log order; an
// empty list when there are none. It returns EINVALID when sha256 is not
// 64 hex digits.
func (a *Archive) BySHA(ctx context.Context, sha256 string) ([]*faldone.Record, error) {
	sum, err := archive.ParseSHA256(sha256)
	if err != nil {
		return nil, err
	}
	return a.many(ctx, "by sha256 "+sum,
		`SELECT `+recordCols+` FROM records WHERE sha256 = $1 ORDER BY leaf_index`, sum)
}

// PDF returns the bytes of an archived PDF by SHA-256, after checking that
// they still hash to it; a mismatch is an error naming the blob. It
// returns ENOTFOUND when no record has this PDF and EINVALID when sha256
// is not 64 hex digits.
func (a *Archive) PDF(ctx context.Context, sha256 string) ([]byte, error) {
	sum, err := archive.ParseSHA256(sha256)
	if err != nil {
		return nil, err
	}
	if a.Objects != nil {
		return a.objectPDF(ctx, sum)
	}
	var data []byte
	var found bool
	err = a.pool.QueryRow(ctx, `SELECT b.data, b.sha256 IS NOT NULL FROM records r LEFT JOIN blobs b ON b.sha256 = r.sha256
		WHERE r.sha256 = $1 LIMIT 1`, sum).Scan(&data, &found)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "PDF %s not found", sum)
	}
	if err != nil {
		return nil, classify(fmt.Errorf("pdf %s: %w", sum, err))
	}
	if !found {
		return nil, fmt.Errorf("pdf %s: the blobs row is missing although a record names it: restore the database from a backup and run an audit", sum)
	}
	if err := archive.CheckBlob("blobs/"+sum, sum, data); err != nil {
		return nil, classify(fmt.Errorf("pdf: %w", err))
	}
	return data, nil
}

// Blob returns the stored bytes of a PDF by SHA-256 without checking them,
// for auditors who compare them with the records; ENOTFOUND when the blob
// is absent. Use PDF to serve a document.
func (a *Archive) Blob(ctx context.Context, sha256 string) ([]byte, error) {
	sum, err := archive.ParseSHA256(sha256)
	if err != nil {
		return nil, err
	}
	if a.Objects != nil {
		return a.Objects.Get(ctx, sum)
	}
	var data []byte
	err = a.pool.QueryRow(ctx, `SELECT data FROM blobs WHERE sha256 = $1`, sum).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "blob %s not found", sum)
	}
	if err != nil {
		return nil, classify(fmt.Errorf("blob %s: %w", sum, err))
	}
	return data, nil
}

// walkPage is the number of records Walk reads per query.
const walkPage = 512

// Walk calls fn for every record in leaf order with the leaf hash stored
// in the log at rec.Leaf (nil when absent). Comparing it with
// audit.LeafHash(faldone.CanonicalRecord(rec)) detects an edited record.
// Walk stops at the first error fn returns and returns it.
func (a *Archive) Walk(ctx context.Context, fn func(rec *faldone.Record, leafHash []byte) error) error {
	last := int64(-1)
	for {
		rows, err := a.pool.Query(ctx, `SELECT r.leaf_index, r.id, r.version, r.comune, r.sha256, r.body, r.signer_sha256, r.signer_trusted, n.hash
			FROM records r LEFT JOIN audit_nodes n ON n.level = 0 AND n.idx = r.leaf_index
			WHERE r.leaf_index > $1 ORDER BY r.leaf_index LIMIT $2`, last, walkPage)
		if err != nil {
			return classify(fmt.Errorf("walk: %w", err))
		}
		type item struct {
			rec  *faldone.Record
			hash []byte
		}
		var page []item
		for rows.Next() {
			var row archive.Row
			var h []byte
			if err := rows.Scan(&row.Leaf, &row.ID, &row.Version, &row.Comune, &row.SHA256, &row.Body, &row.SignerSHA256, &row.SignerTrusted, &h); err != nil {
				rows.Close()
				return classify(fmt.Errorf("walk: %w", err))
			}
			rec, err := archive.Decode(&row)
			if err != nil {
				rows.Close()
				return classify(fmt.Errorf("walk: %w", err))
			}
			page = append(page, item{rec, h})
			last = row.Leaf
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return classify(fmt.Errorf("walk: %w", err))
		}
		for _, it := range page {
			if err := fn(it.rec, it.hash); err != nil {
				return err
			}
		}
		if len(page) < walkPage {
			return nil
		}
	}
}

// Blobs returns the stored bytes of the PDFs with these SHA-256s, by
// SHA-256, in one query and without checking them, for auditors; absent
// ones (and strings that are not SHA-256s) are left out.
func (a *Archive) Blobs(ctx context.Context, sums []string) (map[string][]byte, error) {
	valid := make([]string, 0, len(sums))
	for _, s := range sums {
		if sum, err := archive.ParseSHA256(s); err == nil && sum == s {
			valid = append(valid, sum)
		}
	}
	out := make(map[string][]byte, len(valid))
	if len(valid) == 0 {
		return out, nil
	}
	if a.Objects != nil {
		return a.objectBlobs(ctx, valid)
	}
	rows, err := a.pool.Query(ctx, `SELECT sha256, data FROM blobs WHERE sha256 = ANY($1)`, valid)
	if err != nil {
		return nil, classify(fmt.Errorf("blobs: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var sum string
		var data []byte
		if err := rows.Scan(&sum, &data); err != nil {
			return nil, classify(fmt.Errorf("blobs: %w", err))
		}
		out[sum] = data
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("blobs: %w", err))
	}
	return out, nil
}

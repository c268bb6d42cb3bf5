package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// recordCols are the columns scanned by scanRow, in order.
const recordCols = `leaf_index, id, version, comune, sha256, body, signer_sha256, signer_trusted`

// scanRow reads one record row.
func scanRow(sc interface{ Scan(...any) error }) (*faldone.Record, error) {
	var row archive.Row
	if err := sc.Scan(&row.Leaf, &row.ID, &row.Version, &row.Comune, &row.SHA256, &row.Body, &row.SignerSHA256, &row.SignerTrusted); err != nil {
		return nil, err
	}
	return archive.Decode(&row)
}

// one returns the single record a query selects, or ENOTFOUND.
func (a *Archive) one(ctx context.Context, op, what, query string, args ...any) (*faldone.Record, error) {
	rec, err := scanRow(a.r.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "%s not found", what)
	}
	if err != nil {
		return nil, classify(fmt.Errorf("%s: %w", op, err))
	}
	return rec, nil
}

// many returns the records a query selects.
func (a *Archive) many(ctx context.Context, op, query string, args ...any) ([]*faldone.Record, error) {
	rows, err := a.r.QueryContext(ctx, query, args...)
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
		`SELECT `+recordCols+` FROM records WHERE id = ? ORDER BY version DESC LIMIT 1`, id)
}

// Version returns one version of a document, or ENOTFOUND.
func (a *Archive) Version(ctx context.Context, id string, version int) (*faldone.Record, error) {
	return a.one(ctx, "version", fmt.Sprintf("document %s version %d", id, version),
		`SELECT `+recordCols+` FROM records WHERE id = ? AND version = ?`, id, version)
}

// Dossier lists every version of every document of a comune (by ISTAT
// code), oldest first (in log order). It returns an empty list, not
// ENOTFOUND, for a comune with no documents.
func (a *Archive) Dossier(ctx context.Context, istat string) ([]*faldone.Record, error) {
	return a.many(ctx, "dossier "+istat,
		`SELECT `+recordCols+` FROM records WHERE comune = ? ORDER BY leaf_index`, istat)
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
		`SELECT `+recordCols+` FROM records WHERE sha256 = ? ORDER BY leaf_index`, sum)
}

// PDF returns the bytes of an archived PDF by SHA-256, after checking that
// they still hash to it; a mismatch is an error naming where it is kept.
// It returns ENOTFOUND when no record has this PDF (an orphan blob file
// left by an archive written before is not served) and EINVALID when sha256 is not 64 hex digits.
func (a *Archive) PDF(ctx context.Context, sha256 string) ([]byte, error) {
	sum, err := archive.ParseSHA256(sha256)
	if err != nil {
		return nil, err
	}
	// Whether a record names it, and its bytes when they are in the
	// database, in one query.
	var named bool
	var b []byte
	err = a.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM records WHERE sha256 = ?1), (SELECT data FROM blobs WHERE sha256 = ?1)`, sum).Scan(&named, &b)
	if err != nil {
		return nil, classify(fmt.Errorf("pdf %s: %w", sum, err))
	}
	if !named {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "PDF %s not found", sum)
	}
	name := a.rowName(sum)
	if b == nil {
		b, name, err = a.getBlob(ctx, sum) // an object store, or a file of an older archive
	}
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		if a.Objects != nil {
			return nil, fmt.Errorf("pdf %s: the object is missing from %s although a record names it: restore it from a backup and run an audit", sum, a.Objects)
		}
		return nil, fmt.Errorf("pdf %s: missing although a record names it: it is neither in table blobs of %s nor a file under %s; restore the archive from a backup and run an audit", sum, a.path, a.files.dir)
	}
	if err != nil {
		return nil, classify(fmt.Errorf("pdf %s: %w", sum, err))
	}
	if err := archive.CheckBlob(name, sum, b); err != nil {
		return nil, classify(fmt.Errorf("pdf: %w", err))
	}
	return b, nil
}

// Blob returns the stored bytes of a PDF by SHA-256 without checking them,
// for auditors who compare them with the records; ENOTFOUND when the blob
// is absent. Use PDF to serve a document.
func (a *Archive) Blob(ctx context.Context, sha256 string) ([]byte, error) {
	sum, err := archive.ParseSHA256(sha256)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, classify(fmt.Errorf("blob %s: %w", sum, err))
	}
	b, _, err := a.getBlob(ctx, sum)
	if err != nil && faldone.ErrorCode(err) != faldone.ENOTFOUND {
		return nil, classify(fmt.Errorf("blob %s: %w", sum, err))
	}
	return b, err
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
		rows, err := a.r.QueryContext(ctx, `SELECT r.leaf_index, r.id, r.version, r.comune, r.sha256, r.body, r.signer_sha256, r.signer_trusted, n.hash
			FROM records r LEFT JOIN audit_nodes n ON n.level = 0 AND n.idx = r.leaf_index
			WHERE r.leaf_index > ? ORDER BY r.leaf_index LIMIT ?`, last, walkPage)
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
		err = rows.Err()
		rows.Close()
		if err != nil {
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

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"faldone/internal/faldone"
)

// getBlob reads a PDF from where it is kept: the object store when there
// is one, else the blobs table, else (archives written before the PDFs
// moved into the database) the blob directory. It returns where it read
// the bytes, for messages, and ENOTFOUND when the PDF is in none.
func (a *Archive) getBlob(ctx context.Context, sum string) ([]byte, string, error) {
	if a.Objects != nil {
		b, err := a.Objects.Get(ctx, sum)
		return b, a.Objects.String() + "/" + sum, err
	}
	var b []byte
	err := a.r.QueryRowContext(ctx, `SELECT data FROM blobs WHERE sha256 = ?`, sum).Scan(&b)
	switch {
	case err == nil:
		return b, a.rowName(sum), nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, a.rowName(sum), err
	}
	b, name, err := a.files.get(sum)
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, a.rowName(sum), faldone.Errorf(faldone.ENOTFOUND,
			"PDF %s is neither in table blobs of %s nor a file under %s", sum, a.path, a.files.dir)
	}
	return b, name, err
}

// rowName names the row of a PDF in the blobs table, for messages.
func (a *Archive) rowName(sum string) string {
	return fmt.Sprintf("%s (table blobs, sha256 %s)", a.path, sum)
}

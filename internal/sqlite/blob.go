package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"faldone/internal/faldone"
)

// fileBlobs are the PDFs that archives written before the PDFs moved into
// the database kept as files named by their SHA-256: dir/ab/abcd....pdf,
// and before that one level deeper, dir/ab/cd/abcd....pdf. Both are still
// read; nothing new is written there, and the garbage collector removes
// the files no record names.
type fileBlobs struct {
	dir string
}

// path returns the file of a lowercase hex SHA-256.
func (s *fileBlobs) path(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum+".pdf")
}

// legacyPath returns where the oldest archives kept the file of sum.
func (s *fileBlobs) legacyPath(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum[2:4], sum+".pdf")
}

// get returns the bytes of a blob file and its path, ENOTFOUND when there
// is none.
func (s *fileBlobs) get(sum string) ([]byte, string, error) {
	p := s.path(sum)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		p = s.legacyPath(sum)
		b, err = os.ReadFile(p)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", &faldone.Error{Code: faldone.ENOTFOUND, Message: fmt.Sprintf("blob %s not found", sum), Err: err}
	}
	if err != nil {
		return nil, p, fmt.Errorf("get blob: %w", err)
	}
	return b, p, nil
}

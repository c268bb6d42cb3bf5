package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// blobStore keeps PDFs as files named by their SHA-256:
// dir/ab/cd/abcd....pdf. A file is never changed once renamed into place.
type blobStore struct {
	dir string
}

// openBlobStore creates dir if needed.
func openBlobStore(dir string) (*blobStore, error) {
	if err := mkdirSync(dir); err != nil {
		return nil, fmt.Errorf("open blob dir %s: %w", dir, err)
	}
	return &blobStore{dir: dir}, nil
}

// path returns the file of a lowercase hex SHA-256.
func (s *blobStore) path(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum[2:4], sum+".pdf")
}

// put stores data under sum durably: temporary file, fsync, rename,
// directory fsync. When the blob exists it checks its content instead.
func (s *blobStore) put(sum string, data []byte) error {
	p := s.path(sum)
	if old, err := os.ReadFile(p); err == nil {
		// Fresh again: the garbage collector spares recent blobs.
		now := time.Now()
		_ = os.Chtimes(p, now, now)
		return archive.CheckBlob(p, sum, old)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("put blob: %w", err)
	}
	dir := filepath.Dir(p)
	if err := mkdirSync(dir); err != nil {
		return fmt.Errorf("put blob %s: %w", p, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+sum[:8]+"-*")
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("put blob %s: %w (is the disk full?)", p, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put blob %s: fsync: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put blob %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("put blob %s: %w", p, err)
	}
	return nil
}

// get returns the bytes of a blob as stored, ENOTFOUND when the file is
// absent.
func (s *blobStore) get(sum string) ([]byte, error) {
	p := s.path(sum)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &faldone.Error{Code: faldone.ENOTFOUND, Message: fmt.Sprintf("blob %s not found", sum), Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	return b, nil
}

package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
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
	dirs, err := s.write(sum, data)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("put blob %s: %w", s.path(sum), err)
		}
	}
	return nil
}

// write stores data under sum with its content durable (temporary file,
// fsync, rename) and returns the directories whose entries are not yet:
// the blob's directory, and the parent of each directory it created. The
// blob is durable once they are fsynced (syncDirs), which an append does
// once for a whole group. When the blob exists it checks its content
// instead and returns no directory.
func (s *blobStore) write(sum string, data []byte) ([]string, error) {
	p := s.path(sum)
	if old, err := os.ReadFile(p); err == nil {
		// Fresh again: the garbage collector spares recent blobs.
		now := time.Now()
		_ = os.Chtimes(p, now, now)
		return nil, archive.CheckBlob(p, sum, old)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("put blob: %w", err)
	}
	dir := filepath.Dir(p)
	dirs, err := mkdirNoSync(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("put blob %s: %w", p, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+sum[:8]+"-*")
	if err != nil {
		return nil, fmt.Errorf("put blob: %w", err)
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
		return nil, fmt.Errorf("put blob %s: %w (is the disk full?)", p, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("put blob %s: fsync: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("put blob %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return nil, fmt.Errorf("put blob: %w", err)
	}
	ok = true
	return append(dirs, dir), nil
}

// syncDirs fsyncs each distinct directory of dirs once, all at once: the
// directories of a group's blobs are rarely shared (one of 65,536), and
// the file system commits concurrent fsyncs together, where one after
// another each would wait for the disk.
func syncDirs(dirs []string) error {
	seen := make(map[string]bool, len(dirs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, d := range dirs {
		if seen[d] {
			continue
		}
		seen[d] = true
		wg.Go(func() {
			if err := syncDir(d); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
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

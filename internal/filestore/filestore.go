// Package filestore keeps documents as files in a directory: for each id a
// JSON description and the PDF, each written atomically (temp file, fsync,
// rename, directory fsync), so an acknowledged document survives a crash.
package filestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"faldone/internal/faldone"
)

// Store is a directory of documents. It implements faldone.DocumentStore.
type Store struct{ dir string }

var _ faldone.DocumentStore = (*Store)(nil)

// Open creates dir if needed and returns a store on it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open document store: %w (check that the data directory is writable)", err)
	}
	return &Store{dir: dir}, nil
}

var reID = regexp.MustCompile(`^[a-z0-9]{10,64}$`)

// Put stores a document: the PDF first, then its description, so a
// description never points to a missing PDF.
func (s *Store) Put(ctx context.Context, d *faldone.Document, pdf []byte) error {
	if !reID.MatchString(d.ID) {
		return faldone.Errorf(faldone.EINVALID, "bad document id %q", d.ID)
	}
	meta, err := json.Marshal(struct {
		*faldone.Document
		Input json.RawMessage `json:"input"`
	}{d, d.Input})
	if err != nil {
		return fmt.Errorf("put document: %w", err)
	}
	if err := WriteFile(filepath.Join(s.dir, d.ID+".pdf"), pdf); err != nil {
		return fmt.Errorf("put document: %w", err)
	}
	if err := WriteFile(filepath.Join(s.dir, d.ID+".json"), meta); err != nil {
		return fmt.Errorf("put document: %w", err)
	}
	return nil
}

// Get returns a document's description.
func (s *Store) Get(ctx context.Context, id string) (*faldone.Document, error) {
	if !reID.MatchString(id) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "no document %q", id)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "no document %q", id)
	} else if err != nil {
		return nil, fmt.Errorf("get document: %w", err)
	}
	var v struct {
		faldone.Document
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("get document %s: %w", id, err)
	}
	v.Document.Input = v.Input
	return &v.Document, nil
}

// PDF returns a document's PDF.
func (s *Store) PDF(ctx context.Context, id string) ([]byte, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(s.dir, id+".pdf"))
	if err != nil {
		return nil, fmt.Errorf("read pdf %s: %w", id, err)
	}
	return b, nil
}

// WriteFile writes b to path atomically: a temp file in the same directory,
// fsync, rename, and fsync of the directory.
func WriteFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

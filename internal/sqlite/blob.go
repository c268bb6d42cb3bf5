package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// blobStore keeps PDFs as files named by their SHA-256: dir/ab/abcd....pdf,
// 256 directories. Archives written before kept them one level deeper,
// dir/ab/cd/abcd....pdf, where they are still read. A file is never
// changed once linked into place.
type blobStore struct {
	dir string
	// durable holds the directories known to exist with their entries
	// durable: an append into one of them need not create it or fsync its
	// parent again.
	durable sync.Map // string -> struct{}
	// named is set once unnamed temporary files (O_TMPFILE) turn out not
	// to work here: blobs are then written under a temporary name.
	named atomic.Bool
}

// openBlobStore creates dir if needed.
func openBlobStore(dir string) (*blobStore, error) {
	if err := mkdirSync(dir); err != nil {
		return nil, fmt.Errorf("open blob dir %s: %w", dir, err)
	}
	s := &blobStore{dir: dir}
	s.durable.Store(filepath.Clean(dir), struct{}{})
	return s, nil
}

// path returns the file of a lowercase hex SHA-256.
func (s *blobStore) path(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum+".pdf")
}

// legacyPath returns where archives written before kept the file of sum:
// a directory of 65,536 was one more directory to make and fsync for
// nearly every PDF of an archive of a few thousand.
func (s *blobStore) legacyPath(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum[2:4], sum+".pdf")
}

// exists reports whether the file of sum is in either place.
func (s *blobStore) exists(sum string) (bool, error) {
	for _, p := range []string{s.path(sum), s.legacyPath(sum)} {
		_, err := os.Stat(p)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	}
	return false, nil
}

// put stores data under sum durably. When the blob exists it checks its
// content instead.
func (s *blobStore) put(sum string, data []byte) error {
	dirs, err := s.write(sum, data)
	if err != nil {
		return err
	}
	if err := syncDirs(dirs); err != nil {
		return fmt.Errorf("put blob %s: %w", s.path(sum), err)
	}
	s.markDurable(dirs)
	return nil
}

// write stores data under sum with its content durable (written and
// fsynced before it gets its name, which it gets only if no file has it)
// and returns the directories whose entries are not yet: the blob's
// directory, and the parents of the directories not known to be durable,
// whether this append created them or another one that has not fsynced
// them yet. The blob is durable once they are fsynced (syncDirs, then
// markDurable, as put does). When the blob exists it checks its content
// instead.
func (s *blobStore) write(sum string, data []byte) ([]string, error) {
	p := s.path(sum)
	dir := filepath.Dir(p)
	dirs, err := s.prepareDir(dir)
	if err != nil {
		return nil, fmt.Errorf("put blob %s: %w", p, err)
	}
	err = s.link(p, dir, sum, data)
	if errors.Is(err, fs.ErrNotExist) {
		// A directory removed behind our back: make it again. (An append
		// that found it known durable just before is not told: removing
		// the archive's directories while it runs is not supported.)
		s.durable.Delete(dir)
		more, merr := s.prepareDir(dir)
		if merr != nil {
			return nil, fmt.Errorf("put blob %s: %w", p, merr)
		}
		dirs = append(dirs, more...)
		err = s.link(p, dir, sum, data)
	}
	if errors.Is(err, fs.ErrExist) {
		old, rerr := os.ReadFile(p)
		if rerr != nil {
			return nil, fmt.Errorf("put blob: %w", rerr)
		}
		// Fresh again: the garbage collector spares recent blobs.
		now := time.Now()
		_ = os.Chtimes(p, now, now)
		if err := archive.CheckBlob(p, sum, old); err != nil {
			return nil, err
		}
		// Another append may have linked it and not be durable yet.
		return append(dirs, dir), nil
	}
	if err != nil {
		return nil, err
	}
	return append(dirs, dir), nil
}

// prepareDir makes the blob directory dir if it is missing and returns the
// directories to fsync, besides dir itself, for its entry to be durable:
// none when it is known durable; else the parents of the directories it
// made, and every ancestor up to the first one known durable, whether this
// append made dir or another one that has not fsynced it yet.
func (s *blobStore) prepareDir(dir string) ([]string, error) {
	if _, ok := s.durable.Load(dir); ok {
		return nil, nil
	}
	dirs, err := mkdirNoSync(dir, nil)
	if err != nil {
		return nil, err
	}
	for d := dir; ; d = filepath.Dir(d) {
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		if !slices.Contains(dirs, parent) {
			dirs = append(dirs, parent)
		}
		if _, ok := s.durable.Load(parent); ok {
			break
		}
	}
	return dirs, nil
}

// link writes data into a new file, fsyncs it and gives it the name p in
// dir, failing with fs.ErrExist when p exists. The file is unnamed until
// then where the system allows it (O_TMPFILE), so that a crash leaves
// nothing behind; elsewhere it has a temporary name, which the garbage
// collector removes after a crash.
func (s *blobStore) link(p, dir, sum string, data []byte) error {
	if !s.named.Load() {
		err := linkUnnamed(p, dir, data)
		if !errors.Is(err, errUnnamedUnsupported) {
			return err
		}
		s.named.Store(true)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+sum[:8]+"-*")
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := writeSync(f, p, data); err != nil {
		return err
	}
	err = os.Link(tmp, p)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return fs.ErrExist
	case !noHardLinks(err):
		return fmt.Errorf("put blob: %w", err)
	}
	// A file system without hard links: rename, after looking. Two
	// appends of the same bytes may both rename; the file is the same.
	if _, err := os.Stat(p); err == nil {
		return fs.ErrExist
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	return nil
}

// writeSync writes data to f, fsyncs and closes it.
func writeSync(f *os.File, p string, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("put blob %s: %w (is the disk full?)", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("put blob %s: fsync: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put blob %s: %w", p, err)
	}
	return nil
}

// markDurable records that dirs, just fsynced, are durable: each was the
// directory of a blob or the parent of one not known to be, so each one's
// own entry is durable too.
func (s *blobStore) markDurable(dirs []string) {
	for _, d := range dirs {
		s.durable.Store(d, struct{}{})
	}
}

// syncDirs fsyncs each distinct directory of dirs once, all at once: the
// file system commits concurrent fsyncs together, where one after another
// each would wait for the disk.
func syncDirs(dirs []string) error {
	if len(dirs) == 1 {
		return syncDir(dirs[0])
	}
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
	b, err := os.ReadFile(s.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(s.legacyPath(sum))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &faldone.Error{Code: faldone.ENOTFOUND, Message: fmt.Sprintf("blob %s not found", sum), Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	return b, nil
}

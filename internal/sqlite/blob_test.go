package sqlite

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// blobOf returns some bytes and their SHA-256 in hex.
func blobOf(s string) ([]byte, string) {
	b := []byte("%PDF-1.7\n" + s)
	return b, fmt.Sprintf("%x", sha256.Sum256(b))
}

// Blobs are written through an unnamed file where the system allows it and
// through a temporary name where it does not; either way the directories
// returned are the blob's and the parents of the new ones, a blob that
// exists is checked and not written again, and nothing temporary is left.
func TestBlobWrite(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(fmt.Sprintf("named=%v", named), func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "blobs")
			s, err := openBlobStore(root)
			if err != nil {
				t.Fatal(err)
			}
			s.named.Store(named)
			data, sum := blobOf("one")
			dirs, err := s.write(sum, data)
			if err != nil {
				t.Fatal(err)
			}
			leaf := filepath.Dir(s.path(sum))
			want := []string{root, leaf}
			if !slices.Equal(dirs, want) {
				t.Fatalf("dirs %v, want %v", dirs, want)
			}
			if got, err := os.ReadFile(s.path(sum)); err != nil || string(got) != string(data) {
				t.Fatalf("blob: %q, %v", got, err)
			}
			// Until the group has fsynced them, the next append into the
			// same directory fsyncs its parents again.
			if dirs, err = s.write(sum, data); err != nil || !slices.Equal(dirs, want) {
				t.Fatalf("again before durable: %v, %v", dirs, err)
			}
			if err := syncDirs(dirs); err != nil {
				t.Fatal(err)
			}
			s.markDurable(dirs)
			if dirs, err = s.write(sum, data); err != nil || !slices.Equal(dirs, []string{leaf}) {
				t.Fatalf("again when durable: %v, %v", dirs, err)
			}
			// A file under the name whose bytes are not the blob's is
			// reported, not overwritten.
			if err := os.WriteFile(s.path(sum), []byte("%PDF-1.7\nother"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := s.write(sum, data); err == nil || !strings.Contains(err.Error(), sum) {
				t.Fatalf("other bytes under %s: %v", sum, err)
			}
			if got, _ := os.ReadFile(s.path(sum)); string(got) != "%PDF-1.7\nother" {
				t.Fatal("the file changed")
			}
			checkNoTemporary(t, root)
			if named != s.named.Load() {
				t.Fatalf("named switched to %v", s.named.Load())
			}
		})
	}
}

// A directory removed after the store knew it durable is made again.
func TestBlobDirectoryRemoved(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	s, err := openBlobStore(root)
	if err != nil {
		t.Fatal(err)
	}
	data, sum := blobOf("two")
	if err := s.put(sum, data); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, sum[:2])); err != nil {
		t.Fatal(err)
	}
	dirs, err := s.write(sum, data)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(s.path(sum)); err != nil || string(got) != string(data) {
		t.Fatalf("blob: %q, %v", got, err)
	}
	if !slices.Contains(dirs, root) || !slices.Contains(dirs, filepath.Dir(s.path(sum))) {
		t.Fatalf("dirs %v lack the parents of the new directories", dirs)
	}
	// The whole store removed: it is made again, and the directory that
	// holds it is among those to fsync.
	if err := syncDirs(dirs); err != nil {
		t.Fatal(err)
	}
	s.markDurable(dirs)
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if dirs, err = s.write(sum, data); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dirs, filepath.Dir(root)) || !slices.Contains(dirs, root) {
		t.Fatalf("dirs %v lack the parents of the new directories", dirs)
	}
}

func checkNoTemporary(t *testing.T, root string) {
	t.Helper()
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(fi.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A PDF kept where archives written before kept it (blobs/ab/cd/) is read
// there and counts as present, so it is not written again under the
// write lock.
func TestBlobLegacyLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	s, err := openBlobStore(root)
	if err != nil {
		t.Fatal(err)
	}
	data, sum := blobOf("legacy")
	if err := os.MkdirAll(filepath.Dir(s.legacyPath(sum)), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.legacyPath(sum), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.get(sum); err != nil || string(got) != string(data) {
		t.Fatalf("get: %q, %v", got, err)
	}
	if ok, err := s.exists(sum); !ok || err != nil {
		t.Fatalf("exists: %v, %v", ok, err)
	}
	if s.path(sum) == s.legacyPath(sum) || filepath.Dir(filepath.Dir(s.path(sum))) != root {
		t.Fatalf("new blobs go to %s", s.path(sum))
	}
	_, other := blobOf("absent")
	if ok, err := s.exists(other); ok || err != nil {
		t.Fatalf("exists of an absent blob: %v, %v", ok, err)
	}
}

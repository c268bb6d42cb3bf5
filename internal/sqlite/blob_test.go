package sqlite

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"faldone/internal/faldone"
)

// A PDF an archive written before kept as a file is read from either of
// the two layouts those archives used, and one in neither is ENOTFOUND.
func TestBlobFileLayouts(t *testing.T) {
	s := fileBlobs{dir: filepath.Join(t.TempDir(), "blobs")}
	data := []byte("%PDF-1.7\nfile")
	sum := fmt.Sprintf("%x", sha256.Sum256(data))
	if s.path(sum) == s.legacyPath(sum) || filepath.Dir(filepath.Dir(s.path(sum))) != s.dir ||
		filepath.Dir(filepath.Dir(filepath.Dir(s.legacyPath(sum)))) != s.dir {
		t.Fatalf("layouts: %s, %s", s.path(sum), s.legacyPath(sum))
	}
	for _, p := range []string{s.path(sum), s.legacyPath(sum)} {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, name, err := s.get(sum)
		if err != nil || string(got) != string(data) || name != p {
			t.Fatalf("get from %s: %q, %s, %v", p, got, name, err)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.get(sum); faldone.ErrorCode(err) != faldone.ENOTFOUND {
		t.Fatalf("get of an absent file: %v", err)
	}
}

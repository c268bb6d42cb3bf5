package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"faldone/internal/auth"
	"faldone/internal/comuni"
	"faldone/internal/sqlite"
)

func TestWellFormed(t *testing.T) {
	good := "fk_" + strings.Repeat("aZ09-_", 7) + "x"
	for s, want := range map[string]bool{
		good:                            true,
		good[:len(good)-1]:              false,
		good + "x":                      false,
		"FK_" + good[3:]:                false,
		"fk_" + strings.Repeat("+", 43): false,
		"":                              false,
		"Bearer " + good:                false,
	} {
		if auth.WellFormed(s) != want {
			t.Errorf("WellFormed(%q) = %v", s, !want)
		}
	}
	for _, r := range auth.Roles {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	if auth.Role("root").Valid() || len(auth.Hash("x")) != 32 {
		t.Error("root is a role, or the hash is not SHA-256")
	}
}

// corrupt returns a stored hash other than the one asked for, as a
// damaged index or a collision would.
type corrupt struct{ auth.Store }

func (c corrupt) KeyByHash(ctx context.Context, h []byte) (*auth.Key, []byte, error) {
	k, stored, err := c.Store.KeyByHash(ctx, h)
	if err == nil {
		stored = append([]byte(nil), stored...)
		stored[31] ^= 1
	}
	return k, stored, err
}

// TestStoredHashIsCompared: the key is accepted only if the stored hash
// equals the presented key's, whatever the lookup returned.
func TestStoredHashIsCompared(t *testing.T) {
	dir := t.TempDir()
	a, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	reg, _ := comuni.Default()
	s := &auth.Service{Store: a, Comuni: reg}
	secret, _, err := s.Create(context.Background(), "x", auth.RoleStaff, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	s.Store = corrupt{a}
	if _, err := s.Authenticate(context.Background(), secret); err != auth.ErrUnauthenticated {
		t.Fatalf("mismatched stored hash: %v", err)
	}
}

package ledger

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"faldone/internal/audit"
)

// KeyName is the name of a log key created by [LoadKey], and so the origin
// of its checkpoints.
const KeyName = "faldone-audit-log"

// LoadKey returns the secret note key in path, creating it (mode 0600, and
// its directory) when create is set and the file does not exist. created
// reports that this call made it. Two processes creating the key at once
// end up with the same one: the file is created exclusively and the loser
// reads the winner's.
func LoadKey(path string, create bool) (skey string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return parseSecret(path, b)
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		return "", false, fmt.Errorf("log key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("log key: %w", err)
	}
	skey, _, err = audit.NewKey(KeyName)
	if err != nil {
		return "", false, fmt.Errorf("log key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".log-key-*")
	if err != nil {
		return "", false, fmt.Errorf("log key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(skey + "\n"); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("log key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("log key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", false, fmt.Errorf("log key: %w", err)
	}
	// A hard link fails if path exists: the first process to link wins.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadKey(path, false)
		}
		return "", false, fmt.Errorf("log key: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return skey, true, nil
}

func parseSecret(path string, b []byte) (string, bool, error) {
	skey := strings.TrimSpace(string(b))
	if _, err := PublicKey(skey); err != nil {
		return "", false, fmt.Errorf("log key %s: %w", path, err)
	}
	return skey, false, nil
}

// PublicKey returns the note verifier key matching the secret note key
// skey (as made by audit.NewKey).
func PublicKey(skey string) (string, error) {
	skey = strings.TrimSpace(skey)
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("not a secret note key (PRIVATE+KEY+name+hash+key)")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("not an Ed25519 secret note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return "", err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.KeyHash() != signer.KeyHash() {
		return "", errors.New("the secret key's hash does not match its key")
	}
	return vkey, nil
}

// LoadVerifierKey returns the public note key in path: the file holds
// either a public key or the secret key (whose public half is taken).
func LoadVerifierKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("log key: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, "PRIVATE+KEY+") {
		v, err := PublicKey(s)
		if err != nil {
			return "", fmt.Errorf("log key %s: %w", path, err)
		}
		return v, nil
	}
	if _, err := audit.NewVerifier(s); err != nil {
		return "", fmt.Errorf("log key %s: %w", path, err)
	}
	return s, nil
}

// Package auth is faldone's access control: API keys, the roles they
// carry, and the service that creates, checks, lists and revokes them.
//
// A key is 32 bytes from crypto/rand, shown once as "fk_" followed by
// their unpadded base64url encoding (46 characters in all), so that a key
// pasted where it should not be is easy to recognise and to scan for. The
// archive keeps only the key's SHA-256. A fast hash is enough here: a
// password needs a slow, salted hash because people choose guessable
// ones, but a key drawn uniformly from 2^256 values cannot be found by
// hashing candidates, whatever the hash costs, and an unsalted hash lets
// the store find a key by an index lookup. The stored hash is still
// compared with the presented one in constant time.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"faldone/internal/comuni"
	"faldone/internal/faldone"
)

// Role is what a key may do.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin"   // manages keys
	RoleStaff   Role = "staff"   // creates documents for any comune, reads all
	RoleComune  Role = "comune"  // reads, downloads and countersigns its own comune's documents only
	RoleAuditor Role = "auditor" // reads all, audit and verification endpoints
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleStaff, RoleComune, RoleAuditor}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Prefix starts every key.
const Prefix = "fk_"

// secretLen is the length of a key: the prefix and 32 bytes in unpadded
// base64url.
var secretLen = len(Prefix) + base64.RawURLEncoding.EncodedLen(32)

// Key describes an API key; the key itself is never stored.
type Key struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Role     Role       `json:"role"`
	Comune   string     `json:"comune,omitempty"` // ISTAT code, for and only for RoleComune
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

// Actor names the key as the author of a write in archive records:
// "key:<id> <name>".
func (k *Key) Actor() string { return "key:" + k.ID + " " + k.Name }

// Store keeps keys by the SHA-256 of their secret. Both archive engines
// implement it. Keys are not archive records: revoking one updates the
// key's row and nothing else.
type Store interface {
	// InsertKey stores a new key with the hash of its secret.
	InsertKey(ctx context.Context, k *Key, hash []byte) error
	// KeyByHash returns the key whose secret has this hash and the stored
	// hash, or ENOTFOUND. Revoked keys are returned too.
	KeyByHash(ctx context.Context, hash []byte) (*Key, []byte, error)
	// Keys lists every key, revoked ones included, oldest first.
	Keys(ctx context.Context) ([]*Key, error)
	// RevokeKey sets the revocation time of a key that has none; revoking
	// a revoked key changes nothing. ENOTFOUND if there is no such key.
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// TouchKey records when a key was last used.
	TouchKey(ctx context.Context, id string, at time.Time) error
}

// Service manages keys on a Store.
type Service struct {
	Store  Store            // Required.
	Comuni *comuni.Registry // Required: comune keys are checked against it.
	// Now returns the current time. Optional: time.Now.
	Now func() time.Time
}

// touchEvery is how stale LastUsed may get before Authenticate writes it
// again: at most one write per key and minute, not one per request.
const touchEvery = time.Minute

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Hash returns the SHA-256 of a key's secret, as stored.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// WellFormed reports whether secret has the shape of a key: the prefix and
// 43 base64url characters. It says nothing of whether the key exists.
func WellFormed(secret string) bool {
	rest, ok := strings.CutPrefix(secret, Prefix)
	if !ok || len(secret) != secretLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

// invalid returns an EINVALID error with a localised message.
func invalid(id, msg string, params map[string]any) error {
	return &faldone.Error{Code: faldone.EINVALID, MessageID: id, Message: msg, Params: params}
}

// Check validates what a new key is made of: a name of 1 to 100
// printable characters, a known role, and an ISTAT code of the registry
// for and only for the comune role.
func (s *Service) Check(name string, role Role, comune string) error {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return invalid("error.key_name", "the name must have 1 to 100 printable characters", nil)
	}
	if !role.Valid() {
		return invalid("error.key_role", "the role must be admin, staff, comune or auditor", map[string]any{"Role": string(role)})
	}
	switch {
	case role == RoleComune && comune == "":
		return invalid("error.key_comune_required", "a comune key needs the comune's ISTAT code", nil)
	case role != RoleComune && comune != "":
		return invalid("error.key_comune_only", "only comune keys are bound to a comune", nil)
	case role == RoleComune:
		if _, ok := s.Comuni.Lookup(comune); !ok {
			return invalid("error.comune_unknown", "no comune has this ISTAT code", map[string]any{"Code": comune})
		}
	}
	return nil
}

// Create makes a new key and returns it with its secret, which is shown
// this once and never stored.
func (s *Service) Create(ctx context.Context, name string, role Role, comune string) (string, *Key, error) {
	if err := s.Check(name, role, comune); err != nil {
		return "", nil, err
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(random(32))
	k := &Key{
		ID:      idEncoding.EncodeToString(random(10)),
		Name:    strings.TrimSpace(name),
		Role:    role,
		Comune:  comune,
		Created: s.now().UTC().Truncate(time.Microsecond),
	}
	if err := s.Store.InsertKey(ctx, k, Hash(secret)); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// ErrUnauthenticated is the one answer to a key that is malformed,
// unknown or revoked: the caller learns nothing of which.
var ErrUnauthenticated = &faldone.Error{Code: faldone.EUNAUTHORIZED, MessageID: "error.key_invalid", Message: "a valid API key is needed"}

// Authenticate returns the live key of secret, or ErrUnauthenticated. It
// records the time of use at most once a minute per key.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Key, error) {
	if !WellFormed(secret) {
		return nil, ErrUnauthenticated
	}
	h := Hash(secret)
	k, stored, err := s.Store.KeyByHash(ctx, h)
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(h, stored) != 1 || k.Revoked != nil {
		return nil, ErrUnauthenticated
	}
	now := s.now().UTC()
	if k.LastUsed == nil || now.Sub(*k.LastUsed) >= touchEvery {
		if err := s.Store.TouchKey(ctx, k.ID, now); err == nil {
			k.LastUsed = &now
		}
	}
	return k, nil
}

// AuthenticateHash returns the live key whose secret has the SHA-256 h,
// for a holder that keeps only the hash (a web session); errors as
// Authenticate.
func (s *Service) AuthenticateHash(ctx context.Context, h []byte) (*Key, error) {
	k, stored, err := s.Store.KeyByHash(ctx, h)
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(h, stored) != 1 || k.Revoked != nil {
		return nil, ErrUnauthenticated
	}
	return k, nil
}

// List returns every key, revoked ones included, oldest first.
func (s *Service) List(ctx context.Context) ([]*Key, error) { return s.Store.Keys(ctx) }

// Revoke revokes a key from now on. Revoking a revoked key is not an
// error; an unknown id is ENOTFOUND.
func (s *Service) Revoke(ctx context.Context, id string) error {
	return s.Store.RevokeKey(ctx, id, s.now().UTC().Truncate(time.Microsecond))
}

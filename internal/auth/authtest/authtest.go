// Package authtest is the conformance suite of [auth.Store]: every archive
// engine runs it on its real database.
package authtest

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"faldone/internal/auth"
	"faldone/internal/comuni"
	"faldone/internal/faldone"
)

// Run runs the suite. open MUST return a new, empty store for each call
// and close it when t ends.
func Run(t *testing.T, open func(t *testing.T) auth.Store) {
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC)
	svc := func(t *testing.T) (*auth.Service, *time.Time) {
		now := clock
		return &auth.Service{Store: open(t), Comuni: reg, Now: func() time.Time { return now }}, &now
	}
	ctx := context.Background()

	t.Run("create and authenticate", func(t *testing.T) {
		s, now := svc(t)
		seen := map[string]bool{}
		for _, tc := range []struct {
			role   auth.Role
			comune string
		}{{auth.RoleAdmin, ""}, {auth.RoleStaff, ""}, {auth.RoleComune, "065027"}, {auth.RoleAuditor, ""}} {
			*now = now.Add(time.Second)
			secret, k, err := s.Create(ctx, "  key of "+string(tc.role)+" ", tc.role, tc.comune)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^fk_[A-Za-z0-9_-]{43}$`).MatchString(secret) || !auth.WellFormed(secret) || seen[secret] || seen[k.ID] {
				t.Fatalf("secret %q / id %q", secret, k.ID)
			}
			seen[secret], seen[k.ID] = true, true
			got, err := s.Authenticate(ctx, secret)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != k.ID || got.Role != tc.role || got.Comune != tc.comune || got.Name != "key of "+string(tc.role) || !got.Created.Equal(now.Truncate(time.Microsecond)) || got.Revoked != nil {
				t.Errorf("authenticated %+v, created %+v", got, k)
			}
			stored, hash, err := s.Store.KeyByHash(ctx, auth.Hash(secret))
			if err != nil || !bytes.Equal(hash, auth.Hash(secret)) || stored.ID != k.ID {
				t.Errorf("by hash: %v %x", err, hash)
			}
			if stored.LastUsed == nil || !stored.LastUsed.Equal(now.Truncate(time.Microsecond)) {
				t.Errorf("last used %v", stored.LastUsed)
			}
		}
		keys, err := s.List(ctx)
		if err != nil || len(keys) != 4 {
			t.Fatalf("list: %v %d", err, len(keys))
		}
		if keys[2].Role != auth.RoleComune || keys[2].Comune != "065027" || keys[0].Comune != "" {
			t.Errorf("list = %+v", keys)
		}
	})

	t.Run("unknown, malformed and revoked are one answer", func(t *testing.T) {
		s, now := svc(t)
		secret, k, err := s.Create(ctx, "ufficio", auth.RoleStaff, "")
		if err != nil {
			t.Fatal(err)
		}
		*now = now.Add(time.Second)
		other, _, err := s.Create(ctx, "other", auth.RoleStaff, "")
		if err != nil {
			t.Fatal(err)
		}
		flipped := []byte(secret)
		flipped[10] ^= 1
		for _, bad := range []string{"", "fk_", secret[:len(secret)-1], secret + "A", "Bearer " + secret, string(flipped), "fk_" + "!" + secret[4:]} {
			if _, err := s.Authenticate(ctx, bad); err != auth.ErrUnauthenticated {
				t.Errorf("Authenticate(%q) = %v", bad, err)
			}
		}
		*now = now.Add(time.Hour)
		if err := s.Revoke(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); err != auth.ErrUnauthenticated {
			t.Errorf("revoked key: %v", err)
		}
		if _, err := s.Authenticate(ctx, other); err != nil {
			t.Errorf("revoking one key revoked another: %v", err)
		}
		*now = now.Add(time.Hour)
		if err := s.Revoke(ctx, k.ID); err != nil {
			t.Errorf("revoke twice: %v", err)
		}
		keys, _ := s.List(ctx)
		if len(keys) != 2 || keys[0].Revoked == nil || !keys[0].Revoked.Equal(clock.Add(time.Hour+time.Second).Truncate(time.Microsecond)) || keys[1].Revoked != nil {
			t.Errorf("after revocation: %+v %+v", keys[0], keys[1])
		}
		if err := s.Revoke(ctx, "nosuchkey"); faldone.ErrorCode(err) != faldone.ENOTFOUND {
			t.Errorf("revoke unknown: %v", err)
		}
	})

	t.Run("last use is written at most once a minute", func(t *testing.T) {
		s, now := svc(t)
		secret, _, _ := s.Create(ctx, "x", auth.RoleAuditor, "")
		use := func() time.Time {
			if _, err := s.Authenticate(ctx, secret); err != nil {
				t.Fatal(err)
			}
			k, _, _ := s.Store.KeyByHash(ctx, auth.Hash(secret))
			return *k.LastUsed
		}
		first := use()
		*now = now.Add(30 * time.Second)
		if got := use(); !got.Equal(first) {
			t.Errorf("touched after 30s: %v", got)
		}
		*now = now.Add(31 * time.Second)
		if got := use(); !got.Equal(now.Truncate(time.Microsecond)) {
			t.Errorf("not touched after 61s: %v", got)
		}
	})

	t.Run("what a key is made of is checked", func(t *testing.T) {
		s, _ := svc(t)
		for _, tc := range []struct {
			name   string
			role   auth.Role
			comune string
			msg    string
		}{
			{"", auth.RoleStaff, "", "error.key_name"},
			{"a\x00b", auth.RoleStaff, "", "error.key_name"},
			{string(bytes.Repeat([]byte("n"), 101)), auth.RoleStaff, "", "error.key_name"},
			{"x", "root", "", "error.key_role"},
			{"x", auth.RoleComune, "", "error.key_comune_required"},
			{"x", auth.RoleStaff, "065027", "error.key_comune_only"},
			{"x", auth.RoleComune, "999999", "error.comune_unknown"},
		} {
			_, _, err := s.Create(ctx, tc.name, tc.role, tc.comune)
			var de *faldone.Error
			if faldone.ErrorCode(err) != faldone.EINVALID || !errors.As(err, &de) || de.MessageID != tc.msg {
				t.Errorf("Create(%q, %q, %q) = %v, want %s", tc.name, tc.role, tc.comune, err, tc.msg)
			}
		}
		if keys, _ := s.List(ctx); len(keys) != 0 {
			t.Errorf("refused keys were stored: %+v", keys)
		}
	})

	t.Run("the store enforces its invariants", func(t *testing.T) {
		s, _ := svc(t)
		secret, _, _ := s.Create(ctx, "x", auth.RoleStaff, "")
		dup := &auth.Key{ID: "dupid", Name: "dup", Role: auth.RoleStaff, Created: clock}
		if err := s.Store.InsertKey(ctx, dup, auth.Hash(secret)); err == nil {
			t.Error("a second key with the same hash was stored")
		}
		bad := &auth.Key{ID: "badid", Name: "bad", Role: auth.RoleStaff, Comune: "065027", Created: clock}
		if err := s.Store.InsertKey(ctx, bad, auth.Hash("fk_other")); err == nil {
			t.Error("a staff key bound to a comune was stored")
		}
	})
}

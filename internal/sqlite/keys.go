package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"faldone/internal/auth"
	"faldone/internal/faldone"
)

var _ auth.Store = (*Archive)(nil)

const keyCols = `id, name, role, coalesce(comune, ''), created_at, last_used_at, revoked_at, hash`

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// scanKey reads one api_keys row.
func scanKey(sc interface{ Scan(...any) error }) (*auth.Key, []byte, error) {
	var (
		k             auth.Key
		role, created string
		used, revoked sql.NullString
		hash          []byte
	)
	if err := sc.Scan(&k.ID, &k.Name, &role, &k.Comune, &created, &used, &revoked, &hash); err != nil {
		return nil, nil, err
	}
	k.Role = auth.Role(role)
	var err error
	if k.Created, err = parseTime(created); err != nil {
		return nil, nil, err
	}
	for _, f := range []struct {
		s   sql.NullString
		dst **time.Time
	}{{used, &k.LastUsed}, {revoked, &k.Revoked}} {
		if f.s.Valid {
			t, err := parseTime(f.s.String)
			if err != nil {
				return nil, nil, err
			}
			*f.dst = &t
		}
	}
	return &k, hash, nil
}

// InsertKey stores a new API key with the SHA-256 of its secret.
func (a *Archive) InsertKey(ctx context.Context, k *auth.Key, hash []byte) error {
	var comune any
	if k.Comune != "" {
		comune = k.Comune
	}
	_, err := a.w.ExecContext(ctx, `INSERT INTO api_keys (id, hash, name, role, comune, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, hash, k.Name, string(k.Role), comune, formatTime(k.Created))
	if err != nil {
		return classify(fmt.Errorf("insert key: %w", err))
	}
	return nil
}

// KeyByHash returns the key whose secret has this SHA-256, or ENOTFOUND.
func (a *Archive) KeyByHash(ctx context.Context, hash []byte) (*auth.Key, []byte, error) {
	k, h, err := scanKey(a.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, faldone.Errorf(faldone.ENOTFOUND, "key not found")
	}
	if err != nil {
		return nil, nil, classify(fmt.Errorf("key by hash: %w", err))
	}
	return k, h, nil
}

// Keys lists every API key, oldest first.
func (a *Archive) Keys(ctx context.Context) ([]*auth.Key, error) {
	rows, err := a.r.QueryContext(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, classify(fmt.Errorf("list keys: %w", err))
	}
	defer rows.Close()
	out := []*auth.Key{}
	for rows.Next() {
		k, _, err := scanKey(rows)
		if err != nil {
			return nil, classify(fmt.Errorf("list keys: %w", err))
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("list keys: %w", err))
	}
	return out, nil
}

// RevokeKey sets the revocation time of a key, unless it is revoked
// already; ENOTFOUND if there is no such key.
func (a *Archive) RevokeKey(ctx context.Context, id string, at time.Time) error {
	res, err := a.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, formatTime(at), id)
	if err != nil {
		return classify(fmt.Errorf("revoke key: %w", err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return faldone.Errorf(faldone.ENOTFOUND, "key %s not found", id)
	}
	return nil
}

// TouchKey records when a key was last used.
func (a *Archive) TouchKey(ctx context.Context, id string, at time.Time) error {
	if _, err := a.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, formatTime(at), id); err != nil {
		return classify(fmt.Errorf("touch key: %w", err))
	}
	return nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"faldone/internal/auth"
	"faldone/internal/faldone"
)

var _ auth.Store = (*Archive)(nil)

const keyCols = `id, name, role, coalesce(comune, ''), created_at, last_used_at, revoked_at, hash`

// scanKey reads one api_keys row.
func scanKey(row pgx.Row) (*auth.Key, []byte, error) {
	var (
		k    auth.Key
		role string
		hash []byte
	)
	if err := row.Scan(&k.ID, &k.Name, &role, &k.Comune, &k.Created, &k.LastUsed, &k.Revoked, &hash); err != nil {
		return nil, nil, err
	}
	k.Role = auth.Role(role)
	k.Created = k.Created.UTC()
	for _, t := range []**time.Time{&k.LastUsed, &k.Revoked} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
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
	_, err := a.pool.Exec(ctx, `INSERT INTO api_keys (id, hash, name, role, comune, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, hash, k.Name, string(k.Role), comune, k.Created)
	if err != nil {
		return classify(fmt.Errorf("insert key: %w", err))
	}
	return nil
}

// KeyByHash returns the key whose secret has this SHA-256, or ENOTFOUND.
func (a *Archive) KeyByHash(ctx context.Context, hash []byte) (*auth.Key, []byte, error) {
	k, h, err := scanKey(a.pool.QueryRow(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, faldone.Errorf(faldone.ENOTFOUND, "key not found")
	}
	if err != nil {
		return nil, nil, classify(fmt.Errorf("key by hash: %w", err))
	}
	return k, h, nil
}

// Keys lists every API key, oldest first.
func (a *Archive) Keys(ctx context.Context) ([]*auth.Key, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY created_at, id`)
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
	tag, err := a.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, at, id)
	if err != nil {
		return classify(fmt.Errorf("revoke key: %w", err))
	}
	if tag.RowsAffected() == 0 {
		return faldone.Errorf(faldone.ENOTFOUND, "key %s not found", id)
	}
	return nil
}

// TouchKey records when a key was last used.
func (a *Archive) TouchKey(ctx context.Context, id string, at time.Time) error {
	if _, err := a.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, at, id); err != nil {
		return classify(fmt.Errorf("touch key: %w", err))
	}
	return nil
}

package postgres

import (
	"context"
	"fmt"
)

// Ready reports whether the archive can take writes now: the server
// answers and is not a read-only standby. It returns EUNAVAILABLE when
// the server cannot be reached.
func (a *Archive) Ready(ctx context.Context) error {
	var standby bool
	if err := a.pool.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil {
		return classify(fmt.Errorf("postgres archive %s: %w", a.name, err))
	}
	if standby {
		return unavailable(fmt.Errorf("postgres archive %s is a read-only standby", a.name))
	}
	return nil
}

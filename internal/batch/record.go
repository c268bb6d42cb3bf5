package batch

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"faldone/internal/queue"
)

// result is an item's outcome waiting to be recorded.
type result struct {
	batch                string
	seq                  int
	state                string
	comune, sum, problem any
	done                 chan error
}

// maxGroup is the most results committed in one transaction.
const maxGroup = 256

// record hands rs to the recorder and waits until they are committed.
// The recorder commits the results finished meanwhile in one transaction
// (a group commit): on SQLite, where every commit waits for the disk, one
// commit per item would make the workers queue for it.
func (s *Service) record(ctx context.Context, rs ...*result) error {
	if len(rs) == 0 {
		return nil
	}
	s.startRecorder.Do(func() {
		s.results = make(chan *result, maxGroup)
		go s.recorder()
	})
	for _, r := range rs {
		select {
		case s.results <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, r := range rs {
		select {
		case err := <-r.done:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// recorder commits results in groups, for the life of the process.
func (s *Service) recorder() {
	for r := range s.results {
		group := []*result{r}
	more:
		for len(group) < maxGroup {
			select {
			case r := <-s.results:
				group = append(group, r)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.Queue.Tx(ctx, func(tx *sql.Tx) error { return s.apply(ctx, tx, group...) })
		cancel()
		if err != nil && len(group) > 1 {
			// One bad result must not fail the others: apply them one by one.
			for _, r := range group {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				r.done <- s.Queue.Tx(ctx, func(tx *sql.Tx) error { return s.apply(ctx, tx, r) })
				cancel()
			}
			continue
		}
		for _, r := range group {
			r.done <- err
		}
	}
}

// apply records the items' results in tx, counts each batch down by the
// items it recorded (one statement per batch, not per item), and
// finishes a batch with its last item.
func (s *Service) apply(ctx context.Context, tx *sql.Tx, rs ...*result) error {
	now := s.now().Format(time.RFC3339Nano)
	var batches []string
	counted := map[string]int{}
	var queued map[itemKey]bool
	if s.Queue.Engine == queue.Postgres && len(rs) > 1 && distinct(rs) {
		var err error
		if queued, err = applyQueued(ctx, tx, now, rs); err != nil {
			return err
		}
	}
	for _, r := range rs {
		var recorded bool
		if queued != nil {
			recorded = queued[itemKey{r.batch, r.seq}]
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE batch_items SET state = $1, comune = $2, sha256 = $3, problem = $4, updated_at = $5
			WHERE batch_id = $6 AND seq = $7 AND state = $8`,
				r.state, r.comune, r.sum, r.problem, now, r.batch, r.seq, ItemQueued)
			if err != nil {
				return fmt.Errorf("record item %d of batch %s: %w", r.seq, r.batch, err)
			}
			n, _ := res.RowsAffected()
			recorded = n > 0
		}
		if !recorded {
			// Cancelled meanwhile (or recorded already): an item whose
			// document was archived anyway is done all the same.
			if _, err := tx.ExecContext(ctx, `UPDATE batch_items SET state = $1, comune = $2, sha256 = $3, problem = $4, updated_at = $5
			WHERE batch_id = $6 AND seq = $7 AND state = $8`,
				r.state, r.comune, r.sum, r.problem, now, r.batch, r.seq, ItemCancelled); err != nil {
				return fmt.Errorf("record item %d of batch %s: %w", r.seq, r.batch, err)
			}
			continue
		}
		if _, ok := counted[r.batch]; !ok {
			batches = append(batches, r.batch)
		}
		counted[r.batch]++
	}
	for _, b := range batches {
		if err := s.countDown(ctx, tx, b, counted[b], now); err != nil {
			return err
		}
	}
	return nil
}

// distinct reports whether no item has two results in rs (a job run again
// could give one twice): one statement for all must count each once.
func distinct(rs []*result) bool {
	seen := make(map[itemKey]bool, len(rs))
	for _, r := range rs {
		k := itemKey{r.batch, r.seq}
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// countDown subtracts n recorded items from batch's remaining ones and
// finishes the batch when none is left.
func (s *Service) countDown(ctx context.Context, tx *sql.Tx, batch string, n int, now string) error {
	var left int
	if err := tx.QueryRowContext(ctx, `UPDATE batches SET remaining = remaining - $1 WHERE id = $2 RETURNING remaining`, n, batch).Scan(&left); err != nil {
		return fmt.Errorf("count down batch %s: %w", batch, err)
	}
	if left > 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE batches SET state = $1, finished_at = $2 WHERE id = $3 AND state = $4`, StateDone, now, batch, StateRunning)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return s.emitDone(ctx, tx, batch)
	}
	return nil
}

// itemKey names an item of a batch.
type itemKey struct {
	batch string
	seq   int
}

// applyQueued records the results of the items of rs still queued in one
// statement (PostgreSQL: one round trip for a group instead of one an
// item) and returns which ones it recorded.
func applyQueued(ctx context.Context, tx *sql.Tx, now string, rs []*result) (map[itemKey]bool, error) {
	n := len(rs)
	ids, states := make([]string, n), make([]string, n)
	seqs := make([]int64, n)
	comunes, sums, problems := make([]*string, n), make([]*string, n), make([]*string, n)
	str := func(v any) *string {
		if s, ok := v.(string); ok {
			return &s
		}
		return nil
	}
	for i, r := range rs {
		ids[i], seqs[i], states[i] = r.batch, int64(r.seq), r.state
		comunes[i], sums[i], problems[i] = str(r.comune), str(r.sum), str(r.problem)
	}
	rows, err := tx.QueryContext(ctx, `UPDATE batch_items AS b
		SET state = u.state, comune = u.comune, sha256 = u.sha256, problem = u.problem, updated_at = $1
		FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(batch_id, seq, state, comune, sha256, problem)
		WHERE b.batch_id = u.batch_id AND b.seq = u.seq AND b.state = $8
		RETURNING b.batch_id, b.seq`, now, ids, seqs, states, comunes, sums, problems, ItemQueued)
	if err != nil {
		return nil, fmt.Errorf("record %d items: %w", n, err)
	}
	defer rows.Close()
	done := make(map[itemKey]bool, n)
	for rows.Next() {
		var k itemKey
		if err := rows.Scan(&k.batch, &k.seq); err != nil {
			return nil, fmt.Errorf("record %d items: %w", n, err)
		}
		done[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record %d items: %w", n, err)
	}
	return done, nil
}

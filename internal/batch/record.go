package batch

import (
	"context"
	"database/sql"
	"fmt"
	"time"
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
	for _, r := range rs {
		res, err := tx.ExecContext(ctx, `UPDATE batch_items SET state = $1, comune = $2, sha256 = $3, problem = $4, updated_at = $5
		WHERE batch_id = $6 AND seq = $7 AND state = $8`,
			r.state, r.comune, r.sum, r.problem, now, r.batch, r.seq, ItemQueued)
		if err != nil {
			return fmt.Errorf("record item %d of batch %s: %w", r.seq, r.batch, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
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

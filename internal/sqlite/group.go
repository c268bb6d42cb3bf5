package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// maxGroup is the most appends one transaction commits.
const maxGroup = 128

// pending is an append waiting for its group.
type pending struct {
	rec  *faldone.Record
	pdf  []byte
	leaf int64
	err  error
	done chan struct{}
}

// committer commits the appends of an archive in groups. Appends queue on
// a channel with their PDFs; one goroutine takes the first one and every
// other one already waiting (up to maxGroup), and inserts them all, each
// record with its PDF, in one transaction, each under its own savepoint so
// that a refused append (a version conflict, a clock gone backwards)
// leaves the others in. Only after the commit, which fsyncs the WAL once,
// is each append answered: nothing is acknowledged before it is durable.
// Appends that wait while a group commits form the next one, so that the
// more appends arrive at once, the fewer fsyncs each costs.
type committer struct {
	archive.Group[*pending]
	a *Archive

	// Counters, for tests and metrics.
	groups  atomic.Int64 // transactions committed or rolled back
	appends atomic.Int64 // appends committed
}

func (c *committer) start(a *Archive) {
	c.a = a
	c.Start(maxGroup, c.commit)
}

// stop commits what is queued and ends the goroutine; later appends fail.
func (c *committer) stop() { c.Stop() }

// append queues rec and waits until its group is durable. It waits
// whatever happens to the caller's context: once queued, an append is
// committed or refused, never left in doubt.
func (c *committer) append(rec *faldone.Record, pdf []byte) (int64, error) {
	p := &pending{rec: rec, pdf: pdf, done: make(chan struct{})}
	if !c.Submit(p, func() { <-p.done }) {
		return 0, &faldone.Error{Code: faldone.EUNAVAILABLE, Message: "the archive is closed"}
	}
	return p.leaf, p.err
}

// commit writes one group and answers its appends.
func (c *committer) commit(group []*pending) {
	defer func() {
		for _, p := range group {
			close(p.done)
		}
	}()
	if err := c.a.reserve(group); err != nil {
		failAll(group, err)
		return
	}
	c.write(group)
}

// failAll gives err to every append of group not refused already.
func failAll(group []*pending, err error) {
	for _, p := range group {
		if p.err == nil {
			p.err = err
		}
	}
}

// write inserts the appends of group not refused already in one
// transaction and commits it. When SQLite rolls the whole transaction
// back in the middle of the group (as it does when the disk is full),
// the append that failed and those after it are refused as it was, and
// those before it, which fitted, are written again in a new transaction.
func (c *committer) write(group []*pending) {
	ctx := context.Background()
	c.groups.Add(1)
	sqlTx, err := c.a.w.BeginTx(ctx, nil)
	if err != nil {
		failAll(group, classify(fmt.Errorf("append: %w", busyHint(err))))
		return
	}
	tx := newPreparedTx(sqlTx, c.a.stmts)
	defer tx.Rollback()
	ok := 0
	for i, p := range group {
		if p.err != nil {
			continue // refused before the transaction
		}
		if _, err := tx.ExecContext(ctx, qSavepoint); err != nil {
			failAll(group, classify(fmt.Errorf("append: %w", err)))
			return
		}
		leaf, err := c.a.insert(ctx, tx, p.rec, p.pdf)
		if err != nil {
			p.err = err
			if _, rbErr := tx.ExecContext(ctx, qRollbackTo); rbErr != nil {
				failAll(group[i+1:], classify(fmt.Errorf("append: %w", errors.Join(err, rbErr))))
				tx.Rollback()
				if ok > 0 {
					c.write(group[:i])
				}
				return
			}
		} else {
			p.leaf = leaf
			ok++
		}
		if _, err := tx.ExecContext(ctx, qRelease); err != nil {
			failAll(group, classify(fmt.Errorf("append: %w", err)))
			return
		}
	}
	if ok == 0 {
		return // every append was refused: nothing to commit
	}
	if err := tx.Commit(); err != nil {
		err = busyHint(err)
		var fe *faldone.Error
		if !errors.As(err, &fe) {
			err = classify(fmt.Errorf("append: %w", err))
		}
		failAll(group, err)
		return
	}
	c.appends.Add(int64(ok))
}

// GroupStats counts the append transactions of the archive since it was
// opened and the appends they committed: their ratio is the mean group.
func (a *Archive) GroupStats() (transactions, appends int64) {
	return a.group.groups.Load(), a.group.appends.Load()
}

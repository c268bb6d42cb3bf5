package postgres

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"faldone/internal/archive"
	"faldone/internal/faldone"
)

// maxGroup is the most appends one transaction commits.
const maxGroup = 128

// pending is an append waiting for its group.
type pending struct {
	rec  *faldone.Record
	pdf  []byte // nil when the PDF is in the object store
	leaf int64
	err  error
	done chan struct{}
}

// committer commits the appends of this instance in groups: appends
// queue on a channel, and one goroutine takes every one waiting (up to
// maxGroup) and inserts them in one transaction, under one lock of the
// log head and with one commit (one WAL flush), then answers each. An
// append refused by the version rules or the clock writes nothing and
// leaves the others of its group in; any other error rolls the group back
// and is every member's answer. Nothing is acknowledged before its commit.
// Instances sharing the database still take the log head's row lock in
// turn, one group at a time.
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

// append queues rec and waits for its group's commit, whatever happens to
// the caller's context: once queued, an append is committed or refused,
// never left in doubt.
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
	c.groups.Add(1)
	ctx := context.Background()
	ok := 0
	err := pgx.BeginFunc(ctx, c.a.pool, func(tx pgx.Tx) error {
		ok = 0
		if _, err := tx.Exec(ctx, `SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE`); err != nil {
			return classify(fmt.Errorf("lock log head: %w", err))
		}
		for _, p := range group {
			p.err = nil
			leaf, err := appendTx(ctx, tx, p.rec, p.pdf)
			switch {
			case err == nil:
				p.leaf = leaf
				ok++
			case faldone.ErrorCode(err) != faldone.EINTERNAL || archive.IsStoredBlobDiffers(err):
				p.err = err // refused before writing: the others go on
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, p := range group {
			if p.err == nil {
				p.err = err
			}
		}
		return
	}
	c.appends.Add(int64(ok))
}

// GroupStats counts the append transactions of this instance since it was
// opened and the appends they committed: their ratio is the mean group.
func (a *Archive) GroupStats() (transactions, appends int64) {
	return a.group.groups.Load(), a.group.appends.Load()
}

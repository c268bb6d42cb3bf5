// Package batch makes many documents of one kind at once: a batch is
// accepted at once, its items are jobs of the durable queue, and each item
// is rendered, sealed and archived exactly as a single request is (the
// same docs.Service call), with its result, the document's id or the
// problem, kept per item.
//
// No item is done twice and none is lost: a batch, its items and their
// jobs commit in one transaction; every item's document id is chosen then,
// so a job run again after a crash finds its document archived (or
// archives it, version 1 of that id, at most once); and the item's result
// is committed before its job completes, so a job run again finds its item
// done and does nothing.
package batch

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/queue"
	"faldone/internal/tmpl"
)

// Batch states.
const (
	StateRunning   = "running"
	StateDone      = "done"
	StateCancelled = "cancelled"
)

// Item states.
const (
	ItemQueued    = "queued"
	ItemDone      = "done"
	ItemFailed    = "failed"
	ItemCancelled = "cancelled"
)

// MaxItemsDefault is the largest batch accepted when Service.MaxItems is 0.
const MaxItemsDefault = 10000

// Batch is a batch and its progress.
type Batch struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Lang      string     `json:"lang"`
	Actor     string     `json:"actor"`
	State     string     `json:"state"`
	Total     int        `json:"total"`
	Queued    int        `json:"queued"`
	Done      int        `json:"done"`
	Failed    int        `json:"failed"`
	Cancelled int        `json:"cancelled"`
	Created   time.Time  `json:"created"`
	Finished  *time.Time `json:"finished,omitempty"`
}

// Over reports whether no item of b is left to do.
func (b *Batch) Over() bool { return b.State != StateRunning }

// Problem is why an item failed: a problem code of the API and its
// details, as a single request would have answered.
type Problem struct {
	Code   string               `json:"code"`
	Detail string               `json:"detail,omitempty"`
	Errors []faldone.FieldError `json:"errors,omitempty"`
}

// Item is the result of one input of a batch.
type Item struct {
	Seq        int      `json:"seq"`
	State      string   `json:"state"`
	DocumentID string   `json:"document_id"`
	Comune     string   `json:"comune,omitempty"`
	SHA256     string   `json:"sha256,omitempty"`
	Problem    *Problem `json:"problem,omitempty"`
}

// Emitter queues an event for the subscribers, in the transaction tx of
// the change it reports.
type Emitter interface {
	EmitTx(ctx context.Context, tx *sql.Tx, typ string, data any) error
}

// Service keeps batches in the queue's database and works their items.
type Service struct {
	Queue     *queue.Queue  // Required.
	Docs      *docs.Service // Required.
	Templates *tmpl.Set     // Required.
	// Events receives batch.done. Optional.
	Events Emitter
	// MaxItems is the largest batch accepted. Optional: default
	// MaxItemsDefault.
	MaxItems int
	// Now is the clock. Optional: default time.Now.
	Now func() time.Time

	startRecorder sync.Once
	results       chan *result
	// cancelled holds the batches this process cancelled, so that its
	// workers stop at the next item; workers of other processes see the
	// cancellation when they read their next job's items.
	cancelled sync.Map
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// itemArgs is the job of a run of items, First to Last: one job per
// item would cost the queue a few commits per document, each waiting for
// the disk on SQLite.
type itemArgs struct {
	Batch string `json:"batch"`
	First int    `json:"first"`
	Last  int    `json:"last"`
}

// Kind implements river.JobArgs.
func (itemArgs) Kind() string { return "faldone.batch_items" }

// chunk is how many items one job works, one after another.
const chunk = 24

// itemAttempts is how often an item is tried before its failure is
// recorded as its result.
const itemAttempts = 5

// Register adds the item worker to the queue; call it before the queue's
// client is made.
func (s *Service) Register() {
	river.AddWorker(s.Queue.Workers, &worker{s: s})
}

// Request is a new batch.
type Request struct {
	Kind  string
	Lang  string
	Actor string
	// IdempotencyKey makes a retried request answer the batch the first
	// one made. Optional.
	IdempotencyKey string
	// Items are the inputs, each a JSON object as POST /v1/documents/{kind}
	// takes.
	Items [][]byte
}

// Create stores a batch and queues its items, all or nothing, and
// returns it. With an idempotency key already used by the same actor it
// returns that batch and created false, or ECONFLICT when the request
// differs. It returns ENOTFOUND for an unknown kind and EINVALID for an
// empty or oversized batch.
func (s *Service) Create(ctx context.Context, req Request) (b *Batch, created bool, err error) {
	if _, ok := s.Templates.Template(req.Kind); !ok {
		return nil, false, &faldone.Error{Code: faldone.ENOTFOUND, MessageID: "error.unknown_kind", Params: map[string]any{"Kind": req.Kind}, Message: fmt.Sprintf("unknown document kind %q", req.Kind)}
	}
	max := s.MaxItems
	if max <= 0 {
		max = MaxItemsDefault
	}
	switch {
	case len(req.Items) == 0:
		return nil, false, faldone.Errorf(faldone.EINVALID, "the batch has no items")
	case len(req.Items) > max:
		return nil, false, faldone.Errorf(faldone.EINVALID, "the batch has %d items, more than the %d allowed: split it", len(req.Items), max)
	}
	if len(req.IdempotencyKey) > 255 {
		return nil, false, faldone.Errorf(faldone.EINVALID, "the Idempotency-Key is longer than 255 characters")
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", req.Kind, req.Lang)
	for _, it := range req.Items {
		fmt.Fprintf(h, "%d\x00", len(it))
		h.Write(it)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if req.IdempotencyKey != "" {
		if b, err := s.byKey(ctx, req.Actor, req.IdempotencyKey, sum); b != nil || err != nil {
			return b, false, err
		}
	}
	id := docs.NewID()
	now := s.now()
	client := s.Queue.River()
	if client == nil {
		return nil, false, errors.New("create batch: the queue has no client")
	}
	err = s.Queue.Tx(ctx, func(tx *sql.Tx) error {
		var key any
		if req.IdempotencyKey != "" {
			key = req.IdempotencyKey
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO batches (id, kind, lang, actor, total, remaining, state, idempotency_key, request_sha256, created_at)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)`,
			id, req.Kind, req.Lang, req.Actor, len(req.Items), StateRunning, key, sum, now.Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("insert batch: %w", err)
		}
		if err := s.insertItems(ctx, tx, id, req.Items, now.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		var jobs []river.InsertManyParams
		for i := range req.Items {
			if i%chunk == 0 {
				jobs = append(jobs, river.InsertManyParams{Args: itemArgs{Batch: id, First: i + 1, Last: min(i+chunk, len(req.Items))},
					InsertOpts: &river.InsertOpts{MaxAttempts: itemAttempts}})
			}
		}
		if _, err := client.InsertManyTx(ctx, tx, jobs); err != nil {
			return fmt.Errorf("queue items: %w", err)
		}
		return nil
	})
	if err != nil {
		if req.IdempotencyKey != "" {
			// Another request with the same key may have won the race.
			if b, err2 := s.byKey(ctx, req.Actor, req.IdempotencyKey, sum); b != nil || err2 != nil {
				return b, false, err2
			}
		}
		return nil, false, fmt.Errorf("create batch: %w", err)
	}
	b, err = s.Get(ctx, id)
	return b, true, err
}

// insertRows is how many items one statement inserts on PostgreSQL.
const insertRows = 1000

// insertItems inserts the items of batch id, queued: on PostgreSQL a
// thousand a statement (one round trip instead of a thousand: 5,490 items
// took 0.7 s one by one), on SQLite, in this process, one by one.
func (s *Service) insertItems(ctx context.Context, tx *sql.Tx, id string, items [][]byte, now string) error {
	if s.Queue.Engine == queue.Postgres {
		for first := 0; first < len(items); first += insertRows {
			part := items[first:min(first+insertRows, len(items))]
			seqs, ids, inputs := make([]int64, len(part)), make([]string, len(part)), make([]string, len(part))
			for i, in := range part {
				seqs[i], ids[i], inputs[i] = int64(first+i+1), docs.NewID(), string(in)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO batch_items (batch_id, seq, doc_id, input, state, updated_at)
				SELECT $1, u.seq, u.doc_id, u.input, $2, $3 FROM unnest($4::int[], $5::text[], $6::text[]) AS u(seq, doc_id, input)`,
				id, ItemQueued, now, seqs, ids, inputs); err != nil {
				return fmt.Errorf("insert items %d-%d: %w", first+1, first+len(part), err)
			}
		}
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO batch_items (batch_id, seq, doc_id, input, state, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, in := range items {
		if _, err := stmt.ExecContext(ctx, id, i+1, docs.NewID(), string(in), ItemQueued, now); err != nil {
			return fmt.Errorf("insert item %d: %w", i+1, err)
		}
	}
	return nil
}

// byKey returns the batch an actor made with an idempotency key, nil when
// none, ECONFLICT when it was made from another request.
func (s *Service) byKey(ctx context.Context, actor, key, sum string) (*Batch, error) {
	var id, got string
	err := s.Queue.DB.QueryRowContext(ctx, `SELECT id, request_sha256 FROM batches WHERE actor = $1 AND idempotency_key = $2`, actor, key).Scan(&id, &got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("batch by idempotency key: %w", err)
	case got != sum:
		return nil, &faldone.Error{Code: faldone.ECONFLICT, MessageID: "error.idempotency_mismatch",
			Message: fmt.Sprintf("the Idempotency-Key %q was used for another request (batch %s): use a new key for a new request", key, id)}
	}
	return s.Get(ctx, id)
}

// Get returns a batch and its progress, or ENOTFOUND.
func (s *Service) Get(ctx context.Context, id string) (*Batch, error) {
	b := &Batch{ID: id}
	var created string
	var finished sql.NullString
	err := s.Queue.DB.QueryRowContext(ctx, `SELECT kind, lang, actor, total, state, created_at, finished_at FROM batches WHERE id = $1`, id).
		Scan(&b.Kind, &b.Lang, &b.Actor, &b.Total, &b.State, &created, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "batch %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("get batch %s: %w", id, err)
	}
	b.Created, _ = time.Parse(time.RFC3339Nano, created)
	if finished.Valid {
		t, _ := time.Parse(time.RFC3339Nano, finished.String)
		b.Finished = &t
	}
	rows, err := s.Queue.DB.QueryContext(ctx, `SELECT state, count(*) FROM batch_items WHERE batch_id = $1 GROUP BY state`, id)
	if err != nil {
		return nil, fmt.Errorf("get batch %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("get batch %s: %w", id, err)
		}
		switch st {
		case ItemQueued:
			b.Queued = n
		case ItemDone:
			b.Done = n
		case ItemFailed:
			b.Failed = n
		case ItemCancelled:
			b.Cancelled = n
		}
	}
	return b, rows.Err()
}

// Items returns the results of a batch's items in order.
func (s *Service) Items(ctx context.Context, id string) ([]Item, error) {
	rows, err := s.Queue.DB.QueryContext(ctx, `SELECT seq, state, doc_id, comune, sha256, problem FROM batch_items WHERE batch_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("items of batch %s: %w", id, err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var comune, sum, problem sql.NullString
		if err := rows.Scan(&it.Seq, &it.State, &it.DocumentID, &comune, &sum, &problem); err != nil {
			return nil, fmt.Errorf("items of batch %s: %w", id, err)
		}
		it.Comune, it.SHA256 = comune.String, sum.String
		if problem.Valid {
			it.Problem = new(Problem)
			if err := json.Unmarshal([]byte(problem.String), it.Problem); err != nil {
				return nil, fmt.Errorf("items of batch %s: item %d: %w", id, it.Seq, err)
			}
		}
		if it.State != ItemDone {
			it.DocumentID = "" // no document has this id (yet)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Cancel stops a running batch: its queued items are not done. Items
// being worked on when it is cancelled finish. It returns the batch, or
// ENOTFOUND.
func (s *Service) Cancel(ctx context.Context, id string) (*Batch, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	now := s.now().Format(time.RFC3339Nano)
	err := s.Queue.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE batches SET state = $1, finished_at = $2 WHERE id = $3 AND state = $4`, StateCancelled, now, id, StateRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already over
		}
		s.cancelled.Store(id, true)
		if _, err := tx.ExecContext(ctx, `UPDATE batch_items SET state = $1, updated_at = $2 WHERE batch_id = $3 AND state = $4`, ItemCancelled, now, id, ItemQueued); err != nil {
			return err
		}
		return s.emitDone(ctx, tx, id)
	})
	if err != nil {
		return nil, fmt.Errorf("cancel batch %s: %w", id, err)
	}
	return s.Get(ctx, id)
}

// emitDone queues batch.done for batch id in tx.
func (s *Service) emitDone(ctx context.Context, tx *sql.Tx, id string) error {
	if s.Events == nil {
		return nil
	}
	b := &Batch{ID: id}
	if err := tx.QueryRowContext(ctx, `SELECT kind, state, total FROM batches WHERE id = $1`, id).Scan(&b.Kind, &b.State, &b.Total); err != nil {
		return err
	}
	counts := map[string]int{}
	rows, err := tx.QueryContext(ctx, `SELECT state, count(*) FROM batch_items WHERE batch_id = $1 GROUP BY state`, id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return err
		}
		counts[st] = n
	}
	rows.Close()
	return s.Events.EmitTx(ctx, tx, "batch.done", map[string]any{
		"batch_id": id, "kind": b.Kind, "state": b.State, "total": b.Total,
		"done": counts[ItemDone], "failed": counts[ItemFailed], "cancelled": counts[ItemCancelled],
	})
}

// problemOf turns a domain error into the problem of an item, localised
// in lang.
func (s *Service) problemOf(err error, lang string) *Problem {
	p := &Problem{Code: faldone.ErrorCode(err)}
	var de *faldone.Error
	if errors.As(err, &de) {
		if de.MessageID != "" && de.MessageID != "error."+de.Code {
			p.Detail = s.Templates.Localize(lang, de.MessageID, de.Params)
		} else {
			p.Detail = de.Message
		}
		p.Errors = de.Fields
	}
	if p.Code == faldone.EINTERNAL {
		p.Detail = "the document could not be made; the service's log has the cause"
	}
	return p
}

// retryable reports whether an item's error may pass on a later try.
func retryable(err error) bool {
	switch faldone.ErrorCode(err) {
	case faldone.EINTERNAL, faldone.EUNAVAILABLE:
		return true
	}
	return false
}

// itemRow is what the worker reads of an item.
type itemRow struct {
	seq                 int
	state, docID, input string
	kind, lang, actor   string
	batchState          string
}

// items reads the items first to last of a batch in one query: one round
// trip per job rather than one per item.
func (s *Service) items(ctx context.Context, batch string, first, last int) ([]*itemRow, error) {
	rows, err := s.Queue.DB.QueryContext(ctx, `SELECT i.seq, i.state, i.doc_id, i.input, b.kind, b.lang, b.actor, b.state
		FROM batch_items i JOIN batches b ON b.id = i.batch_id WHERE i.batch_id = $1 AND i.seq BETWEEN $2 AND $3 ORDER BY i.seq`, batch, first, last)
	if err != nil {
		return nil, fmt.Errorf("read items %d-%d of batch %s: %w", first, last, batch, err)
	}
	defer rows.Close()
	var out []*itemRow
	for rows.Next() {
		var r itemRow
		if err := rows.Scan(&r.seq, &r.state, &r.docID, &r.input, &r.kind, &r.lang, &r.actor, &r.batchState); err != nil {
			return nil, fmt.Errorf("read items %d-%d of batch %s: %w", first, last, batch, err)
		}
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read items %d-%d of batch %s: %w", first, last, batch, err)
	}
	return out, nil
}

// worker works a run of items.
type worker struct {
	river.WorkerDefaults[itemArgs]
	s *Service
}

func (w *worker) Work(ctx context.Context, job *river.Job[itemArgs]) error {
	s := w.s
	a := job.Args
	var results []*result
	its, retry := s.items(ctx, a.Batch, a.First, a.Last)
	for _, it := range its {
		if ctx.Err() != nil {
			break
		}
		if _, c := s.cancelled.Load(a.Batch); c || it.state != ItemQueued || it.batchState != StateRunning {
			continue // done before a crash, or cancelled
		}
		r, err := s.work(ctx, job, it.seq, it)
		if err != nil {
			retry = err
			break
		}
		results = append(results, r)
	}
	// The items' results are durable before the job completes; a job run
	// again after a crash in between finds them done. They are recorded
	// even when the job ran out of time, and the rest is left for its
	// next attempt.
	if err := s.record(context.WithoutCancel(ctx), results...); err != nil {
		return err
	}
	if retry == nil && ctx.Err() != nil {
		retry = fmt.Errorf("batch %s items %d-%d: %w", a.Batch, a.First, a.Last, ctx.Err())
	}
	return retry
}

// work makes the document of one item and returns its result, or an
// error worth a retry of the job.
func (s *Service) work(ctx context.Context, job *river.Job[itemArgs], seq int, it *itemRow) (*result, error) {
	// A first attempt cannot find its document archived; a later one may:
	// the attempt before it archived the document and died.
	var rec *faldone.Record
	var err error
	if job.Attempt > 1 {
		rec, err = s.Docs.Latest(ctx, it.docID)
		if faldone.ErrorCode(err) == faldone.ENOTFOUND {
			rec, err = nil, nil
		}
	}
	if rec == nil && err == nil {
		rec, err = s.Docs.CreateID(docs.Batched(ctx), it.docID, faldone.Kind(it.kind), []byte(it.input), it.lang, it.actor)
		if faldone.ErrorCode(err) == faldone.ECONFLICT {
			if got, lerr := s.Docs.Latest(ctx, it.docID); lerr == nil {
				rec, err = got, nil // archived by an earlier attempt
			}
		}
	}
	state, problem := ItemDone, (*Problem)(nil)
	if err != nil {
		if retryable(err) && job.Attempt < job.MaxAttempts {
			return nil, fmt.Errorf("batch %s item %d: %w", job.Args.Batch, seq, err)
		}
		state, problem = ItemFailed, s.problemOf(err, it.lang)
	}
	r := &result{batch: job.Args.Batch, seq: seq, state: state, done: make(chan error, 1)}
	if rec != nil {
		r.comune, r.sum = rec.Comune, rec.SHA256
	}
	if problem != nil {
		b, _ := json.Marshal(problem)
		r.problem = string(b)
	}
	return r, nil
}

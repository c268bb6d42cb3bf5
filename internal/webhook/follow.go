package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"faldone/internal/archive"
	"faldone/internal/faldone"
	"faldone/internal/queue"
)

// followArgs is the periodic job that turns new records of the archive's
// log into events.
type followArgs struct{}

// Kind implements river.JobArgs.
func (followArgs) Kind() string { return "faldone.webhook_follow" }

type followWorker struct {
	river.WorkerDefaults[followArgs]
	s *Service
}

// followBatch is how many records one run reads at most.
const followBatch = 500

func (w *followWorker) Work(ctx context.Context, job *river.Job[followArgs]) error {
	for {
		n, err := w.s.Follow(ctx)
		if err != nil || n < followBatch {
			return err
		}
	}
}

// DocumentEvent is the data of the events of documents.
type DocumentEvent struct {
	ID      string            `json:"id"`
	Version int               `json:"version"`
	Kind    faldone.Kind      `json:"kind"`
	Comune  string            `json:"comune"`
	SHA256  string            `json:"sha256"`
	State   string            `json:"state"`
	Actor   string            `json:"actor"`
	Created string            `json:"created"`
	Leaf    int64             `json:"leaf_index"`
	Links   map[string]string `json:"links"`
}

func documentEvent(r *faldone.Record) DocumentEvent {
	return DocumentEvent{ID: r.ID, Version: r.Version, Kind: r.Kind, Comune: r.Comune, SHA256: r.SHA256,
		State: faldone.State(r), Actor: r.Actor, Created: r.Created.UTC().Format("2006-01-02T15:04:05Z07:00"), Leaf: r.Leaf,
		Links: map[string]string{"self": "/v1/documents/" + r.ID, "pdf": fmt.Sprintf("/v1/documents/%s/pdf?version=%d", r.ID, r.Version)}}
}

// Follow reads the records appended to the archive's log since its last
// run (at most followBatch) and emits their events, moving its cursor in
// the same transaction. It returns how many records it read. Its cursor
// starts where the log ended when the first subscription was made.
func (s *Service) Follow(ctx context.Context) (int, error) {
	n := 0
	err := s.Queue.Tx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if s.Queue.Engine == queue.Postgres {
			lock = " FOR UPDATE"
		}
		var next int64
		err := tx.QueryRowContext(ctx, `SELECT next_leaf FROM webhook_cursor WHERE id = 1`+lock).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // no subscription yet: nothing to tell
		} else if err != nil {
			return fmt.Errorf("follow: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT leaf_index, id, version, comune, sha256, body FROM records WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2`, next, followBatch)
		if err != nil {
			return fmt.Errorf("follow: %w", err)
		}
		var recs []*faldone.Record
		for rows.Next() {
			var row archive.Row
			if err := rows.Scan(&row.Leaf, &row.ID, &row.Version, &row.Comune, &row.SHA256, &row.Body); err != nil {
				rows.Close()
				return fmt.Errorf("follow: %w", err)
			}
			rec, err := archive.Decode(&row)
			if err != nil {
				rows.Close()
				return fmt.Errorf("follow: %w", err)
			}
			recs = append(recs, rec)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range recs {
			if err := s.emitRecord(ctx, tx, r); err != nil {
				return err
			}
			next = r.Leaf + 1
		}
		n = len(recs)
		if n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhook_cursor SET next_leaf = $1 WHERE id = 1`, next)
		return err
	})
	return n, err
}

// emitRecord emits the events of one archived version: a chiusura (the
// task force's closing report) closes its comune's dossier.
func (s *Service) emitRecord(ctx context.Context, tx *sql.Tx, r *faldone.Record) error {
	ev := documentEvent(r)
	if r.Reason == faldone.ChangeSigned {
		return s.EmitTx(ctx, tx, DocumentSignedByComune, ev)
	}
	if err := s.EmitTx(ctx, tx, DocumentSealed, ev); err != nil {
		return err
	}
	if r.Kind == faldone.KindChiusura && r.Version == 1 {
		return s.EmitTx(ctx, tx, DossierClosed, map[string]any{"comune": r.Comune, "chiusura": ev,
			"links": map[string]string{"dossier": "/v1/comuni/" + r.Comune + "/dossier"}})
	}
	return nil
}

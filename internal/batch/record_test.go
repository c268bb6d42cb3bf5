package batch

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"testing"

	"faldone/internal/comuni"
	"faldone/internal/queue"
	"faldone/internal/testenv"
	"faldone/internal/tmpl/tmpltest"
)

// On PostgreSQL a group of results is recorded in one statement; the
// items cancelled meanwhile, and a group that holds an item twice, go
// through the statements of one item each, and every item counts the
// batch down once.
func TestRecordGroupPostgres(t *testing.T) {
	ctx := context.Background()
	s, q, raw := pgService(t, 4)
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	var shared map[string]any
	if err := json.Unmarshal(raw, &shared); err != nil {
		t.Fatal(err)
	}
	var items [][]byte
	for _, c := range reg.All() {
		if c.Small() && len(items) < 4 {
			shared["comune"], shared["luogo"] = c.ISTAT, c.Name
			in, _ := json.Marshal(shared)
			items = append(items, in)
		}
	}
	b, _, err := s.Create(ctx, Request{Kind: "adesione", Lang: "it", Actor: "test", Items: items})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.DB.ExecContext(ctx, `UPDATE batch_items SET state = $1 WHERE batch_id = $2 AND seq = 2`, ItemCancelled, b.ID); err != nil {
		t.Fatal(err)
	}
	res := func(seq int, problem any) *result {
		return &result{batch: b.ID, seq: seq, state: ItemDone, comune: "037034", sum: "ab", problem: problem}
	}
	apply := func(rs ...*result) {
		t.Helper()
		if err := q.Tx(ctx, func(tx *sql.Tx) error { return s.apply(ctx, tx, rs...) }); err != nil {
			t.Fatal(err)
		}
	}
	remaining := func() int {
		t.Helper()
		var n int
		if err := q.DB.QueryRowContext(ctx, `SELECT remaining FROM batches WHERE id = $1`, b.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	apply(res(1, nil), res(2, nil), res(3, `{"title":"x"}`))
	if n := remaining(); n != 2 {
		t.Fatalf("after items 1-3 (2 cancelled): %d remaining, want 2", n)
	}
	apply(res(4, nil), res(4, nil))
	if n := remaining(); n != 1 {
		t.Fatalf("after item 4 twice: %d remaining, want 1", n)
	}
	rows, err := q.DB.QueryContext(ctx, `SELECT seq, state, comune, problem FROM batch_items WHERE batch_id = $1 ORDER BY seq`, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var state string
		var comune, problem sql.NullString
		if err := rows.Scan(&seq, &state, &comune, &problem); err != nil {
			t.Fatal(err)
		}
		if state != ItemDone || comune.String != "037034" || problem.Valid != (seq == 3) {
			t.Errorf("item %d: %s %v %v", seq, state, comune, problem)
		}
	}
}

// On PostgreSQL the items of a batch go in a thousand a statement: a batch
// of 2,001 has every item once, in order, each with its own document id.
func TestInsertItemsPostgres(t *testing.T) {
	ctx := context.Background()
	items := make([][]byte, 2*insertRows+1)
	s, q, raw := pgService(t, len(items))
	for i := range items {
		items[i] = raw
	}
	b, _, err := s.Create(ctx, Request{Kind: "adesione", Lang: "it", Actor: "test", Items: items})
	if err != nil {
		t.Fatal(err)
	}
	var n, lo, hi, ids, queued int
	if err := q.DB.QueryRowContext(ctx, `SELECT count(*), min(seq), max(seq), count(DISTINCT doc_id), count(*) FILTER (WHERE state = 'queued' AND input = $2)
		FROM batch_items WHERE batch_id = $1`, b.ID, string(raw)).Scan(&n, &lo, &hi, &ids, &queued); err != nil {
		t.Fatal(err)
	}
	if n != len(items) || lo != 1 || hi != len(items) || ids != len(items) || queued != len(items) || b.Total != len(items) || b.Queued != len(items) {
		t.Fatalf("%d items, seq %d-%d, %d document ids, %d queued with their input; batch %+v", n, lo, hi, ids, queued, b)
	}
}

// pgService is a batch service on a new PostgreSQL database whose queue
// has a client that works nothing (the tests record the results
// themselves), taking batches of up to maxItems, and the input of the
// sample adesione of Suvereto.
func pgService(t *testing.T, maxItems int) (*Service, *queue.Queue, []byte) {
	t.Helper()
	q, err := queue.OpenPostgres(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	set := tmpltest.Set(t)
	raw, err := os.ReadFile("../../samples/suvereto/adesione.json")
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Queue: q, Templates: set, MaxItems: maxItems}
	s.Register()
	if _, err := q.Client(queue.Config{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	return s, q, raw
}

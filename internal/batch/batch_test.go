package batch_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"faldone/internal/batch"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/queue"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl/tmpltest"
)

// TestItemArchivedBeforeCrash: when an item's document was archived by an
// attempt that died before recording it, the item's job finds it and
// records it: the archive holds one document per item, none twice.
func TestItemArchivedBeforeCrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := sqlite.Open(ctx, filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	set := tmpltest.Set(t)
	svc := &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: "test"}, Archive: a}
	q, err := queue.OpenSQLiteDB(ctx, a.Writer())
	if err != nil {
		t.Fatal(err)
	}
	bs := &batch.Service{Queue: q, Docs: svc, Templates: set}
	bs.Register()
	c, err := q.Client(queue.Config{Workers: 2, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnvInputs(t, 5)
	b, _, err := bs.Create(ctx, batch.Request{Kind: "adesione", Lang: "it", Actor: "test", Items: env})
	if err != nil {
		t.Fatal(err)
	}
	// Before any worker runs, archive item 3's document under its id, as
	// an attempt that died after the archive's commit would have.
	var docID string
	if err := q.DB.QueryRowContext(ctx, `SELECT doc_id FROM batch_items WHERE batch_id = $1 AND seq = 3`, b.ID).Scan(&docID); err != nil {
		t.Fatal(err)
	}
	first, err := svc.CreateID(ctx, docID, faldone.KindAdesione, env[2], "it", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for !b.Over() {
		if time.Now().After(deadline) {
			t.Fatalf("batch not done: %+v", b)
		}
		time.Sleep(20 * time.Millisecond)
		if b, err = bs.Get(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	items, err := bs.Items(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Done != 5 || items[2].DocumentID != docID || items[2].SHA256 != first.SHA256 {
		t.Fatalf("batch %+v, item 3 %+v, want document %s", b, items[2], docID)
	}
	size, err := a.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if size != 5 {
		t.Errorf("the log has %d leaves, want 5: an item was archived twice", size)
	}
}

// newEnvInputs returns the adesione letters of the first n small comuni.
func newEnvInputs(t *testing.T, n int) [][]byte {
	t.Helper()
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../samples/suvereto/adesione.json")
	if err != nil {
		t.Fatal(err)
	}
	var shared map[string]any
	json.Unmarshal(b, &shared)
	var out [][]byte
	for _, c := range reg.All() {
		if len(out) == n {
			break
		}
		if c.Small() {
			shared["comune"], shared["luogo"] = c.ISTAT, c.Name
			in, _ := json.Marshal(shared)
			out = append(out, in)
		}
	}
	return out
}

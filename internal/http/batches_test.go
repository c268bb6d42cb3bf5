package http_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"faldone/internal/batch"
	fhttp "faldone/internal/http"
	"faldone/internal/queue"
	"faldone/internal/sqlite"
	"faldone/internal/webhook"
)

// mustQueue gives cfg batches and webhooks working on the queue in the
// SQLite archive a.
func mustQueue(tb testing.TB, a *sqlite.Archive, cfg *fhttp.Config) {
	tb.Helper()
	ctx := context.Background()
	q, err := queue.OpenSQLiteDB(ctx, a.Writer())
	if err != nil {
		tb.Fatal(err)
	}
	ws := &webhook.Service{Queue: q, RetryBase: 50 * time.Millisecond, Timeout: time.Second, FollowEvery: 50 * time.Millisecond, Logger: cfg.Logger}
	periodic := ws.Register()
	bs := &batch.Service{Queue: q, Docs: cfg.Documents, Templates: cfg.Templates, MaxItems: 50, Events: ws}
	bs.Register()
	c, err := q.Client(queue.Config{Workers: 2, PollInterval: 20 * time.Millisecond, Periodic: periodic})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		c.Stop(sctx)
		q.Close()
	})
	cfg.Batches, cfg.Webhooks, cfg.Events = bs, ws, ws
	cfg.Idempotency = &queue.Idempotency{Queue: q}
}

// waitBatch polls a batch until it is over.
func waitBatch(t *testing.T, s *fhttp.Server, id string) fhttp.BatchResponse {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, b := do(t, s, "GET", "/v1/batches/"+id, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("get batch: %d %s", resp.StatusCode, b)
		}
		var br fhttp.BatchResponse
		if err := json.Unmarshal(b, &br); err != nil {
			t.Fatal(err)
		}
		if br.Over() {
			return br
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not done: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBatch sends the same inputs as a JSON array, an envelope with a
// shared body, NDJSON and CSV; each item is archived as a single request
// would archive it, a bad item gets the problem a single request gets,
// and the ZIP and CSV hold the results.
func TestBatch(t *testing.T) {
	s := MustServer(t)
	good := sample(t, "loiano", "adesione")
	var m map[string]any
	json.Unmarshal(good, &m)
	bad := bytes.Replace(good, []byte(`"037034"`), []byte(`"999999"`), 1)
	array := fmt.Sprintf("[%s, %s, %s]", good, bad, good)
	delete(m, "comune")
	shared, _ := json.Marshal(m)
	envelope := fmt.Sprintf(`{"kind": "adesione", "shared": %s, "csv": "comune\n037034\n999999\n037034\n"}`, shared)
	ndjson := fmt.Sprintf("%s\n%s\n\n%s\n", bytes.ReplaceAll(good, []byte("\n"), nil), bytes.ReplaceAll(bad, []byte("\n"), nil), bytes.ReplaceAll(good, []byte("\n"), nil))
	for _, tc := range []struct{ name, path, ctype, body string }{
		{"array", "/v1/batches?kind=adesione", "application/json", array},
		{"envelope", "/v1/batches", "application/json", envelope},
		{"ndjson", "/v1/batches?kind=adesione", "application/x-ndjson", ndjson},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, "POST", tc.path, tc.ctype, []byte(tc.body))
			if resp.StatusCode != 202 {
				t.Fatalf("POST: %d %s", resp.StatusCode, b)
			}
			var br fhttp.BatchResponse
			json.Unmarshal(b, &br)
			if br.Total != 3 || br.Kind != "adesione" || resp.Header.Get("Location") != "/v1/batches/"+br.ID {
				t.Fatalf("accepted: %s", b)
			}
			br = waitBatch(t, s, br.ID)
			if br.State != batch.StateDone || br.Done != 2 || br.Failed != 1 || len(br.Items) != 3 {
				t.Fatalf("batch: %+v", br)
			}
			for i, it := range br.Items {
				if i == 1 {
					if it.State != batch.ItemFailed || it.Problem == nil || it.Problem.Code != "invalid" || len(it.Problem.Errors) == 0 || it.DocumentID != "" {
						t.Errorf("bad item: %+v", it)
					}
					continue
				}
				resp, pdf := do(t, s, "GET", "/v1/documents/"+it.DocumentID+"/pdf", "", nil)
				if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"`+it.SHA256+`"` || it.Comune != loiano {
					t.Errorf("item %d: %d %s %+v", it.Seq, resp.StatusCode, resp.Header.Get("ETag"), it)
				}
				_ = pdf
			}
			resp, z := do(t, s, "GET", "/v1/batches/"+br.ID+"/zip", "", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("zip: %d %s", resp.StatusCode, z)
			}
			zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range zr.File {
				names = append(names, f.Name)
			}
			if len(names) != 3 || names[2] != "results.csv" || !strings.HasPrefix(names[0], "00001-037034-") {
				t.Errorf("zip holds %v", names)
			}
			resp, sse := do(t, s, "GET", "/v1/batches/"+br.ID+"/events", "", nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || !strings.Contains(string(sse), "event: done\ndata: {") || !strings.Contains(string(sse), `"done":2`) {
				t.Errorf("events: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), sse)
			}
			resp, csv := do(t, s, "GET", "/v1/batches/"+br.ID+"/results.csv", "", nil)
			if resp.StatusCode != 200 || strings.Count(string(csv), "\n") != 4 || !strings.Contains(string(csv), ",failed,,,,invalid,") {
				t.Errorf("csv: %d\n%s", resp.StatusCode, csv)
			}
		})
	}
}

// TestBatchRefusals: malformed bodies, unknown kinds, too many items and
// unknown batches get problems, not 500s.
func TestBatchRefusals(t *testing.T) {
	s := MustServer(t)
	many := "[" + strings.Repeat(`{"comune": "037034"},`, 50) + `{"comune": "037034"}]`
	for _, tc := range []struct {
		method, path, ctype, body string
		status                    int
	}{
		{"POST", "/v1/batches?kind=adesione", "application/json", `[1, 2]`, 400},
		{"POST", "/v1/batches?kind=adesione", "application/json", `{"items": [{}], "csv": "a\n1"}`, 400},
		{"POST", "/v1/batches?kind=adesione", "application/json", `[]`, 422},
		{"POST", "/v1/batches?kind=adesione", "application/json", many, 422},
		{"POST", "/v1/batches", "application/json", `[{}]`, 400},
		{"POST", "/v1/batches?kind=nosuchkind", "application/json", `[{}]`, 404},
		{"POST", "/v1/batches?kind=adesione", "text/plain", `x`, 415},
		{"POST", "/v1/batches?kind=adesione", "application/x-ndjson", "{}\nnot json\n", 400},
		{"POST", "/v1/batches?kind=adesione", "text/csv", "", 400},
		{"GET", "/v1/batches/nosuchbatch", "", "", 404},
		{"GET", "/v1/batches/nosuchbatch/zip", "", "", 404},
		{"GET", "/v1/batches/nosuchbatch/events", "", "", 404},
		{"POST", "/v1/batches/nosuchbatch/cancel", "", "", 404},
	} {
		resp, b := do(t, s, tc.method, tc.path, tc.ctype, []byte(tc.body))
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s %q: %d, want %d: %s", tc.method, tc.path, tc.body, resp.StatusCode, tc.status, b)
			continue
		}
		problem(t, resp, b)
	}
}

// TestIdempotencyKey: a retried POST with the same Idempotency-Key gets
// the first answer and makes no second document or batch; the key with
// another body is a conflict; a failed request leaves the key free.
func TestIdempotencyKey(t *testing.T) {
	s := MustServer(t)
	good := sample(t, "loiano", "adesione")
	key := []string{"Idempotency-Key", "ufficio-2026-0001"}
	r1, b1 := do(t, s, "POST", "/v1/documents/adesione", "application/json", good, key...)
	r2, b2 := do(t, s, "POST", "/v1/documents/adesione", "application/json", good, key...)
	if r1.StatusCode != 201 || r2.StatusCode != 201 || !bytes.Equal(b1, b2) || r2.Header.Get("Idempotent-Replayed") != "true" || r1.Header.Get("Location") != r2.Header.Get("Location") {
		t.Fatalf("retry: %d %d\n%s\n%s", r1.StatusCode, r2.StatusCode, b1, b2)
	}
	other := bytes.Replace(good, []byte(`"037034"`), []byte(`"049020"`), 1)
	if r, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", other, key...); r.StatusCode != 409 {
		t.Errorf("same key, other body: %d %s", r.StatusCode, b)
	}
	bad := bytes.Replace(good, []byte(`"037034"`), []byte(`"999999"`), 1)
	badKey := []string{"Idempotency-Key", "ufficio-2026-0002"}
	if r, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", bad, badKey...); r.StatusCode != 422 {
		t.Fatalf("bad input: %d %s", r.StatusCode, b)
	}
	if r, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", good, badKey...); r.StatusCode != 201 || r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the key of a failed request: %d %s", r.StatusCode, b)
	}
	if r, b := do(t, s, "POST", "/v1/documents/adesione", "application/json", good, "Idempotency-Key", "has space"); r.StatusCode != 422 {
		t.Errorf("malformed key: %d %s", r.StatusCode, b)
	}
	// Batches keep theirs with the batch.
	arr := []byte("[" + string(good) + "]")
	bk := []string{"Idempotency-Key", "lotto-1"}
	r1, b1 = do(t, s, "POST", "/v1/batches?kind=adesione", "application/json", arr, bk...)
	r2, b2 = do(t, s, "POST", "/v1/batches?kind=adesione", "application/json", arr, bk...)
	var x, y fhttp.BatchResponse
	json.Unmarshal(b1, &x)
	json.Unmarshal(b2, &y)
	if r1.StatusCode != 202 || r2.StatusCode != 202 || x.ID != y.ID || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("batch retry: %d %d %s %s", r1.StatusCode, r2.StatusCode, x.ID, y.ID)
	}
	if r, b := do(t, s, "POST", "/v1/batches?kind=adesione", "application/json", []byte("["+string(good)+","+string(good)+"]"), bk...); r.StatusCode != 409 {
		t.Errorf("batch key, other body: %d %s", r.StatusCode, b)
	}
}

// TestBatchCancel cancels a batch: what was not done is cancelled, the
// batch is over, its ZIP is served, and a second cancel changes nothing.
func TestBatchCancel(t *testing.T) {
	s := MustServer(t)
	good := string(sample(t, "loiano", "adesione"))
	arr := "[" + strings.TrimSuffix(strings.Repeat(good+",", 40), ",") + "]"
	r, b := do(t, s, "POST", "/v1/batches?kind=adesione", "application/json", []byte(arr))
	if r.StatusCode != 202 {
		t.Fatalf("POST: %d %s", r.StatusCode, b)
	}
	var br fhttp.BatchResponse
	json.Unmarshal(b, &br)
	r, b = do(t, s, "POST", "/v1/batches/"+br.ID+"/cancel", "", nil)
	if r.StatusCode != 200 {
		t.Fatalf("cancel: %d %s", r.StatusCode, b)
	}
	var cancelled fhttp.BatchResponse
	json.Unmarshal(b, &cancelled)
	got := waitBatch(t, s, br.ID)
	switch {
	case cancelled.State == batch.StateDone: // every item was done before the cancel came
		if got.Done != 40 {
			t.Errorf("done before the cancel: %+v", got.Batch)
		}
	case got.State != batch.StateCancelled || got.Done+got.Cancelled != 40 || got.Queued != 0:
		t.Errorf("after cancel: %+v", got.Batch)
	}
	time.Sleep(300 * time.Millisecond) // items being worked finish
	after := waitBatch(t, s, br.ID)
	for _, it := range after.Items {
		if it.State == batch.ItemDone {
			if resp, _ := do(t, s, "GET", "/v1/documents/"+it.DocumentID, "", nil); resp.StatusCode != 200 {
				t.Errorf("done item %d: its document: %d", it.Seq, resp.StatusCode)
			}
		}
	}
	if r, b := do(t, s, "GET", "/v1/batches/"+br.ID+"/zip", "", nil); r.StatusCode != 200 {
		t.Errorf("zip: %d %s", r.StatusCode, b)
	}
	if r, b := do(t, s, "POST", "/v1/batches/"+br.ID+"/cancel", "", nil); r.StatusCode != 200 {
		t.Errorf("cancel again: %d %s", r.StatusCode, b)
	}
}

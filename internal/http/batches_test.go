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

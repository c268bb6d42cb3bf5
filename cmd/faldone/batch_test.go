package main_test

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"faldone/internal/comuni"
	"faldone/internal/testenv"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// batchEnvelope returns a batch of n adesione letters for small comuni:
// a CSV of comuni over the Suvereto sample as the shared body.
func batchEnvelope(t *testing.T, n int) []byte {
	t.Helper()
	var shared map[string]any
	b, err := os.ReadFile("../../samples/suvereto/adesione.json")
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &shared)
	delete(shared, "comune")
	delete(shared, "luogo")
	reg, err := comuni.Default()
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("comune,luogo\n")
	k := 0
	for _, c := range reg.All() {
		if k == n {
			break
		}
		if c.Small() {
			fmt.Fprintf(&csv, "%s,%q\n", c.ISTAT, c.Name)
			k++
		}
	}
	body, _ := json.Marshal(map[string]any{"kind": "adesione", "shared": shared, "csv": csv.String()})
	return body
}

// batchState is what the tests read of GET /v1/batches/{id}.
type batchState struct {
	ID                          string
	State                       string
	Total, Done, Failed, Queued int
	Items                       []struct {
		Seq        int
		State      string
		DocumentID string `json:"document_id"`
		SHA256     string
		Problem    *struct{ Code, Detail string }
	}
}

func getBatch(t *testing.T, base, id string) batchState {
	t.Helper()
	resp, err := http.Get(base + "/v1/batches/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b batchState
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&b) != nil {
		t.Fatalf("GET batch %s: %d", id, resp.StatusCode)
	}
	return b
}

// TestBatchCrashSQLite and TestBatchCrashPostgres kill `faldone serve`
// with SIGKILL in the middle of a batch, start it again, and check that
// the batch resumes where it stopped: every item done once, no document
// archived twice (the log holds exactly one leaf per item), every PDF as
// its result says, and the audit passes.
func TestBatchCrashSQLite(t *testing.T) {
	testBatchCrash(t, "sqlite:faldone.db")
}

func TestBatchCrashPostgres(t *testing.T) {
	testBatchCrash(t, testenv.Postgres(t))
}

func testBatchCrash(t *testing.T, store string) {
	const n = 120
	bin := buildBinary(t)
	env := []string{"FALDONE_DATA=" + filepath.Join(t.TempDir(), "data"), "FALDONE_STORE=" + store,
		"FALDONE_RENDER_TIMEOUT=2s", "FALDONE_QUEUE_RESCUE_AFTER=8s", "FALDONE_QUEUE_WORKERS=4", "FALDONE_WEBHOOK_TIMEOUT=1s"}
	s := startServer(t, bin, env...)
	resp, err := http.Post(s.base+"/v1/batches", "application/json", bytes.NewReader(batchEnvelope(t, n)))
	if err != nil {
		t.Fatal(err)
	}
	var b batchState
	json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	if resp.StatusCode != 202 || b.Total != n {
		t.Fatalf("POST batch: %d %+v", resp.StatusCode, b)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := getBatch(t, s.base, b.ID)
		if p.Done >= n/5 {
			if p.Done == n {
				t.Fatalf("the batch ended before the kill")
			}
			t.Logf("SIGKILL with %d of %d items done", p.Done, n)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress: %+v\n%s", p, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.kill()
	s = startServer(t, bin, env...)
	deadline = time.Now().Add(120 * time.Second)
	var p batchState
	for {
		p = getBatch(t, s.base, b.ID)
		if p.State != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch did not resume: %d done, %d queued\n%s", p.Done, p.Queued, s.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p.State != "done" || p.Done != n || p.Failed != 0 || len(p.Items) != n {
		t.Fatalf("after the crash: %s, %d done, %d failed", p.State, p.Done, p.Failed)
	}
	var docs []acked
	seen := map[string]bool{}
	for _, it := range p.Items {
		if it.State != "done" || seen[it.DocumentID] {
			t.Errorf("item %d: %+v", it.Seq, it)
		}
		seen[it.DocumentID] = true
		docs = append(docs, acked{it.DocumentID, it.SHA256})
	}
	checkAcked(t, s.base, docs)
	out := auditVerify(t, bin, env...)
	if want := fmt.Sprintf("audit verify: %d leaves, %d records, %d PDFs re-hashed", n, n, n); !strings.Contains(out, want) {
		t.Errorf("an item was archived twice or lost: want %q in\n%s", want, out)
	}
}

// TestBatchCommand drives a batch with `faldone batch`: a CSV of comuni
// with a shared body, one bad row; the ZIP holds the PDFs, the results
// name the problem, the exit status says an item failed, and running the
// command again follows the same batch.
func TestBatchCommand(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	env := []string{"FALDONE_DATA=" + filepath.Join(dir, "data")}
	s := startServer(t, bin, env...)
	u, _ := url.Parse(s.base)
	key, _ := serverKeys.Load(u.Host)
	var shared map[string]any
	b, _ := os.ReadFile("../../samples/suvereto/adesione.json")
	json.Unmarshal(b, &shared)
	delete(shared, "comune")
	sb, _ := json.Marshal(shared)
	os.WriteFile(filepath.Join(dir, "shared.json"), sb, 0o644)
	os.WriteFile(filepath.Join(dir, "comuni.csv"), []byte("comune,luogo\n049020,Suvereto\n037034,Loiano\n999999,Nowhere\n"), 0o644)
	run := func() (string, error) {
		cmd := exec.Command(bin, "batch", "--kind", "adesione", "--in", filepath.Join(dir, "comuni.csv"), "--shared", filepath.Join(dir, "shared.json"),
			"--server", s.base, "--out", filepath.Join(dir, "b.zip"), "--results", filepath.Join(dir, "r.csv"))
		cmd.Env = append(os.Environ(), "FALDONE_API_KEY="+key.(string))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err == nil || !strings.Contains(out, "1 of 3 items failed") || !strings.Contains(out, "2 done, 1 failed") {
		t.Fatalf("faldone batch: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`batch ([a-z2-7]{26}):`).FindStringSubmatch(out)
	zr, err := zip.OpenReader(filepath.Join(dir, "b.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 3 {
		t.Errorf("zip holds %d files, want 2 PDFs and results.csv", len(zr.File))
	}
	f, _ := zr.File[0].Open()
	pdf, _ := io.ReadAll(f)
	f.Close()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Error("the zip's first file is not a PDF")
	}
	res, _ := os.ReadFile(filepath.Join(dir, "r.csv"))
	if !strings.Contains(string(res), "3,failed,,,,invalid,") {
		t.Errorf("results:\n%s", res)
	}
	again, _ := run()
	if id == nil || !strings.Contains(again, "batch "+id[1]+":") || !strings.Contains(again, "already sent") {
		t.Errorf("second run did not follow batch %v:\n%s", id, again)
	}
}

// TestBatchTwoInstancesOnePostgres sends a batch to one of two `faldone
// serve` on one PostgreSQL: both work its items, and each is done once.
func TestBatchTwoInstancesOnePostgres(t *testing.T) {
	const n = 96
	url := testenv.Postgres(t)
	bin := buildBinary(t)
	key := filepath.Join(t.TempDir(), "shared", "log.key")
	var servers []*server
	for i := range 2 {
		servers = append(servers, startServer(t, bin, "FALDONE_DATA="+filepath.Join(t.TempDir(), fmt.Sprint("data", i)), "FALDONE_STORE="+url,
			"FALDONE_LOG_KEY="+key, "FALDONE_QUEUE_WORKERS=2"))
	}
	resp, err := http.Post(servers[0].base+"/v1/batches", "application/json", bytes.NewReader(batchEnvelope(t, n)))
	if err != nil {
		t.Fatal(err)
	}
	var b batchState
	json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	deadline := time.Now().Add(120 * time.Second)
	for {
		p := getBatch(t, servers[1].base, b.ID)
		if p.State == "done" {
			if p.Done != n {
				t.Fatalf("%d of %d done", p.Done, n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", p)
		}
		time.Sleep(100 * time.Millisecond)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var clients int
	if err := db.QueryRow(`SELECT count(DISTINCT attempted_by[array_length(attempted_by, 1)]) FROM river_job WHERE kind = 'faldone.batch_items'`).Scan(&clients); err != nil {
		t.Fatal(err)
	}
	if clients != 2 {
		t.Errorf("the batch's jobs were worked by %d instances, want 2", clients)
	}
	// One leaf per item. (The audit's other findings are left out here:
	// it reports checkpoints that two instances sign within the same
	// second, in an order their clocks disagree on, as time going back.)
	cmd := exec.Command(bin, "audit", "verify")
	cmd.Env = append(os.Environ(), "FALDONE_DATA="+filepath.Join(t.TempDir(), "audit"), "FALDONE_STORE="+url, "FALDONE_LOG_KEY="+key)
	out, _ := cmd.CombinedOutput()
	if want := fmt.Sprintf("audit verify: %d leaves, %d records, %d PDFs re-hashed", n, n, n); !strings.Contains(string(out), want) {
		t.Errorf("want %q in\n%s", want, out)
	}
}

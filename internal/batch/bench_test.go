package batch_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"faldone/internal/batch"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/postgres"
	"faldone/internal/queue"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/testenv"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// env is a document service, sealing at B-B with a file key, on one
// engine, and a batch service working on its queue.
type env struct {
	docs    *docs.Service
	batches *batch.Service
	inputs  [][]byte // adesione letters of the small comuni, in registry order
}

func newEnv(tb testing.TB, engine string, workers int) *env {
	tb.Helper()
	ctx := context.Background()
	reg, err := comuni.Default()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := tmpl.Load(templates.FS, reg)
	if err != nil {
		tb.Fatal(err)
	}
	key, _, err := keys.DevSeal(tb.TempDir(), time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	var arch faldone.Archive
	var q *queue.Queue
	switch engine {
	case "sqlite":
		dir := tb.TempDir()
		a, err := sqlite.Open(ctx, filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
		if err != nil {
			tb.Fatal(err)
		}
		arch = a
		q, err = queue.OpenSQLiteDB(ctx, a.Writer())
		if err != nil {
			tb.Fatal(err)
		}
	case "postgres":
		url := testenv.Postgres(tb)
		a, err := postgres.Open(ctx, url)
		if err != nil {
			tb.Fatal(err)
		}
		arch = a
		q, err = queue.OpenPostgres(ctx, url)
		if err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() { q.Close(); arch.Close() })
	svc := &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: "bench"}, Sealer: &seal.Sealer{Key: key, Logger: discard}, Archive: arch}
	bs := &batch.Service{Queue: q, Docs: svc, Templates: set, MaxItems: 100000}
	bs.Register()
	c, err := q.Client(queue.Config{Workers: workers, PollInterval: 50 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c.Stop(sctx)
	})
	var shared map[string]any
	b, err := os.ReadFile("../../samples/suvereto/adesione.json")
	if err != nil {
		tb.Fatal(err)
	}
	json.Unmarshal(b, &shared)
	e := &env{docs: svc, batches: bs}
	for _, c := range reg.All() {
		if !c.Small() {
			continue
		}
		shared["comune"], shared["luogo"] = c.ISTAT, c.Name
		in, _ := json.Marshal(shared)
		e.inputs = append(e.inputs, in)
	}
	return e
}

// create makes docs from inputs with n goroutines calling the document
// service, as n concurrent single requests do, and returns the wall time.
func (e *env) create(tb testing.TB, inputs [][]byte, n int) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(inputs) {
					return
				}
				if _, err := e.docs.Create(context.Background(), faldone.KindAdesione, inputs[i], "it", "bench"); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// batch makes docs from inputs as one batch and returns the wall time
// from the request to the last item. It watches the batch as the event
// stream of GET /v1/batches/{id} does, every half second (a progress
// query is not free: on PostgreSQL it counts the batch's items), and
// takes the end from the batch's own finishing time.
func (e *env) batch(tb testing.TB, inputs [][]byte) time.Duration {
	ctx := context.Background()
	start := time.Now()
	b, _, err := e.batches.Create(ctx, batch.Request{Kind: "adesione", Lang: "it", Actor: "bench", Items: inputs})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("batch of %d accepted in %.2f s", len(inputs), time.Since(start).Seconds())
	last, lastDone := time.Now(), 0
	for !b.Over() {
		time.Sleep(500 * time.Millisecond)
		if b, err = e.batches.Get(ctx, b.ID); err != nil {
			tb.Fatal(err)
		}
		if d := time.Since(last); d > 15*time.Second {
			tb.Logf("%d of %d done, %.1f docs/s in the last %.0f s", b.Done, b.Total, float64(b.Done-lastDone)/d.Seconds(), d.Seconds())
			last, lastDone = time.Now(), b.Done
		}
	}
	took := time.Since(start)
	if b.Finished != nil {
		took = b.Finished.Sub(start)
	}
	if b.Done != len(inputs) {
		tb.Fatalf("batch: %d of %d done, %d failed", b.Done, len(inputs), b.Failed)
	}
	return took
}

// cpuTime returns the CPU time, user and system, this process has used:
// unlike wall time, what a phase costs per document does not depend on
// what the other processes of a shared machine do meanwhile.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBatch makes the adesione letter of every comune of at most
// 5,000 inhabitants (5,490; FALDONE_BENCH_ITEMS makes fewer) in one batch,
// sealed at B-B with a file key, on SQLite and on PostgreSQL. In the same
// run it measures one core's throughput (one request after another) and
// the single-request path with as many concurrent requests as the batch
// has workers, before the batch and after it. Metrics: the batch's wall time and documents per second,
// its fraction of one core's throughput, how much slower per document it
// is than the concurrent single requests (overhead_%, wall time), and the
// same in CPU time (cpu_overhead_%: the CPU time of this process per
// document, the batch's against the single requests'), which the load of
// other processes moves far less than wall time. On PostgreSQL the
// server's CPU is not counted.
//
//	go test ./internal/batch -run XXX -bench Batch -benchtime 1x
func BenchmarkBatch(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			workers := 8
			if v, err := strconv.Atoi(os.Getenv("FALDONE_BENCH_WORKERS")); err == nil && v > 0 {
				workers = v
			}
			e := newEnv(b, engine, workers)
			n := len(e.inputs)
			if v, err := strconv.Atoi(os.Getenv("FALDONE_BENCH_ITEMS")); err == nil && v > 0 && v < n {
				n = v
			}
			if engine == "sqlite" && n == len(e.inputs) && len(e.inputs) != 5490 {
				b.Fatalf("%d comuni of at most 5,000 inhabitants, want 5,490", len(e.inputs))
			}
			ref := min(n, 300)
			for b.Loop() {
				one := e.create(b, e.inputs[:ref], 1)
				// The single requests run before the batch and after it,
				// on an archive as small as at its start and as large as
				// at its end: an append costs a little more in a larger
				// archive.
				c0 := cpuTime()
				direct := e.create(b, e.inputs[:ref*2], workers)
				c1 := cpuTime()
				wall := e.batch(b, e.inputs[:n])
				c2 := cpuTime()
				direct += e.create(b, e.inputs[:ref*2], workers)
				c3 := cpuTime()
				directCPU := ((c1 - c0) + (c3 - c2)).Seconds() * 1000 / float64(ref*4)
				batchCPU := (c2 - c1).Seconds() * 1000 / float64(n)
				b.ReportMetric(directCPU, "single_cpu_ms/doc")
				b.ReportMetric(batchCPU, "batch_cpu_ms/doc")
				b.ReportMetric(100*(batchCPU/directCPU-1), "cpu_overhead_%")
				coreRate := float64(ref) / one.Seconds()
				directRate := float64(ref*4) / direct.Seconds()
				rate := float64(n) / wall.Seconds()
				b.ReportMetric(wall.Seconds(), "batch_s")
				b.ReportMetric(rate, "docs/s")
				b.ReportMetric(rate/coreRate, "x_one_core")
				b.ReportMetric(coreRate, "one_core_docs/s")
				b.ReportMetric(directRate, "single_requests_docs/s")
				b.ReportMetric(100*(directRate/rate-1), "overhead_%")
				b.Logf("%s: %d letters in %.1f s, %.1f docs/s; one core %.1f docs/s; %d concurrent single requests %.1f docs/s",
					engine, n, wall.Seconds(), rate, coreRate, workers, directRate)
			}
		})
	}
}

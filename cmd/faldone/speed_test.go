package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// The speed benchmarks compare, in one run, what a sealed and archived
// letter costs against the cost of drawing it:
//
//	go test ./cmd/faldone -run XXX -bench Speed -benchtime 200x
//
// render and seal are the two steps alone; create is the whole of a
// request in-process (render, seal at B-B with a file key, archive in
// SQLite with fsync); api-N drives the real server (`faldone serve`, a
// child process on 127.0.0.1) with N clients and reports, besides docs/s,
// mean and p99 latency, x_render (its throughput over the render's own
// on all cores, measured just before), p99_little (p99 over N/throughput,
// the mean latency Little's law gives a fair queue), and the server's
// peak RSS. chromium prints an HTML rendering of the same letter with
// headless Chromium, one process per print as a converter service does
// (skipped where chromium is not installed).

// speedEnv renders, seals and archives adesione letters in-process.
type speedEnv struct {
	renderer *docs.Renderer
	sealer   *seal.Sealer
	inputs   [][]byte // one adesione a small comune, in registry order
}

func newSpeedEnv(tb testing.TB) *speedEnv {
	tb.Helper()
	reg, err := comuni.Default()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := tmpl.LoadChecked(templates.FS, reg)
	if err != nil {
		tb.Fatal(err)
	}
	key, _, err := keys.DevSeal(tb.TempDir(), time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	e := &speedEnv{
		renderer: &docs.Renderer{Templates: set, Version: faldone.Version},
		sealer:   &seal.Sealer{Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
	}
	var shared map[string]any
	b, err := os.ReadFile("../../samples/suvereto/adesione.json")
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, &shared); err != nil {
		tb.Fatal(err)
	}
	for _, c := range reg.All() {
		if c.Small() {
			shared["comune"], shared["luogo"] = c.ISTAT, c.Name
			in, _ := json.Marshal(shared)
			e.inputs = append(e.inputs, in)
		}
	}
	return e
}

// service is a document service archiving in a new SQLite archive.
func (e *speedEnv) service(tb testing.TB) *docs.Service {
	dir := tb.TempDir()
	a, err := sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return &docs.Service{Renderer: e.renderer, Sealer: e.sealer, Archive: a}
}

// renderRate renders n letters on every core and returns letters per
// second.
func (e *speedEnv) renderRate(tb testing.TB, n int) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, err := e.renderer.Render(context.Background(), "adesione", e.inputs[i%len(e.inputs)], "it"); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

func BenchmarkSpeed(b *testing.B) {
	e := newSpeedEnv(b)
	ctx := context.Background()
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := e.renderer.Render(ctx, "adesione", e.inputs[i%len(e.inputs)], "it"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("seal", func(b *testing.B) {
		res, err := e.renderer.Render(ctx, "adesione", e.inputs[0], "it")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := e.sealer.Seal(ctx, res.PDF, &res.Document); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("create", func(b *testing.B) {
		svc := e.service(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := svc.Create(ctx, faldone.KindAdesione, e.inputs[i%len(e.inputs)], "it", "bench"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("api", func(b *testing.B) {
		bin := os.Getenv("FALDONE_BENCH_BIN") // another build, to compare
		if bin == "" {
			bin = buildBinary(b)
		}
		for _, clients := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
				benchAPI(b, e, bin, clients)
			})
		}
	})
	b.Run("chromium", func(b *testing.B) {
		benchChromium(b, e)
	})
}

// benchAPI sends b.N letters to a new server from clients goroutines.
func benchAPI(b *testing.B, e *speedEnv, bin string, clients int) {
	b.StopTimer()
	render := e.renderRate(b, max(100, min(b.N, 400)))
	s := startServer(b, bin, "FALDONE_DATA="+filepath.Join(b.TempDir(), "data"))
	u := strings.TrimPrefix(s.base, "http://")
	key, _ := serverKeys.Load(u)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients, MaxConnsPerHost: 2 * clients}}
	post := func(i int) error {
		req, _ := http.NewRequest("POST", s.base+"/v1/documents/adesione", bytes.NewReader(e.inputs[i%len(e.inputs)]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key.(string))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil
	}
	for i := range 2 * clients { // warm the connections and the server
		if err := post(i); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.StartTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if err := post(i); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	b.StopTimer()
	rate := float64(b.N) / wall.Seconds()
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	slices.Sort(lat)
	p99 := lat[min(len(lat)-1, len(lat)*99/100)]
	mean := sum / time.Duration(len(lat))
	b.ReportMetric(rate, "docs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(mean.Microseconds())/1000, "mean_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(render, "render_docs/s")
	b.ReportMetric(rate/render, "x_render")
	b.ReportMetric(p99.Seconds()/(float64(clients)/rate), "p99_little")
	if rss := peakRSS(s.cmd.Process.Pid); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
	}
	s.kill()
}

// peakRSS returns the peak resident set of a process, in bytes (0 when
// /proc does not tell).
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// letterHTML is the adesione letter as a web page: its text as
// pdftotext reads it off the rendered letter, in the same typeface and
// A4 margins, for a browser to print.
func letterHTML(tb testing.TB, e *speedEnv) []byte {
	res, err := e.renderer.Render(context.Background(), "adesione", e.inputs[0], "it")
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	pdf := filepath.Join(dir, "letter.pdf")
	if err := os.WriteFile(pdf, res.PDF, 0o600); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		tb.Skipf("pdftotext: %v", err)
	}
	var h bytes.Buffer
	h.WriteString(`<!doctype html><html lang="it"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 25mm 20mm; }
body { font-family: "Titillium Web", "DejaVu Sans", sans-serif; font-size: 11pt; line-height: 1.4; }
p { margin: 0 0 0.6em; text-align: justify; }
</style></head><body>`)
	for _, page := range strings.Split(string(out), "\f") {
		for _, para := range strings.Split(page, "\n\n") {
			if para = strings.TrimSpace(para); para != "" {
				fmt.Fprintf(&h, "<p>%s</p>\n", htmlEscape(strings.ReplaceAll(para, "\n", " ")))
			}
		}
	}
	h.WriteString("</body></html>\n")
	return h.Bytes()
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// benchChromium prints the letter's web page to PDF with headless
// Chromium, a new process each time, and reports it against our own
// render and seal of the same letter measured just before.
func benchChromium(b *testing.B, e *speedEnv) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		b.Skip("chromium is not installed")
	}
	b.StopTimer()
	page := filepath.Join(b.TempDir(), "letter.html")
	if err := os.WriteFile(page, letterHTML(b, e), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	const own = 50
	for i := range own {
		res, err := e.renderer.Render(ctx, "adesione", e.inputs[i], "it")
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := e.sealer.Seal(ctx, res.PDF, &res.Document); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start) / own
	out := filepath.Join(b.TempDir(), "letter.pdf")
	profile := b.TempDir()
	b.StartTimer()
	for range b.N {
		cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
			"--user-data-dir="+profile, "--print-to-pdf="+out, "file://"+page)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("chromium: %v\n%s", err, msg)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(out); err != nil || fi.Size() < 1000 {
		b.Fatalf("chromium printed no PDF: %v", err)
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/print")
	b.ReportMetric(float64(ours.Microseconds())/1000, "faldone_ms/letter")
	b.ReportMetric(per.Seconds()/ours.Seconds(), "x_faldone")
}

// cpuTime returns the CPU time, user and system, this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBulk makes the adesione letter of every comune of at most
// 5,000 inhabitants in-process (render, seal, archive in SQLite with
// fsync) as a batch's worker does (docs.Batched), with four goroutines a
// core, and reports the wall time, the CPU
// time per letter and the time the 5,490 would take with that CPU time
// spread over every core (what a machine of our own would give). It makes
// the first 500 unless FALDONE_BENCH_BULK=1 asks for all 5,490:
//
//	FALDONE_BENCH_BULK=1 go test ./cmd/faldone -run XXX -bench Bulk -benchtime 1x
func BenchmarkBulk(b *testing.B) {
	e := newSpeedEnv(b)
	n := 500
	if os.Getenv("FALDONE_BENCH_BULK") == "1" {
		n = len(e.inputs)
		if n != 5490 {
			b.Fatalf("%d comuni of at most 5,000 inhabitants, want 5,490", n)
		}
	}
	// As `faldone serve` does; the CPU figures are per core all the same.
	// The benchmarks after this one run with the process's own settings.
	cores, gc := runtime.GOMAXPROCS(0), debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	defer func() { runtime.GOMAXPROCS(cores); debug.SetGCPercent(gc) }()
	docs.SetProcs()
	for b.Loop() {
		svc := e.service(b)
		var next atomic.Int64
		var wg sync.WaitGroup
		start, cpu0 := time.Now(), cpuTime()
		for range 4 * cores {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if _, err := svc.Create(docs.Batched(context.Background()), faldone.KindAdesione, e.inputs[i], "it", "bench"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		wall := time.Since(start)
		cpu := (cpuTime() - cpu0).Seconds() / float64(n)
		b.ReportMetric(cpu*1000, "cpu_ms/doc")
		b.ReportMetric(5490*cpu/float64(cores), "cpu_s_for_5490_on_all_cores")
		b.ReportMetric(float64(n), "letters")
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(float64(n)/wall.Seconds(), "docs/s")
		b.ReportMetric(5490/(float64(n)/wall.Seconds()), "s_for_5490")
	}
}

// BenchmarkStartup runs the built binary: `faldone verify` of a sealed
// letter, `faldone render` of one (sealed with the development key), and
// `faldone serve` until /readyz answers 200, on a data directory made by
// a first run. Each reports its wall time per run in ms; a run includes
// the process's whole life, the work of the command included.
// FALDONE_BENCH_BIN runs another build of faldone instead, to compare.
//
//	go test ./cmd/faldone -run XXX -bench Startup -benchtime 20x
func BenchmarkStartup(b *testing.B) {
	bin := os.Getenv("FALDONE_BENCH_BIN")
	if bin == "" {
		bin = buildBinary(b)
	}
	data := filepath.Join(b.TempDir(), "data")
	env := append(os.Environ(), "FALDONE_DATA="+data)
	sample, _ := filepath.Abs("../../samples/suvereto/adesione.pdf")
	input, _ := filepath.Abs("../../samples/suvereto/adesione.json")
	out := filepath.Join(b.TempDir(), "out.pdf")
	var cpu time.Duration // user and system time of the runs, less noisy than wall time on a busy machine
	run := func(b *testing.B, args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if msg, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, msg)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	for name, args := range map[string][]string{
		"verify": {"verify", sample},
		"render": {"render", "--kind", "adesione", "--in", input, "--out", out},
	} {
		b.Run(name, func(b *testing.B) {
			run(b, args...) // makes the development seal once
			cpu = 0
			for b.Loop() {
				run(b, args...)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/run")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu_ms/run")
		})
	}
	b.Run("serve-ready", func(b *testing.B) {
		run(b, "keys", "create", "--role", "staff", "--name", "startup") // migrates the database once
		var total time.Duration
		for b.Loop() {
			ln := freeAddr(b)
			cmd := exec.Command(bin, "serve", "--addr", ln)
			cmd.Env = env
			start := time.Now()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			for {
				resp, err := http.Get("http://" + ln + "/readyz")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						break
					}
				}
				if time.Since(start) > 30*time.Second {
					b.Fatalf("not ready: %v", err)
				}
				time.Sleep(500 * time.Microsecond)
			}
			total += time.Since(start)
			cmd.Process.Kill()
			cmd.Wait()
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms_to_ready")
	})
}

// freeAddr returns a free address on 127.0.0.1.
func freeAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

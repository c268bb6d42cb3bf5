package archivetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/seal"
	"faldone/internal/tmpl"
	"faldone/templates"
)

// SealedLetter renders and seals Suvereto's adesione (a 2-page letter)
// with a development seal and returns its record, as the document service
// makes it, and its PDF.
func SealedLetter(tb testing.TB) (*faldone.Record, []byte) {
	tb.Helper()
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
	defer key.Close()
	body, err := os.ReadFile(filepath.Join(moduleRoot(tb), "samples", "suvereto", "adesione.json"))
	if err != nil {
		tb.Fatal(err)
	}
	r := &docs.Renderer{Templates: set, Version: faldone.Version}
	res, err := r.Render(context.Background(), faldone.KindAdesione, body, "it")
	if err != nil {
		tb.Fatal(err)
	}
	s := &seal.Sealer{Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pdf, facts, err := s.Seal(context.Background(), res.PDF, &res.Document)
	if err != nil {
		tb.Fatal(err)
	}
	d := res.Document
	return &faldone.Record{
		Version: 1, Kind: d.Kind, Comune: d.Comune, IPA: d.IPA, Oggetto: d.Oggetto, Protocol: d.Protocol,
		Lang: d.Lang, Date: d.Date.Format(time.DateOnly), Input: d.Input, InputSHA: d.InputSHA,
		Template: d.Template, Seal: *facts, Actor: "task-force", Format: "application/pdf", Producer: d.Producer,
	}, pdf
}

// moduleRoot returns the directory of go.mod above the working directory.
func moduleRoot(tb testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// FillLetters archives n versions made from one sealed letter, with
// workers concurrent appenders: every fifth is the comune's countersigned
// copy (version 2) of the appender's previous letter, the others new
// letters of five small comuni in turn. Each PDF is a
// distinct variant of the sealed letter (a comment appended after it), so
// every blob differs. A checkpoint is signed every 1,000 versions.
func FillLetters(tb testing.TB, a faldone.Archive, checkpoint func(context.Context) error, n, workers int) {
	tb.Helper()
	base, pdf := SealedLetter(tb)
	reg, _ := comuni.Default()
	var small []comuni.Comune
	for _, istat := range []string{"090007", "065027", "037034", "102032", "049020"} {
		if c, ok := reg.Lookup(istat); ok {
			small = append(small, c)
		}
	}
	if len(small) == 0 {
		tb.Fatal("no small comuni in the registry")
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx := context.Background()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for w := range workers {
		wg.Go(func() {
			var prev *faldone.Record
			var prevPDF []byte
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				rec := *base
				var b []byte
				if prev != nil && i%5 == 4 {
					rec = *prev
					rec.Version, rec.SHA256, rec.Size, rec.PrevSHA = 2, "", 0, ""
					rec.Reason, rec.Seal.ComuneSigned, rec.Actor = faldone.ChangeSigned, true, "comune"
					b = append(append([]byte{}, prevPDF...), fmt.Sprintf("%% countersigned %d\n", i)...)
					prev = nil
				} else {
					c := small[int(i)%len(small)]
					in, _ := json.Marshal(map[string]any{"comune": c.ISTAT, "n": i})
					rec.ID = fmt.Sprintf("bench%021d", i)
					rec.Comune, rec.IPA, rec.Input = c.ISTAT, c.IPA(), in
					rec.Oggetto = "Lettera di adesione al progetto FAST Piccoli Comuni - Comune di " + c.Name
					rec.Protocol.Number = fmt.Sprintf("%07d", 1+i)
					b = append(append([]byte{}, pdf...), "% variant "+strconv.FormatInt(i, 10)+"\n"...)
				}
				rec.Created = start.Add(time.Duration(i) * time.Second)
				if err := a.Append(ctx, &rec, b); err != nil {
					tb.Errorf("worker %d: append %d: %v", w, i, err)
					return
				}
				if rec.Version == 1 {
					r := rec
					prev, prevPDF = &r, b
				}
				if d := done.Add(1); d%1000 == 0 {
					if err := checkpoint(ctx); err != nil {
						tb.Errorf("checkpoint: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := checkpoint(ctx); err != nil {
		tb.Fatal(err)
	}
}

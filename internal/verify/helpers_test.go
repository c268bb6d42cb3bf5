package verify_test

import (
	"context"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"faldone/internal/audit"
	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/internal/verify"
	"faldone/templates"
)

var (
	setOnce sync.Once
	theSet  *tmpl.Set
	setErr  error
)

// templateSet loads the embedded templates once.
func templateSet(tb testing.TB) *tmpl.Set {
	tb.Helper()
	setOnce.Do(func() {
		reg, err := comuni.Default()
		if err != nil {
			setErr = err
			return
		}
		theSet, setErr = tmpl.Load(templates.FS, reg)
	})
	if setErr != nil {
		tb.Fatal(setErr)
	}
	return theSet
}

// env is a service as cmd/faldone wires it: the development seal, a SQLite
// archive, a log key and a verifier trusting the development CA.
type env struct {
	set      *tmpl.Set
	archive  *sqlite.Archive
	svc      *docs.Service
	seal     *keys.Seal
	devCA    *x509.Certificate
	log      *verify.TreeLog
	verifier *verify.Verifier
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{set: templateSet(tb)}
	dir := tb.TempDir()
	var err error
	if e.archive, err = sqlite.Open(context.Background(), filepath.Join(dir, "faldone.db"), filepath.Join(dir, "blobs")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.archive.Close() })
	if e.seal, _, err = keys.DevSeal(filepath.Join(dir, "keys"), nil); err != nil {
		tb.Fatal(err)
	}
	if e.devCA, err = keys.DevCA(filepath.Join(dir, "keys")); err != nil {
		tb.Fatal(err)
	}
	e.svc = &docs.Service{
		Renderer: &docs.Renderer{Templates: e.set, Version: "test"},
		Sealer:   &seal.Sealer{Key: e.seal, Logger: slog.New(slog.DiscardHandler)},
		Archive:  e.archive,
	}
	skey, vkey, err := audit.NewKey("faldone.test/log")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	e.log = &verify.TreeLog{Store: e.archive, Signer: signer, VKey: vkey}
	anchors := &verify.Anchors{}
	anchors.Add(e.devCA, "service")
	e.verifier = &verify.Verifier{Anchors: anchors, Archive: e.archive, Log: e.log, Messages: e.set}
	return e
}

// create archives a sealed document of a sample and returns it with its PDF.
func (e *env) create(tb testing.TB, comune, kind string) (*faldone.Record, []byte) {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "samples", comune, kind+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := e.svc.Create(context.Background(), faldone.Kind(kind), body, "it", "test")
	if err != nil {
		tb.Fatal(err)
	}
	_, pdf, err := e.svc.PDF(context.Background(), rec.ID, rec.Version)
	if err != nil {
		tb.Fatal(err)
	}
	return rec, pdf
}

// codes returns the reason codes of a report by severity.
func codes(r *verify.Report, severity string) []string {
	var out []string
	for _, x := range r.Reasons {
		if x.Severity == severity {
			out = append(out, x.Code)
		}
	}
	return out
}

func hasCode(r *verify.Report, code string) *verify.Reason {
	for i := range r.Reasons {
		if r.Reasons[i].Code == code {
			return &r.Reasons[i]
		}
	}
	return nil
}

func mustSample(tb testing.TB, comune, kind string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "samples", comune, kind+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// auditKey returns a fresh log key pair.
func auditKey(tb testing.TB) (skey, vkey string, err error) {
	tb.Helper()
	skey, vkey, err = audit.NewKey("other.test/log")
	if err != nil {
		tb.Fatal(err)
	}
	return skey, vkey, nil
}

// Command faldone produces the paperwork of the FAST Piccoli Comuni
// programme as sealed PDFs.
//
//	faldone serve    run the REST API
//	faldone render   render one document offline
//	faldone verify   verify a PDF offline
//	faldone audit    verify the archive and the audit log, re-render a document
//	faldone version  print the version
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/metrics"
	"faldone/internal/pades"
	"faldone/internal/postgres"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/templates"
)

const usage = `faldone - sealed PDFs for the FAST Piccoli Comuni programme

Usage:
  faldone serve    [flags]   run the REST API and the web pages
  faldone demo     [flags]   fill a fresh development instance with the samples
  faldone render   --kind K --in input.json --out out.pdf [flags]
  faldone verify   FILE.pdf [--bundle B.json] [--trust PEM] [--log-key KEY] [--lang it|en|de] [--json]
  faldone audit    verify | rerender --id X | gc   check the archive and the audit log, collect orphan PDFs
  faldone keys     create | list | revoke      manage API keys
  faldone health   [--addr A]   ask a running serve for /healthz (the image's HEALTHCHECK)
  faldone openapi  [--templates DIR]   print the OpenAPI 3.1 document of the API
  faldone batch    --kind K --in FILE [--out F.zip]   make many documents through a server
  faldone webhooks create|list|deliveries|redeliver|disable   manage event subscriptions
  faldone dossier  export --comune ISTAT | verify FILE.zip   a comune's conservation package
  faldone version
  faldone help     [COMMAND]

"faldone COMMAND --help" describes a command and its flags.

Exit status: 0 success (or a valid verdict), 1 a negative verdict or audit
findings, 2 a usage error or bad input, 3 a failure of the service or the
store. Errors go to standard error in the language of FALDONE_LANG, else of
the locale (LC_ALL, LC_MESSAGES, LANG): it, de, else en.
`

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "render" || os.Args[1] == "verify") && os.Getenv("GOGC") == "" {
		// A one-shot command that lives some 30 ms: collect garbage less
		// often (a fifth of its run went to the collector), under a
		// ceiling that keeps a large input from growing the heap freely.
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(512 << 20)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs one command and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	lang := userLang()
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = serve(rest, stdout)
	case "demo":
		err = demoCmd(rest, stdout)
	case "render":
		err = renderCmd(rest, stdout)
	case "verify":
		err = verifyCmd(rest, stdout)
	case "audit":
		err = auditCmd(rest, stdout)
	case "keys":
		err = keysCmd(rest, stdout)
	case "health":
		err = healthCmd(rest, stdout)
	case "openapi":
		err = openapiCmd(rest, stdout)
	case "batch":
		err = batchCmd(rest, stdout, os.Stderr)
	case "webhooks":
		err = webhooksCmd(rest, stdout)
	case "dossier":
		err = dossierCmd(rest, stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "faldone", faldone.Version)
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] != "help" && !strings.HasPrefix(rest[0], "-") {
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
	default:
		err = usagef("unknown_command", cmd)
		cmd = "help"
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		reportError(stderr, lang, cmd, err)
	}
	return exitStatus(err)
}

// loadTemplates loads the embedded templates, or dir's when set.
// openArchive opens the archive of cfg.Store: SQLite under the data
// directory, or PostgreSQL.
func openArchive(ctx context.Context, cfg *Config) (faldone.Archive, error) {
	a, err := openStore(ctx, cfg)
	if err != nil {
		return nil, failWrap("store", err, redact(cfg.Store))
	}
	return a, nil
}

// openStore is openArchive.
func openStore(ctx context.Context, cfg *Config) (faldone.Archive, error) {
	if path, ok := strings.CutPrefix(cfg.Store, "sqlite:"); ok {
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Data, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, failWrap("data_dir", err)
		}
		a, err := sqlite.Open(ctx, path, filepath.Join(cfg.Data, "blobs"))
		if err != nil {
			return nil, err
		}
		a.MinFree = cfg.MinFreeSpace
		if err := openObjects(ctx, cfg, a); err != nil {
			a.Close()
			return nil, err
		}
		return a, nil
	}
	a, err := postgres.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	if err := openObjects(ctx, cfg, a); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openSealer loads the seal key and the TSA client of cfg. On the embedded
// default it creates a development CA and seal in the data directory the
// first time, and says so with its fingerprint.
func openSealer(cfg *Config, log *slog.Logger) (*seal.Sealer, error) {
	var key *keys.Seal
	if cfg.Seal == "dev" && !cfg.Production {
		k, created, err := keys.DevSeal(filepath.Join(cfg.Data, "keys"), time.Now)
		if err != nil {
			return nil, failWrap("dev_seal", err)
		}
		if created {
			log.Warn("created a development seal: NOT VALID FOR PRODUCTION", "dir", filepath.Join(cfg.Data, "keys"), "sha256", k.Fingerprint())
		}
		key = k
	} else {
		secret, err := keys.PasswordFrom(os.Getenv("FALDONE_SEAL_SECRET"), cfg.SealSecretFile)
		if err != nil && !errors.Is(err, keys.ErrNoSecret) {
			return nil, err
		}
		k, err := keys.Open(cfg.Seal, keys.Options{Secret: secret, AllowDev: !cfg.Production, DevDir: filepath.Join(cfg.Data, "keys")})
		if err != nil {
			return nil, err
		}
		key = k
	}
	s := &seal.Sealer{Key: key, Fallback: cfg.TSAFallback, Tolerance: cfg.ClockTolerance, Logger: log}
	if cfg.TSAURL != "" {
		s.TSA = &pades.TSA{URL: cfg.TSAURL, Timeout: cfg.TSATimeout, Retries: cfg.TSARetries}
		ltv, err := longTerm(cfg, key, s.TSA, log)
		if err != nil {
			return nil, err
		}
		s.LTV = ltv
	}
	log.Info("seal ready", "source", key.Source, "sha256", key.Fingerprint(), "subject", key.Leaf().Subject.String(), "tsa", cfg.TSAURL, "dev", key.Dev)
	return s, nil
}

func loadTemplates(dir string) (*tmpl.Set, error) {
	reg, err := comuni.Default()
	if err != nil {
		return nil, err
	}
	var fsys fs.FS = templates.FS
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	load := tmpl.Load
	if dir == "" {
		load = tmpl.LoadChecked // checked by the tests that built the binary
	}
	set, err := load(fsys, reg)
	if err != nil {
		where := "embedded templates"
		if dir != "" {
			where = dir
		}
		return nil, failWrap("load_templates", err, where)
	}
	set.Version = faldone.Version
	cliLocalize = set.Localize
	return set, nil
}

func newLogger(cfg *Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

const serveUsage = `Usage: faldone serve [flags]

Runs the REST API (/v1, /openapi.json, reference at /docs), the web pages
(/verifica, /comune) and /metrics on --addr. Every flag is also an
environment variable (FALDONE_ and the flag's name in capitals).

`

func serve(args []string, stdout io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.bind(fs)
	if pos, err := parseFlags(fs, args, serveUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "serve", pos)
	}
	cfg.secureCookiesDefault(fs)
	if err := cfg.Validate(); err != nil {
		return usageWrap("settings", err)
	}
	docs.SetProcs()
	log := newLogger(&cfg)
	set, err := loadTemplates(cfg.Templates)
	if err != nil {
		return err
	}
	archive, err := openArchive(context.Background(), &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	sealer, err := openSealer(&cfg, log)
	if err != nil {
		return err
	}
	defer sealer.Key.Close()
	auditLog, err := openLedger(&cfg, archive, log)
	if err != nil {
		return err
	}
	verifier, err := newVerifier(&cfg, sealer, archive, auditLog, set)
	if err != nil {
		return err
	}
	logAnchors(log, &cfg, verifier)
	m := metrics.New(set.Kinds())
	if sealer.TSA != nil {
		sealer.TSA.Client = m.TSAClient(sealer.TSA.Client)
	}
	svc := &docs.Service{
		Renderer: &docs.Renderer{Templates: set, Version: faldone.Version},
		Sealer:   sealer,
		Archive:  m.Archive(archive),
		// The comune's signature is judged as verification judges it;
		// production refuses a signer that is not trusted.
		Trust: verifier.Policy(), RequireTrusted: cfg.Production,
	}
	keySvc := keyService(context.Background(), archive, set, log)
	wq, err := startQueue(context.Background(), &cfg, archive, svc, set, log)
	if err != nil {
		return err
	}
	mountWeb, pageError, err := webPages(&cfg, set, archive, svc, verifier, keySvc, log, m)
	if err != nil {
		return err
	}
	srv := fhttp.New(fhttp.Config{
		Mount: []func(fiber.Router){mountWeb}, PageError: pageError,
		Templates: set, Documents: svc, Version: faldone.Version,
		BodyLimit: cfg.BodyLimit, RenderTimeout: cfg.RenderTimeout, Logger: log,
		Verifier: verifier, VerifyLimit: cfg.VerifyLimit,
		Batches: wq.batches, Webhooks: wq.webhooks, Events: wq.webhooks, Idempotency: wq.idempotency,
		Ledger:      auditLog,
		Metrics:     m,
		Keys:        keySvc,
		CORSOrigins: cfg.corsOrigins(), HSTSMaxAge: cfg.HSTSMaxAge, RateWindow: cfg.RateWindow,
		VerifyRate: cfg.RateVerify, AuthFailureRate: cfg.RateAuthFailures,
		ProxyHeader: cfg.ProxyHeader, TrustedProxies: list(cfg.TrustedProxies),
		MaxConnsPerIP: cfg.MaxConnsPerIP,
		Ready:         readiness(&cfg, archive),
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go auditLog.Run(ctx, cfg.CheckpointInterval)
	if a, ok := archive.(*sqlite.Archive); ok && cfg.GCInterval > 0 {
		go a.RunGC(ctx, cfg.GCInterval, cfg.GCGrace, func(msg string, args ...any) { log.Warn(msg, args...) })
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Listen(cfg.Addr) }()
	log.Info("faldone listening", "addr", cfg.Addr, "data", cfg.Data, "version", faldone.Version, "kinds", set.Kinds())
	select {
	case err := <-errc:
		return failWrap("listen", err, cfg.Addr)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	wq.stop(sctx)
	return err
}

const renderUsage = `Usage: faldone render --kind K --in input.json --out out.pdf [flags]

Renders one document offline with the same code as the API, sealed with the
configured seal (the development seal of --data by default), or unsealed
with --unsigned.

`

func renderCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	kind := fs.String("kind", "", "document kind: adesione, assessment, piano, approvazione, chiusura")
	in := fs.String("in", "", "input JSON file (- for standard input)")
	out := fs.String("out", "", "output PDF file")
	lang := fs.String("lang", "", "language: it, en, de (default: the input's lang, else it)")
	tdir := fs.String("templates", env("templates", ""), "directory of templates overriding the embedded ones (FALDONE_TEMPLATES)")
	unsigned := fs.Bool("unsigned", false, "do not seal: a draft")
	var cfg Config
	fs.StringVar(&cfg.Data, "data", env("data", "./data"), "data directory, where the development seal lives (FALDONE_DATA)")
	asJSON := fs.Bool("json", false, "print the result as JSON: file, sha256, size, level")
	cfg.bindSeal(fs)
	if pos, err := parseFlags(fs, args, renderUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "render", pos)
	}
	if errs := cfg.validateSeal(); len(errs) > 0 && !*unsigned {
		return usageWrap("settings", errs)
	}
	if *kind == "" || *in == "" || *out == "" {
		return usagef("needs", "render", "--kind, --in, --out")
	}
	set, err := loadTemplates(*tdir)
	if err != nil {
		return err
	}
	var body []byte
	if *in == "-" {
		body, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	} else {
		body, err = os.ReadFile(*in)
	}
	if err != nil {
		return usageWrap("read", err, *in)
	}
	r := &docs.Renderer{Templates: set, Version: faldone.Version}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var opts []docs.Option
	if *unsigned {
		opts = append(opts, docs.Draft())
	}
	res, err := r.Render(ctx, faldone.Kind(*kind), body, *lang, opts...)
	if err != nil {
		return err
	}
	pdf, level := res.PDF, "unsigned"
	if !*unsigned {
		sealer, err := openSealer(&cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return err
		}
		defer sealer.Key.Close()
		sealed, facts, err := sealer.Seal(ctx, pdf, &res.Document)
		if err != nil {
			return err
		}
		pdf, level = sealed, "PAdES "+facts.Level
	}
	if err := os.WriteFile(*out, pdf, 0o644); err != nil {
		return failWrap("write", err, *out)
	}
	sum := sha256.Sum256(pdf)
	if *asJSON {
		return writeJSON(stdout, map[string]any{"file": *out, "sha256": fmt.Sprintf("%x", sum), "size": len(pdf), "level": level})
	}
	fmt.Fprintf(stdout, "%x  %s  %d bytes  %s\n", sum, *out, len(pdf), level)
	return nil
}

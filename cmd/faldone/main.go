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
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/comuni"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/keys"
	"faldone/internal/pades"
	"faldone/internal/postgres"
	"faldone/internal/seal"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/templates"
)

const usage = `faldone - sealed PDFs for the FAST Piccoli Comuni programme

Usage:
  faldone serve   [flags]   run the REST API (see faldone serve -h)
  faldone render  --kind K --in input.json --out out.pdf [flags]
  faldone verify  FILE.pdf [--bundle B.json] [--trust PEM] [--log-key KEY] [--lang it|en|de] [--json]
  faldone audit   verify | rerender --id X | gc   check the archive, collect orphan PDFs (see faldone audit -h)
  faldone keys    create|list|revoke [flags]   manage API keys (see faldone keys help)
  faldone batch   --kind K --in FILE [--out F.zip]   make many documents through a server (see faldone batch -h)
  faldone webhooks create|list|deliveries|redeliver|disable   manage event subscriptions (see faldone webhooks help)
  faldone dossier export --comune ISTAT | verify FILE.zip   conservation package (see faldone dossier -h)
  faldone version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "render":
		err = renderCmd(os.Args[2:])
	case "verify":
		os.Exit(verifyCmd(os.Args[2:], os.Stdout, os.Stderr))
	case "audit":
		err = auditCmd(os.Args[2:], os.Stdout)
	case "keys":
		err = keysCmd(os.Args[2:])
	case "batch":
		err = batchCmd(os.Args[2:], os.Stdout, os.Stderr)
	case "webhooks":
		err = webhooksCmd(os.Args[2:], os.Stdout)
	case "dossier":
		err = dossierCmd(os.Args[2:], os.Stdout)
	case "version", "--version", "-v":
		fmt.Println("faldone", faldone.Version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "faldone: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "faldone:", err)
		var de *faldone.Error
		if errors.As(err, &de) {
			for _, f := range de.Fields {
				fmt.Fprintf(os.Stderr, "  %s: %s\n", f.Path, f.Message)
			}
		}
		os.Exit(1)
	}
}

// loadTemplates loads the embedded templates, or dir's when set.
// openArchive opens the archive of cfg.Store: SQLite under the data
// directory, or PostgreSQL.
func openArchive(ctx context.Context, cfg *Config) (faldone.Archive, error) {
	if path, ok := strings.CutPrefix(cfg.Store, "sqlite:"); ok {
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Data, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
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
			return nil, fmt.Errorf("development seal: %w", err)
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
	set, err := tmpl.Load(fsys, reg)
	if err != nil {
		where := "embedded templates"
		if dir != "" {
			where = dir
		}
		return nil, fmt.Errorf("load templates (%s): %w", where, err)
	}
	set.Version = faldone.Version
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

func serve(args []string) error {
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.secureCookiesDefault(fs)
	if err := cfg.Validate(); err != nil {
		return err
	}
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
	svc := &docs.Service{
		Renderer: &docs.Renderer{Templates: set, Version: faldone.Version},
		Sealer:   sealer,
		Archive:  archive,
		// The comune's signature is judged as verification judges it;
		// production refuses a signer that is not trusted.
		Trust: verifier.Policy(), RequireTrusted: cfg.Production,
	}
	keySvc := keyService(context.Background(), archive, set, log)
	wq, err := startQueue(context.Background(), &cfg, archive, svc, set, log)
	if err != nil {
		return err
	}
	mountWeb, err := webPages(&cfg, set, archive, svc, verifier, keySvc, log)
	if err != nil {
		return err
	}
	srv := fhttp.New(fhttp.Config{
		Mount:     []func(fiber.Router){mountWeb},
		Templates: set, Documents: svc, Version: faldone.Version,
		BodyLimit: cfg.BodyLimit, RenderTimeout: cfg.RenderTimeout, Logger: log,
		Verifier: verifier, VerifyLimit: cfg.VerifyLimit,
		Batches: wq.batches, Webhooks: wq.webhooks, Events: wq.webhooks, Idempotency: wq.idempotency,
		Ledger:      auditLog,
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
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	wq.stop(sctx)
	return err
}

func renderCmd(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	kind := fs.String("kind", "", "document kind: adesione, assessment, piano, approvazione, chiusura")
	in := fs.String("in", "", "input JSON file (- for standard input)")
	out := fs.String("out", "", "output PDF file")
	lang := fs.String("lang", "", "language: it, en, de (default: the input's lang, else it)")
	tdir := fs.String("templates", env("templates", ""), "directory of templates overriding the embedded ones (FALDONE_TEMPLATES)")
	unsigned := fs.Bool("unsigned", false, "do not seal: a draft")
	var cfg Config
	fs.StringVar(&cfg.Data, "data", env("data", "./data"), "data directory, where the development seal lives (FALDONE_DATA)")
	cfg.bindSeal(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if errs := cfg.validateSeal(); len(errs) > 0 && !*unsigned {
		return fmt.Errorf("invalid settings: %s", strings.Join(errs, "; "))
	}
	if *kind == "" || *in == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("render needs --kind, --in and --out")
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
		return fmt.Errorf("read input: %w", err)
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
		return fmt.Errorf("write %s: %w", *out, err)
	}
	sum := sha256.Sum256(pdf)
	fmt.Printf("%x  %s  %d bytes  %s\n", sum, *out, len(pdf), level)
	return nil
}

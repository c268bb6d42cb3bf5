package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/ledger"
	"faldone/internal/pades"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
)

const auditUsage = `Usage:
  faldone audit verify   [--data D] [--store S] [--log-key F]
      recompute every leaf from the stored records, re-hash every PDF,
      rebuild the tree and check every stored checkpoint; exit status 1
      when anything is wrong
  faldone audit rerender --id X [--version N] [--data D] [--store S] [--templates DIR]
      re-render a document from its archived input and template and check
      that the result is the first revision of the sealed file
  faldone audit extend   --tsa-url URL [--window 2160h] [--tsa-chain F] [--data D] [--store S]
      add a new version (reason Integrazione) with the validation data and a
      fresh document time-stamp to every sealed document whose newest
      time-stamp certificate expires within --window (B-LTA)
  faldone audit gc       [--data D] [--store S] [--grace 1h]
      remove the PDF files no record names (left by refused, failed or
      crashed writes of SQLite archives that kept PDFs as files) and
      temporary files, last modified before --grace, and move those a
      record names into the database (PDFs kept in the database are never
      orphans)
`

// errFindings is returned when an audit found problems: exit status 1.
var errFindings = errors.New("the audit found problems")

// auditCmd runs faldone audit.
func auditCmd(args []string, stdout io.Writer) error {
	return runSubcommand("audit", auditUsage, []subcommand{
		{"verify", auditVerify}, {"rerender", auditRerender}, {"gc", auditGC}, {"extend", auditExtend},
	}, args, stdout)
}

// bindStore registers the settings that locate the archive and the log key.
func (c *Config) bindStore(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", env("data", "./data"), "data directory (FALDONE_DATA)")
	fs.StringVar(&c.Store, "store", env("store", "sqlite:faldone.db"), "archive: sqlite:PATH (relative to the data directory) or a postgres:// URL (FALDONE_STORE)")
	fs.StringVar(&c.LogKey, "log-key", env("log-key", ""), "file of the audit log's key, secret or public; empty: <data>/keys/log.key (FALDONE_LOG_KEY)")
}

func auditVerify(args []string, stdout io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	cfg.bindStore(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON: size, records, PDFs, checkpoints, root and findings")
	if pos, err := parseFlags(fs, args, auditUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "audit verify", pos)
	}
	vkey, err := ledger.LoadVerifierKey(logKeyPath(&cfg))
	if err != nil {
		return err
	}
	ctx := context.Background()
	archive, err := openExistingArchive(ctx, &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	store, ok := archive.(ledger.AuditStore)
	if !ok {
		return failWrap("no_audit", nil)
	}
	start := time.Now()
	rep, err := ledger.Audit(ctx, store, vkey)
	if err != nil {
		return err
	}
	if *asJSON {
		findings := []string{}
		for _, f := range rep.Findings {
			findings = append(findings, f.String())
		}
		root := ""
		if rep.Root != nil {
			root = hex.EncodeToString(rep.Root)
		}
		if err := writeJSON(stdout, map[string]any{"ok": rep.OK(), "size": rep.Size, "records": rep.Records, "pdfs": rep.PDFs,
			"checkpoints": rep.Checkpoints, "root": root, "findings": findings}); err != nil {
			return err
		}
		if !rep.OK() {
			return findingsf("audit_findings", len(rep.Findings))
		}
		return nil
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(stdout, f.String())
	}
	root := "-"
	if rep.Root != nil {
		root = hex.EncodeToString(rep.Root)
	}
	fmt.Fprintf(stdout, "audit verify: %d leaves, %d records, %d PDFs re-hashed, %d checkpoints verified, root %s, %s\n",
		rep.Size, rep.Records, rep.PDFs, rep.Checkpoints, root, time.Since(start).Round(time.Millisecond))
	if !rep.OK() {
		fmt.Fprintf(stdout, "FAILED: %d findings\n", len(rep.Findings))
		return findingsf("audit_findings", len(rep.Findings))
	}
	fmt.Fprintln(stdout, "OK: every record, PDF, tree node and checkpoint matches")
	return nil
}

// openExistingArchive opens the archive of cfg for a command that reads
// or extends it, refusing a SQLite archive that does not exist.
func openExistingArchive(ctx context.Context, cfg *Config) (faldone.Archive, error) {
	if err := storeExists(cfg); err != nil {
		return nil, err
	}
	return openArchive(ctx, cfg)
}

// storeExists refuses to audit a SQLite archive that does not exist
// (opening would create an empty one).
func storeExists(cfg *Config) error {
	path, ok := strings.CutPrefix(cfg.Store, "sqlite:")
	if !ok {
		return nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(cfg.Data, path)
	}
	if _, err := os.Stat(path); err != nil {
		return usageWrap("no_archive", err)
	}
	return nil
}

func auditRerender(args []string, stdout io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("audit rerender", flag.ContinueOnError)
	cfg.bindStore(fs)
	id := fs.String("id", "", "document id")
	version := fs.Int("version", 0, "version (default: the newest)")
	fs.StringVar(&cfg.Templates, "templates", env("templates", ""), "directory of templates overriding the embedded ones: the archived template version (FALDONE_TEMPLATES)")
	if pos, err := parseFlags(fs, args, auditUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "audit rerender", pos)
	}
	if *id == "" {
		return usagef("needs", "audit rerender", "--id")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	archive, err := openExistingArchive(ctx, &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	var rec *faldone.Record
	if *version == 0 {
		rec, err = archive.Latest(ctx, *id)
	} else {
		rec, err = archive.Version(ctx, *id, *version)
	}
	if faldone.ErrorCode(err) == faldone.ENOTFOUND {
		return usageWrap("no_document", err, *id)
	} else if err != nil {
		return err
	}
	sealed, err := archive.PDF(ctx, rec.SHA256)
	if err != nil {
		return err
	}
	set, err := loadTemplates(cfg.Templates)
	if err != nil {
		return err
	}
	t, ok := set.Template(string(rec.Kind))
	if !ok {
		return failWrap("no_template", nil, rec.ID, rec.Version, rec.Kind)
	}
	if t.Ref() != rec.Template {
		return failWrap("template_differs", nil, rec.ID, rec.Version, rec.Template.ID, rec.Template.Version, rec.Template.SHA256, t.ID, t.Version, t.SHA256)
	}
	var cited *faldone.Record
	if rec.Cites != "" {
		cands, err := archive.BySHA(ctx, rec.CitesSHA)
		if err != nil {
			return err
		}
		for _, c := range cands {
			if c.ID == rec.Cites {
				cited = c
			}
		}
		if cited == nil {
			return failWrap("cited_missing", nil, rec.ID, rec.Version, rec.Cites, rec.CitesSHA)
		}
	}
	data, err := tmpl.Decode(rec.Input)
	if err != nil {
		return failWrap("archived_input", err, rec.ID, rec.Version)
	}
	r := &docs.Renderer{Templates: set, Version: strings.TrimPrefix(rec.Producer, "faldone ")}
	opts := []docs.Option{docs.Cited(cited)}
	if rec.Seal.Level == "" {
		opts = append(opts, docs.Draft()) // archived unsealed, so rendered as a draft
	}
	res, err := r.RenderData(ctx, rec.Kind, data, rec.Lang, opts...)
	if err != nil {
		return failWrap("rerender_failed", err, rec.ID, rec.Version)
	}
	revs, err := pades.Revisions(sealed)
	if err != nil || len(revs) == 0 {
		return failWrap("no_revisions", err, rec.ID, rec.Version)
	}
	first := sealed[:revs[0]]
	what := fmt.Sprintf("document %s version %d (%s, template %s %s)", rec.ID, rec.Version, rec.Kind, t.ID, t.Version)
	if !bytes.Equal(res.PDF, first) {
		at := 0
		for at < len(res.PDF) && at < len(first) && res.PDF[at] == first[at] {
			at++
		}
		fmt.Fprintf(stdout, "DIFFERS: %s: the render (%d bytes) is not the first revision of the sealed file (%d bytes): first difference at byte %d\n",
			what, len(res.PDF), len(first), at)
		return findingsf("rerender_differs")
	}
	fmt.Fprintf(stdout, "OK: %s: the render of the archived input is byte for byte the first revision (%d of %d bytes) of the archived file %s\n",
		what, len(first), len(sealed), rec.SHA256)
	return nil
}

// auditGC runs faldone audit gc.
func auditGC(args []string, stdout io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("audit gc", flag.ContinueOnError)
	cfg.bindStore(fs)
	grace := fs.Duration("grace", envDuration("gc-grace", time.Hour), "leave files modified within this long (FALDONE_GC_GRACE)")
	if pos, err := parseFlags(fs, args, auditUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "audit gc", pos)
	}
	if *grace < 0 {
		return usageWrap("settings", settingErrors{bad("not_negative", "--grace")})
	}
	ctx := context.Background()
	archive, err := openExistingArchive(ctx, &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	a, ok := archive.(*sqlite.Archive)
	if !ok {
		fmt.Fprintln(stdout, "nothing to collect: PostgreSQL stores each PDF in the transaction of its record")
		return nil
	}
	gc, err := a.CollectGarbage(ctx, *grace)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "examined %d files, removed %d orphan blobs and temporary files (%d bytes), moved %d PDFs into the database\n", gc.Examined, gc.Removed, gc.Bytes, gc.Moved)
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"faldone/internal/comuni"
	"faldone/internal/conservazione"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/ledger"
)

const dossierUsage = `Usage:
  faldone dossier export --comune ISTAT [--out FILE.zip] [--data D] [--store S] [--log-key F]
      write the conservation package of a comune's dossier: every version's
      PDF with its AgID metadata (Allegato 5), archive record and inclusion
      proof, the signed checkpoint, and a UNI 11386 (SInCRO) index
  faldone dossier verify FILE.zip --log-key F
      verify a package offline against the audit log's public key: every
      hash of the index, the checkpoint's signature, every inclusion proof;
      exit status 1 when anything is wrong
`

// dossierCmd runs faldone dossier.
func dossierCmd(args []string, stdout io.Writer) error {
	return runSubcommand("dossier", dossierUsage, []subcommand{
		{"export", dossierExport}, {"verify", dossierVerify},
	}, args, stdout)
}

func dossierExport(args []string, stdout io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("dossier export", flag.ContinueOnError)
	cfg.bindStore(fs)
	istat := fs.String("comune", "", "ISTAT code of the comune")
	out := fs.String("out", "", "package file (default: fascicolo-FAST-<ISTAT>.zip)")
	if pos, err := parseFlags(fs, args, dossierUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "dossier export", pos)
	}
	reg, err := comuni.Default()
	if err != nil {
		return err
	}
	cm, ok := reg.Lookup(*istat)
	if !ok {
		return faldone.Errorf(faldone.ENOTFOUND, "no comune has ISTAT code %q", *istat)
	}
	if *out == "" {
		*out = "fascicolo-FAST-" + cm.ISTAT + ".zip"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	archive, err := openExistingArchive(ctx, &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	store, ok := archive.(ledger.Store)
	if !ok {
		return failWrap("no_log", nil)
	}
	skey, _, err := ledger.LoadKey(logKeyPath(&cfg), false)
	if err != nil {
		return failWrap("package_log_key", err)
	}
	l, err := ledger.New(store, skey, ledger.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	name := cm.DisplayName("it")
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".fascicolo-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	sum, err := conservazione.Write(ctx, tmp, conservazione.Source{Archive: archive, Log: l, Version: faldone.Version,
		Metadata: func(r *faldone.Record) any { return fhttp.RecordMetadata(r, name) }}, cm.ISTAT, name)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d documents, %d versions, %d files, %d bytes; checkpoint of %d leaves, root %s\n",
		*out, sum.Documents, sum.Versions, sum.Files, sum.Bytes, sum.TreeSize, sum.Root)
	return nil
}

func dossierVerify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dossier verify", flag.ContinueOnError)
	keyFile := fs.String("log-key", env("log-key", ""), "file of the audit log's public key (or secret key) (FALDONE_LOG_KEY)")
	pos, err := parseFlags(fs, args, dossierUsage, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *keyFile == "" {
		return usagef("needs", "dossier verify", "FILE.zip --log-key F")
	}
	file := pos[0]
	vkey, err := ledger.LoadVerifierKey(*keyFile)
	if err != nil {
		return usageWrap("read", err, *keyFile)
	}
	f, err := os.Open(file)
	if err != nil {
		return usageWrap("read", err, file)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := conservazione.Verify(f, st.Size(), vkey)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p)
	}
	if !rep.OK() {
		fmt.Fprintf(stdout, "NOT VALID: %d problems\n", len(rep.Problems))
		return findingsf("package_problems", len(rep.Problems))
	}
	fmt.Fprintf(stdout, "VALID: %d versions, %d files; every hash matches the index, the checkpoint of %d leaves (root %s) is signed by the log key, every inclusion proof holds\n",
		rep.Versions, rep.Files, rep.TreeSize, rep.Root)
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"faldone/internal/comuni"
	"faldone/internal/faldone"
	"faldone/internal/keys"
	"faldone/internal/pades"
)

// auditExtend runs faldone audit extend: every document whose newest
// time-stamp was made with a certificate that expires within --window
// gets a new archived version, reason Integrazione, with the validation
// data of its time-stamps and signatures and a fresh document
// time-stamp, which proves that the earlier ones existed while their
// certificates were valid.
func auditExtend(args []string, stdout io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("audit extend", flag.ContinueOnError)
	cfg.bindStore(fs)
	cfg.bindSeal(fs)
	window := fs.Duration("window", envDuration("extend-window", 90*24*time.Hour), "extend the documents whose newest time-stamp certificate expires within this window (FALDONE_EXTEND_WINDOW)")
	if pos, err := parseFlags(fs, args, auditUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "audit extend", pos)
	}
	if cfg.TSAURL == "" {
		return usagef("needs", "audit extend", "--tsa-url")
	}
	if *window < 0 {
		return usageWrap("settings", settingErrors{bad("not_negative", "--window")})
	}
	ctx := context.Background()
	archive, err := openExistingArchive(ctx, &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	devDir := filepath.Join(cfg.Data, "keys")
	if _, err := keys.DevCRL(devDir); errors.Is(err, iofs.ErrNotExist) {
		devDir = ""
	}
	ltv, err := newLTV(&cfg, devDir, slog.New(slog.NewTextHandler(stdout, nil)))
	if err != nil {
		return err
	}
	reg, err := comuni.Default()
	if err != nil {
		return err
	}
	now := time.Now()
	var checked, extended, failed int
	for _, c := range reg.All() {
		recs, err := archive.Dossier(ctx, c.ISTAT)
		if err != nil {
			return err
		}
		latest := map[string]*faldone.Record{}
		var order []string
		for _, r := range recs {
			if _, ok := latest[r.ID]; !ok {
				order = append(order, r.ID)
			}
			if p := latest[r.ID]; p == nil || r.Version > p.Version {
				latest[r.ID] = r
			}
		}
		for _, id := range order {
			rec := latest[id]
			if rec.Seal.Level == "" {
				continue
			}
			checked++
			v, err := extendOne(ctx, archive, ltv, rec, now, *window)
			switch {
			case err != nil:
				failed++
				fmt.Fprintf(stdout, "FAILED: document %s version %d: %v\n", rec.ID, rec.Version, err)
			case v != nil:
				extended++
				fmt.Fprintf(stdout, "EXTENDED: document %s version %d: new version %d at %s, time-stamped %s\n",
					rec.ID, rec.Version, v.Version, v.Seal.Level, v.Seal.ArchiveTimestampTime.Format(time.RFC3339))
			}
		}
	}
	fmt.Fprintf(stdout, "audit extend: %d sealed documents checked, %d extended, %d failed (window %s)\n", checked, extended, failed, *window)
	if failed > 0 {
		return findingsf("not_extended", failed)
	}
	return nil
}

// extendOne extends rec when its newest time-stamp's certificate expires
// before now+window, and returns the new version (nil when not due).
func extendOne(ctx context.Context, archive faldone.Archive, ltv *pades.LTV, rec *faldone.Record, now time.Time, window time.Duration) (*faldone.Record, error) {
	pdf, err := archive.PDF(ctx, rec.SHA256)
	if err != nil {
		return nil, err
	}
	sigs, err := pades.Inspect(pdf)
	if err != nil {
		return nil, err
	}
	var newest *pades.Timestamp
	for _, s := range sigs {
		if s.Timestamp != nil && s.Timestamp.Signer != nil && (newest == nil || s.Timestamp.Time.After(newest.Time)) {
			newest = s.Timestamp
		}
	}
	if newest == nil {
		return nil, errors.New("no time-stamp: the seal is B-B")
	}
	if newest.Signer.NotAfter.After(now.Add(window)) {
		return nil, nil
	}
	out, res, err := ltv.Extend(ctx, pdf)
	if err != nil {
		return nil, err
	}
	next := *rec
	next.Version = rec.Version + 1
	next.PrevSHA = rec.SHA256
	next.Reason = faldone.ChangeIntegrazione
	next.SHA256, next.Size, next.Leaf = "", 0, 0
	next.Seal.Level = res.Level
	t := res.TimestampTime.UTC()
	next.Seal.ArchiveTimestampTime = &t
	next.Seal.LTVFallback = false
	next.Actor = "audit extend"
	next.Created = now.UTC()
	if err := archive.Append(ctx, &next, out); err != nil {
		return nil, err
	}
	return &next, nil
}

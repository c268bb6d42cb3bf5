package main

import (
	"log/slog"
	"path/filepath"

	"faldone/internal/faldone"
	"faldone/internal/ledger"
)

// logKeyPath returns the audit log key file of cfg.
func logKeyPath(cfg *Config) string {
	if cfg.LogKey != "" {
		return cfg.LogKey
	}
	return filepath.Join(cfg.Data, "keys", "log.key")
}

// openLedger opens the audit log of archive with the key of cfg: the
// configured file, or <data>/keys/log.key, either created on first start
// (instances starting together end up with the same key). It logs
// the log's public key, which auditors need.
func openLedger(cfg *Config, archive faldone.Archive, log *slog.Logger) (*ledger.Ledger, error) {
	store, ok := archive.(ledger.Store)
	if !ok {
		return nil, failWrap("no_log", nil)
	}
	path := logKeyPath(cfg)
	skey, created, err := ledger.LoadKey(path, true)
	if err != nil {
		return nil, err
	}
	l, err := ledger.New(store, skey, ledger.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created the audit log key: keep it secret and back it up; give auditors the public key", "file", path, "public_key", l.PublicKey())
	}
	log.Info("audit log ready", "public_key", l.PublicKey(), "checkpoint_interval", cfg.CheckpointInterval.String())
	return l, nil
}

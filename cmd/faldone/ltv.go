package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"faldone/internal/keys"
	"faldone/internal/pades"
)

// longTerm returns the extension of every seal to cfg.SealLevel (nil at
// B-T). The development CA's CRL, made with it, is embedded in the
// seals of the development seal: its certificate names no revocation
// service.
func longTerm(cfg *Config, key *keys.Seal, tsa *pades.TSA, log *slog.Logger) (*pades.LTV, error) {
	if cfg.SealLevel == pades.LevelBT || cfg.SealLevel == "" {
		return nil, nil
	}
	l := &pades.LTV{Revocation: &pades.Revocation{Timeout: cfg.RevocationTimeout, Retries: cfg.RevocationRetries}}
	if cfg.TSAChain != "" {
		b, err := os.ReadFile(cfg.TSAChain)
		if err != nil {
			return nil, fmt.Errorf("tsa-chain: %w", err)
		}
		for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tsa-chain: %w", err)
			}
			l.Extra = append(l.Extra, c)
		}
		if len(l.Extra) == 0 {
			return nil, fmt.Errorf("tsa-chain: no certificate in %s", cfg.TSAChain)
		}
	}
	if cfg.SealLevel == pades.LevelBLTA {
		l.TSA = tsa
	}
	if key.Dev {
		dir := filepath.Join(cfg.Data, "keys")
		if d, ok := strings.CutPrefix(key.Source, "dev:"); ok {
			dir = d
		}
		crl, err := keys.DevCRL(dir)
		if err != nil {
			log.Warn("the development CA has no CRL: its seals carry none; remove the development directory to make a new CA with one", "error", err.Error())
		} else {
			l.Revocation.Local = [][]byte{crl}
		}
	}
	return l, nil
}

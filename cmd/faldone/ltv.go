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
	devDir := ""
	if key.Dev {
		devDir = filepath.Join(cfg.Data, "keys")
		if d, ok := strings.CutPrefix(key.Source, "dev:"); ok {
			devDir = d
		}
	}
	l, err := newLTV(cfg, devDir, log)
	if err != nil {
		return nil, err
	}
	l.TSA = tsa // the sealer's client, with its metrics
	if cfg.SealLevel != pades.LevelBLTA {
		l.TSA = nil
	}
	return l, nil
}

// newLTV returns the extension to B-LTA of cfg: its TSA, its revocation
// timeouts, the --tsa-chain certificates and, when devDir is set, the
// development CA's CRL.
func newLTV(cfg *Config, devDir string, log *slog.Logger) (*pades.LTV, error) {
	tsa := &pades.TSA{URL: cfg.TSAURL, Timeout: cfg.TSATimeout, Retries: cfg.TSARetries}
	l := &pades.LTV{Revocation: &pades.Revocation{Timeout: cfg.RevocationTimeout, Retries: cfg.RevocationRetries}, TSA: tsa}
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
	if devDir != "" {
		crl, err := keys.DevCRL(devDir)
		if err != nil {
			log.Warn("the development CA has no CRL: its seals carry none; remove the development directory to make a new CA with one", "error", err.Error())
		} else {
			l.Revocation.Local = [][]byte{crl}
		}
	}
	return l, nil
}

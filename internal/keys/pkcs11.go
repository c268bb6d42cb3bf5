//go:build cgo

package keys

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ThalesIgnite/crypto11"
	"github.com/miekg/pkcs11"
)

// OpenPKCS11 opens the token, logs in and finds the key pair and its
// certificate chain. The returned Seal holds a session pool until Close.
//
// A wrong PIN yields an error wrapping ErrBadSecret; a missing token, key or
// certificate one wrapping ErrNotFound.
//
// crypto11 finalises the module when opening fails, even if another Seal
// from the same module is open; open every PKCS#11 seal of a module before
// signing with any of them, as the service does with its single seal.
func OpenPKCS11(cfg PKCS11Config) (*Seal, error) {
	desc := cfg.String()
	if cfg.Module == "" || cfg.TokenLabel == "" {
		return nil, fmt.Errorf("open %s: module and token label are required", desc)
	}
	if cfg.KeyLabel == "" && len(cfg.KeyID) == 0 {
		return nil, fmt.Errorf("open %s: key label or id is required", desc)
	}
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("open %s: module: %w", desc, err)
	}
	ctx, err := crypto11.Configure(&crypto11.Config{
		Path:       cfg.Module,
		TokenLabel: cfg.TokenLabel,
		Pin:        cfg.PIN,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", desc, classifyP11(err))
	}
	s, err := loadP11Seal(ctx, cfg, desc)
	if err != nil {
		_ = ctx.Close()
		return nil, fmt.Errorf("open %s: %w", desc, err)
	}
	return s, nil
}

func loadP11Seal(ctx *crypto11.Context, cfg PKCS11Config, desc string) (*Seal, error) {
	var label []byte
	if cfg.KeyLabel != "" {
		label = []byte(cfg.KeyLabel)
	}
	signers, err := ctx.FindKeyPairs(cfg.KeyID, label)
	if err != nil {
		return nil, fmt.Errorf("find key: %w", err)
	}
	switch len(signers) {
	case 0:
		return nil, fmt.Errorf("key pair: %w on token", ErrNotFound)
	case 1:
	default:
		return nil, fmt.Errorf("%d key pairs match, set both label and id", len(signers))
	}
	signer := signers[0]
	id := cfg.KeyID
	if a, err := ctx.GetAttribute(signer, crypto11.CkaId); err == nil && len(a.Value) > 0 {
		id = a.Value
	}

	var fileChain []*x509.Certificate
	if cfg.ChainFile != "" {
		if fileChain, err = readPEMCerts(cfg.ChainFile); err != nil {
			return nil, fmt.Errorf("chain: %w", err)
		}
		if checkKeyMatches(signer.Public(), fileChain[0]) == nil {
			return newSeal(signer, fileChain, desc, ctx.Close)
		}
	}
	leaf, err := tokenCert(ctx, id, label)
	if err != nil {
		return nil, err
	}
	chain := []*x509.Certificate{leaf}
	if fileChain != nil {
		chain = orderChain(leaf, fileChain)
	}
	return newSeal(signer, chain, desc, ctx.Close)
}

// tokenCert finds the certificate stored next to the key: by CKA_ID first,
// then by label.
func tokenCert(ctx *crypto11.Context, id, label []byte) (*x509.Certificate, error) {
	if len(id) > 0 {
		c, err := ctx.FindCertificate(id, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("find certificate: %w", err)
		}
		if c != nil {
			return c, nil
		}
	}
	if label != nil {
		c, err := ctx.FindCertificate(nil, label, nil)
		if err != nil {
			return nil, fmt.Errorf("find certificate: %w", err)
		}
		if c != nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("certificate: %w on token (store it there or set a chain file)", ErrNotFound)
}

// classifyP11 maps the usual token errors onto ErrBadSecret and ErrNotFound,
// keeping the original error in the message.
func classifyP11(err error) error {
	var p11 pkcs11.Error
	if errors.As(err, &p11) {
		switch p11 {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
			return fmt.Errorf("log in: %w (%v)", ErrBadSecret, err)
		case pkcs11.CKR_PIN_LOCKED:
			return fmt.Errorf("log in: PIN locked: %w", err)
		}
	}
	if strings.Contains(err.Error(), "could not find PKCS#11 token") {
		return fmt.Errorf("token: %w (%v)", ErrNotFound, err)
	}
	return err
}

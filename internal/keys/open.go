package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Options tune Open.
type Options struct {
	// Secret is the PKCS#12 password or the PKCS#11 PIN; see PasswordFrom.
	// Optional: ignored for pem and dev specs.
	Secret []byte
	// AllowDev allows development certificates (the dev spec, or any file or
	// token whose chain IsDev). Leave false in production.
	AllowDev bool
	// DevDir is the directory of the development seal for the spec "dev".
	// Optional: "dev:DIR" overrides it.
	DevDir string
	// Now is the clock for the development seal. If nil, time.Now is used.
	Now func() time.Time
}

// Open loads the seal described by spec:
//
//	dev                         development seal in opts.DevDir (see DevSeal)
//	dev:DIR                     development seal in DIR
//	pkcs12:PATH                 PKCS#12 file, password in opts.Secret
//	pem:KEY,CHAIN               PEM key file and PEM chain file (leaf first)
//	pem:FILE                    one PEM file holding key and chain
//	pkcs11:K=V;K=V...           PKCS#11 token, PIN in opts.Secret, with keys
//	    module=PATH             PKCS#11 library (required)
//	    token=LABEL             token label (required)
//	    label=LABEL             key label (label or id required)
//	    id=HEX                  key CKA_ID in hex
//	    chain=PATH              PEM chain file (optional, see PKCS11Config)
//
// for example
// "pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=faldone;label=seal".
// Paths in pem specs cannot contain commas, values in pkcs11 specs cannot
// contain semicolons. Secrets never go in the spec: a pin or password key is
// rejected. Unless opts.AllowDev is set, development certificates are
// refused with an error wrapping ErrDevRefused.
func Open(spec string, opts Options) (*Seal, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	var s *Seal
	var err error
	switch kind {
	case "dev":
		if !opts.AllowDev {
			return nil, fmt.Errorf("open %s: %w", spec, ErrDevRefused)
		}
		dir := rest
		if dir == "" {
			dir = opts.DevDir
		}
		if dir == "" {
			return nil, fmt.Errorf("open dev: no directory (use dev:DIR)")
		}
		s, _, err = DevSeal(dir, opts.Now)
		return s, err
	case "pkcs12":
		if rest == "" {
			return nil, fmt.Errorf("open pkcs12: missing path (use pkcs12:PATH)")
		}
		s, err = LoadPKCS12(rest, opts.Secret)
	case "pem":
		key, chain, ok := strings.Cut(rest, ",")
		if !ok {
			chain = key
		}
		if key == "" || chain == "" || strings.Contains(chain, ",") {
			return nil, fmt.Errorf("open pem: want pem:KEY,CHAIN or pem:FILE")
		}
		s, err = LoadPEM(key, chain)
	case "pkcs11":
		var cfg PKCS11Config
		if cfg, err = ParsePKCS11(rest); err != nil {
			return nil, err
		}
		cfg.PIN = string(opts.Secret)
		s, err = OpenPKCS11(cfg)
	default:
		return nil, fmt.Errorf("open: unknown seal kind %q (want dev, pkcs12:, pem: or pkcs11:)", kind)
	}
	if err != nil {
		return nil, err
	}
	if s.Dev && !opts.AllowDev {
		_ = s.Close()
		return nil, fmt.Errorf("open %s: %w", s.Source, ErrDevRefused)
	}
	return s, nil
}

// ParsePKCS11 parses the part of a pkcs11 spec after "pkcs11:" (see Open).
// The PIN is left empty.
func ParsePKCS11(params string) (PKCS11Config, error) {
	var cfg PKCS11Config
	seen := map[string]bool{}
	for _, kv := range strings.Split(params, ";") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		switch {
		case strings.EqualFold(k, "pin") || strings.EqualFold(k, "password") || strings.HasPrefix(strings.ToLower(k), "pin-"):
			// Do not echo the value.
			return cfg, fmt.Errorf("parse pkcs11 spec: %q must not be in the spec, pass the PIN by environment or file", k)
		case !ok || v == "":
			return cfg, fmt.Errorf("parse pkcs11 spec: %q: want key=value", k)
		case seen[k]:
			return cfg, fmt.Errorf("parse pkcs11 spec: %q given twice", k)
		}
		seen[k] = true
		switch k {
		case "module":
			cfg.Module = v
		case "token":
			cfg.TokenLabel = v
		case "label":
			cfg.KeyLabel = v
		case "id":
			id, err := hex.DecodeString(v)
			if err != nil || len(id) == 0 {
				return cfg, fmt.Errorf("parse pkcs11 spec: id %q: want hex", v)
			}
			cfg.KeyID = id
		case "chain":
			cfg.ChainFile = v
		default:
			return cfg, fmt.Errorf("parse pkcs11 spec: unknown key %q (want module, token, label, id, chain)", k)
		}
	}
	var missing []string
	if cfg.Module == "" {
		missing = append(missing, "module")
	}
	if cfg.TokenLabel == "" {
		missing = append(missing, "token")
	}
	if cfg.KeyLabel == "" && cfg.KeyID == nil {
		missing = append(missing, "label or id")
	}
	if len(missing) > 0 {
		return cfg, fmt.Errorf("parse pkcs11 spec: missing %s", strings.Join(missing, ", "))
	}
	return cfg, nil
}

// PasswordFrom returns a secret given either directly (the value of an
// environment variable) or as the path of a file holding it, never as a
// command-line flag. One trailing newline ("\n" or "\r\n") is trimmed from
// the file's content. Setting both is an error; setting neither returns
// ErrNoSecret.
func PasswordFrom(envValue, filePath string) ([]byte, error) {
	switch {
	case envValue != "" && filePath != "":
		return nil, errors.New("read secret: both a value and a file are set, use one")
	case envValue != "":
		return []byte(envValue), nil
	case filePath != "":
		b, err := os.ReadFile(filePath)
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		if bytes.HasSuffix(b, []byte("\r\n")) {
			b = b[:len(b)-2]
		} else if bytes.HasSuffix(b, []byte("\n")) {
			b = b[:len(b)-1]
		}
		return b, nil
	default:
		return nil, fmt.Errorf("read secret: %w", ErrNoSecret)
	}
}

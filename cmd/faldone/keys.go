package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"faldone/internal/auth"
	"faldone/internal/comuni"
	"faldone/internal/faldone"
)

const keysUsage = `faldone keys - API keys, in the store that serve uses

Usage:
  faldone keys create --role admin|staff|comune|auditor [--comune ISTAT] --name NAME [flags]
  faldone keys list   [flags]
  faldone keys revoke [flags] ID

create prints the key on standard output, this once: it is stored only as
a hash. Flags: --data and --store, as for serve (FALDONE_DATA, FALDONE_STORE).
`

// keysCmd manages API keys.
func keysCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("needs", "keys", "create | list | revoke")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	var cfg Config
	fs.StringVar(&cfg.Data, "data", env("data", "./data"), "data directory (FALDONE_DATA)")
	fs.StringVar(&cfg.Store, "store", env("store", "sqlite:faldone.db"), "archive: sqlite:PATH (relative to the data directory) or a postgres:// URL (FALDONE_STORE)")
	role := fs.String("role", "", "create: admin, staff, comune or auditor")
	comune := fs.String("comune", "", "create: ISTAT code of the comune, for the comune role only")
	name := fs.String("name", "", "create: who or what the key is for")
	asJSON := fs.Bool("json", false, "print the key (create) or the keys (list) as JSON")
	switch sub {
	case "create", "list", "revoke":
	case "help", "-h", "--help":
		printHelp(fs, keysUsage, stdout)
		return flag.ErrHelp
	default:
		return usagef("unknown_command", "keys "+sub)
	}
	pos, err := parseFlags(fs, args, keysUsage, stdout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg, err := comuni.Default()
	if err != nil {
		return err
	}
	archive, err := openArchive(ctx, &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	store, ok := archive.(auth.Store)
	if !ok {
		return failWrap("no_keys", nil, redact(cfg.Store))
	}
	ks := &auth.Service{Store: store, Comuni: reg}
	switch sub {
	case "create":
		if len(pos) > 0 {
			return usagef("no_args", "keys create", pos)
		}
		secret, k, err := ks.Create(ctx, *name, auth.Role(*role), *comune)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, map[string]any{"key": secret, "id": k.ID, "role": k.Role, "comune": k.Comune, "name": k.Name})
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintln(os.Stderr, msg(userLang(), "key_created", k.ID, describe(k), k.Name))
	case "list":
		keys, err := ks.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, keys)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tROLE\tCOMUNE\tNAME\tCREATED\tLAST USED\tREVOKED")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, dash(k.Comune), k.Name,
				k.Created.Format(time.RFC3339), when(k.LastUsed), when(k.Revoked))
		}
		return w.Flush()
	case "revoke":
		if len(pos) != 1 {
			return usagef("needs", "keys revoke", "ID")
		}
		if err := ks.Revoke(ctx, pos[0]); faldone.ErrorCode(err) == faldone.ENOTFOUND {
			return usageWrap("no_key", err, pos[0])
		} else if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, msg(userLang(), "key_revoked", pos[0]))
	}
	return nil
}

func describe(k *auth.Key) string {
	if k.Comune != "" {
		return string(k.Role) + ", comune " + k.Comune
	}
	return string(k.Role)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

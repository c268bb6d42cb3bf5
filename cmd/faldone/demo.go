package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"path"
	"sort"
	"time"

	"faldone/internal/auth"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/tmpl"
	"faldone/samples"
)

const demoUsage = `Usage: faldone demo [flags]

Fills a fresh development instance (the data directory of serve, with the
development seal) with the samples' full chains: for every comune of the
samples, one document of every kind of the templates, in workflow order,
each citing the one before it. It creates an admin, a staff, an auditor and
one comune key per comune, and prints the keys (this once), the ids and the
links. Then run "faldone serve" on the same data directory.

It refuses --production, another seal than dev, and an instance that
already has API keys.

`

// DemoKey is an API key made by demo.
type DemoKey struct {
	Role   string `json:"role"`
	Comune string `json:"comune,omitempty"`
	ID     string `json:"id"`
	Key    string `json:"key"`
}

// DemoDocument is a document made by demo.
type DemoDocument struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Version int    `json:"version"`
	SHA256  string `json:"sha256"`
	State   string `json:"state"`
	Cites   string `json:"cites,omitempty"`
	URL     string `json:"url"`
	PDF     string `json:"pdf"`
}

// DemoComune is one comune's chain.
type DemoComune struct {
	ISTAT     string         `json:"istat"`
	Name      string         `json:"name"`
	Key       string         `json:"key"`
	Documents []DemoDocument `json:"documents"`
}

// DemoResult is what demo prints with --json.
type DemoResult struct {
	BaseURL      string       `json:"base_url"`
	Data         string       `json:"data"`
	LogPublicKey string       `json:"log_public_key"`
	Keys         []DemoKey    `json:"keys"`
	Comuni       []DemoComune `json:"comuni"`
}

func demoCmd(args []string, stdout io.Writer) error {
	var cfg Config
	flags := flagSet("demo")
	cfg.bind(flags)
	asJSON := flags.Bool("json", false, "print the keys, ids and links as JSON")
	if pos, err := parseFlags(flags, args, demoUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "demo", pos)
	}
	if err := cfg.Validate(); err != nil {
		return usageWrap("settings", err)
	}
	if cfg.Production || cfg.Seal != "dev" {
		return usagef("not_dev")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	set, err := loadTemplates(cfg.Templates)
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
	ks := &auth.Service{Store: store, Comuni: set.Registry()}
	if existing, err := ks.List(ctx); err != nil {
		return err
	} else if len(existing) > 0 {
		return usagef("not_empty", cfg.Data)
	}
	sealer, err := openSealer(&cfg, quiet)
	if err != nil {
		return err
	}
	defer sealer.Key.Close()
	auditLog, err := openLedger(&cfg, archive, quiet)
	if err != nil {
		return err
	}
	svc := &docs.Service{Renderer: &docs.Renderer{Templates: set, Version: faldone.Version}, Sealer: sealer, Archive: archive}
	res := DemoResult{BaseURL: baseURL(cfg.Addr, "localhost"), Data: cfg.Data, LogPublicKey: auditLog.PublicKey()}
	newKey := func(role auth.Role, comune, name string) (string, error) {
		secret, k, err := ks.Create(ctx, name, role, comune)
		if err != nil {
			return "", err
		}
		res.Keys = append(res.Keys, DemoKey{Role: string(role), Comune: comune, ID: k.ID, Key: secret})
		return secret, nil
	}
	for _, r := range []auth.Role{auth.RoleAdmin, auth.RoleStaff, auth.RoleAuditor} {
		if _, err := newKey(r, "", "demo "+string(r)); err != nil {
			return err
		}
	}
	staffActor := "demo staff"
	dirs, err := fs.ReadDir(samples.Inputs, ".")
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		chain, err := demoChain(ctx, set, svc, d.Name(), staffActor, res.BaseURL)
		if err != nil {
			return failWrap("sample", err, d.Name())
		}
		if chain.ISTAT == "" {
			continue
		}
		if chain.Key, err = newKey(auth.RoleComune, chain.ISTAT, "Comune di "+chain.Name); err != nil {
			return err
		}
		res.Comuni = append(res.Comuni, chain)
	}
	sort.Slice(res.Comuni, func(i, j int) bool { return res.Comuni[i].Name < res.Comuni[j].Name })
	if _, err := auditLog.Checkpoint(ctx); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	printDemo(stdout, &res)
	return nil
}

// demoChain creates one document of every kind for the sample directory
// dir, in workflow order; a document citing another gets the id of the
// one made before it (of the cited field's kind when it names one).
func demoChain(ctx context.Context, set *tmpl.Set, svc *docs.Service, dir, actor, base string) (DemoComune, error) {
	var out DemoComune
	made := map[string]string{} // kind -> id
	prev := ""
	for _, kind := range set.Kinds() {
		body, err := fs.ReadFile(samples.Inputs, path.Join(dir, kind+".json"))
		if err != nil {
			continue // this sample has no document of the kind
		}
		t, _ := set.Template(kind)
		cites := ""
		if t.Cites != "" {
			var data map[string]any
			if err := json.Unmarshal(body, &data); err != nil {
				return out, failWrap("sample", err, kind+".json")
			}
			cites = made[t.Cites]
			if cites == "" {
				cites = made[prev]
			}
			data[t.Cites] = cites
			if body, err = json.Marshal(data); err != nil {
				return out, err
			}
		}
		rec, err := svc.Create(ctx, faldone.Kind(kind), body, "", "key:demo "+actor)
		if err != nil {
			return out, failWrap("sample", err, kind+".json")
		}
		made[kind], prev = rec.ID, kind
		if out.ISTAT == "" {
			out.ISTAT = rec.Comune
			if c, ok := set.Registry().Lookup(rec.Comune); ok {
				out.Name = c.Name
			}
		}
		out.Documents = append(out.Documents, DemoDocument{
			Kind: kind, ID: rec.ID, Version: rec.Version, SHA256: rec.SHA256, State: faldone.State(rec), Cites: cites,
			URL: base + "/v1/documents/" + rec.ID, PDF: base + "/v1/documents/" + rec.ID + "/pdf",
		})
	}
	return out, nil
}

// baseURL is the URL of a serve listening on addr, as seen from this
// host: an address on every interface is reached as local.
func baseURL(addr, local string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = local
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printDemo(w io.Writer, r *DemoResult) {
	n := 0
	for _, c := range r.Comuni {
		n += len(c.Documents)
	}
	fmt.Fprintf(w, "faldone demo: %d sealed documents for %d comuni in %s (development seal: NOT VALID FOR PRODUCTION)\n\n", n, len(r.Comuni), r.Data)
	fmt.Fprintln(w, "API keys (shown only now, stored as hashes):")
	for _, k := range r.Keys {
		if k.Comune == "" {
			fmt.Fprintf(w, "  %-8s %s\n", k.Role, k.Key)
		}
	}
	for _, c := range r.Comuni {
		fmt.Fprintf(w, "\nComune di %s (%s), comune key %s\n", c.Name, c.ISTAT, c.Key)
		for _, d := range c.Documents {
			fmt.Fprintf(w, "  %-13s %s  %s\n", d.Kind, d.ID, d.PDF)
		}
	}
	fmt.Fprintf(w, "\naudit log public key: %s\n", r.LogPublicKey)
	fmt.Fprintf(w, "\nNext: faldone serve, then open %s/comune and sign in with a comune key,\n", r.BaseURL)
	fmt.Fprintf(w, "read %s/docs, or: curl -H \"Authorization: Bearer STAFF_KEY\" %s/v1/documents/ID\n", r.BaseURL, r.BaseURL)
}

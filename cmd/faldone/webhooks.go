package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"faldone/internal/queue"
	"faldone/internal/webhook"
)

const webhooksUsage = `faldone webhooks - event subscriptions, in the store that serve uses

Usage:
  faldone webhooks create --url URL --events E1,E2|* [--description D] [flags]
  faldone webhooks list [flags]
  faldone webhooks deliveries [--json] [flags] SUBSCRIPTION
  faldone webhooks redeliver [flags] SUBSCRIPTION DELIVERY
  faldone webhooks disable [flags] SUBSCRIPTION

Events: document.sealed, document.signed_by_comune, document.refused_copy,
dossier.closed, batch.done. create prints the signing secret (whsec_...)
this once: the receiver checks the webhook-signature header with it, as
the Standard Webhooks specification says. A running serve delivers what
redeliver queues. Flags: --data and --store, as for serve (FALDONE_DATA,
FALDONE_STORE).
`

// webhooksCmd manages webhook subscriptions.
func webhooksCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("needs", "webhooks", "create | list | deliveries | redeliver | disable")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create", "list", "deliveries", "redeliver", "disable":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, webhooksUsage)
		return flag.ErrHelp
	default:
		return usagef("unknown_command", "webhooks "+sub)
	}
	fs := flag.NewFlagSet("webhooks "+sub, flag.ContinueOnError)
	fs.Usage = func() {} // help on stdout, errors by run
	var cfg Config
	fs.StringVar(&cfg.Data, "data", env("data", "./data"), "data directory (FALDONE_DATA)")
	fs.StringVar(&cfg.Store, "store", env("store", "sqlite:faldone.db"), "archive: sqlite:PATH (relative to the data directory) or a postgres:// URL (FALDONE_STORE)")
	url := fs.String("url", "", "create: the receiver's http(s) URL")
	events := fs.String("events", "", "create: comma-separated event types, or *")
	desc := fs.String("description", "", "create: what the receiver is")
	asJSON := fs.Bool("json", false, "deliveries: print JSON")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(fs, webhooksUsage, stdout)
			return err
		}
		return usageWrap("bad_flag", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The archive first: it makes the tables the webhooks read.
	archive, err := openArchive(ctx, &cfg)
	if err != nil {
		return err
	}
	defer archive.Close()
	q, err := openQueue(ctx, &cfg, archive)
	if err != nil {
		return err
	}
	defer q.Close()
	ws := &webhook.Service{Queue: q, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	ws.Register()
	if _, err := q.Client(queue.Config{InsertOnly: true}); err != nil {
		return err
	}
	switch sub {
	case "create":
		s, secret, err := ws.Subscribe(ctx, *url, strings.Split(*events, ","), *desc)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "subscription %s: %s <- %s\nsecret (shown this once): %s\n", s.ID, s.URL, strings.Join(s.Events, " "), secret)
	case "list":
		subs, err := ws.Subscriptions(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tURL\tEVENTS\tCREATED\tDISABLED")
		for _, s := range subs {
			dis := ""
			if s.Disabled != nil {
				dis = s.Disabled.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.URL, strings.Join(s.Events, ","), s.Created.Format(time.RFC3339), dis)
		}
		return tw.Flush()
	case "deliveries":
		if fs.NArg() != 1 {
			return usagef("needs", "webhooks deliveries", "ID")
		}
		ds, err := ws.Deliveries(ctx, fs.Arg(0), 1000)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(ds)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DELIVERY\tEVENT\tTYPE\tSTATE\tATTEMPTS\tLAST")
		for _, d := range ds {
			last := ""
			if n := len(d.Attempts); n > 0 {
				a := d.Attempts[n-1]
				last = fmt.Sprintf("%s status %d %s", a.At.Format(time.RFC3339), a.Status, a.Error)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.EventID, d.Type, d.State, len(d.Attempts), last)
		}
		return tw.Flush()
	case "redeliver":
		if fs.NArg() != 2 {
			return usagef("needs", "webhooks redeliver", "ID DELIVERY")
		}
		if err := ws.Redeliver(ctx, fs.Arg(0), fs.Arg(1)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "delivery %s queued again\n", fs.Arg(1))
	case "disable":
		if fs.NArg() != 1 {
			return usagef("needs", "webhooks disable", "ID")
		}
		if err := ws.Disable(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "subscription %s disabled\n", fs.Arg(0))
	}
	return nil
}

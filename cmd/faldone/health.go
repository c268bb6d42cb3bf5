package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

const healthUsage = `Usage: faldone health [--addr A]

Asks the faldone serve listening on --addr (FALDONE_ADDR) for /healthz, on
this host: exit status 0 when it answers 200, 3 otherwise. The container
image runs it as its HEALTHCHECK.

`

// flagSet returns a flag set for a command that reports its own errors.
func flagSet(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }

func healthCmd(args []string, stdout io.Writer) error {
	fs := flagSet("health")
	addr := fs.String("addr", env("addr", ":8080"), "address serve listens on (FALDONE_ADDR)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if pos, err := parseFlags(fs, args, healthUsage, stdout); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("no_args", "health", pos)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	url := baseURL(*addr, "127.0.0.1") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usageWrap("bad_setting", err, *addr)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err // a *url.Error: the URL and the cause
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return failWrap("http_status", nil, url, strconv.Itoa(resp.StatusCode))
	}
	fmt.Fprintf(stdout, "%s: ok\n", url)
	return nil
}

package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"strings"
	"time"

	"faldone/internal/auth"
	"faldone/internal/faldone"
	fhttp "faldone/internal/http"
	"faldone/internal/tmpl"
)

// bindHardening registers the settings of access control and hardening.
func (c *Config) bindHardening(fs *flag.FlagSet) {
	fs.StringVar(&c.CORSOrigins, "cors-origins", env("cors-origins", ""), "comma-separated origins allowed to call the API from a browser; empty: CORS off (FALDONE_CORS_ORIGINS)")
	fs.DurationVar(&c.HSTSMaxAge, "hsts-max-age", envDuration("hsts-max-age", 0), "send Strict-Transport-Security with this max-age, e.g. 8760h, when served over HTTPS; 0: off (FALDONE_HSTS_MAX_AGE)")
	fs.DurationVar(&c.RateWindow, "rate-window", envDuration("rate-window", fhttp.DefaultRateWindow), "window of the rate limits (FALDONE_RATE_WINDOW)")
	fs.IntVar(&c.RateVerify, "rate-verify", envInt("rate-verify", fhttp.DefaultVerifyRate), "POST /v1/verify per client IP and window; -1: no limit (FALDONE_RATE_VERIFY)")
	fs.StringVar(&c.ProxyHeader, "proxy-header", env("proxy-header", ""), "header in which the reverse proxy names the client IP, e.g. X-Real-IP; believed only from --trusted-proxies (FALDONE_PROXY_HEADER)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("trusted-proxies", ""), "comma-separated IPs or CIDRs of the reverse proxies (FALDONE_TRUSTED_PROXIES)")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", envInt("max-conns-per-ip", fhttp.DefaultMaxConnsPerIP), "open connections per client address, the trusted proxies excepted; -1: no cap (FALDONE_MAX_CONNS_PER_IP)")
	fs.Int64Var(&c.MinFreeSpace, "min-free-space", envInt64("min-free-space", 64<<20), "bytes the SQLite database's file system keeps free: a write that would go under it gets 507, and /readyz says not ready (FALDONE_MIN_FREE_SPACE)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("secure-cookies", envBool("production", false)), "mark the web pages' cookies Secure even when the request does not say it came over HTTPS (behind a TLS proxy); on by default with --production (FALDONE_SECURE_COOKIES)")
	fs.DurationVar(&c.GCInterval, "gc-interval", envDuration("gc-interval", time.Hour), "how often, on a SQLite archive that kept PDFs as files, the files no record names (refused, failed or crashed writes) are removed and those a record names moved into the database; 0: never (FALDONE_GC_INTERVAL)")
	fs.DurationVar(&c.GCGrace, "gc-grace", envDuration("gc-grace", time.Hour), "leave orphan PDF files modified within this long (FALDONE_GC_GRACE)")
	fs.IntVar(&c.RateAuthFailures, "rate-auth-failures", envInt("rate-auth-failures", fhttp.DefaultAuthFailureRate), "failed authentications per client IP and window before 429; -1: no limit (FALDONE_RATE_AUTH_FAILURES)")
}

func (c *Config) validateHardening() settingErrors {
	var errs settingErrors
	for _, o := range c.corsOrigins() {
		if o == "*" || (!strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://")) {
			errs = append(errs, bad("cors", o))
		}
	}
	if c.ProxyHeader != "" && len(list(c.TrustedProxies)) == 0 {
		errs = append(errs, bad("proxy"))
	}
	if c.HSTSMaxAge < 0 {
		errs = append(errs, bad("not_negative", "hsts-max-age"))
	}
	if c.RateWindow < time.Second {
		errs = append(errs, bad("at_least", "rate-window", "1s"))
	}
	if c.GCInterval < 0 || c.GCGrace < 0 {
		errs = append(errs, bad("not_negative", "gc-interval, gc-grace"))
	}
	if c.MinFreeSpace < 0 {
		errs = append(errs, bad("not_negative", "min-free-space"))
	}
	if c.MaxConnsPerIP == 0 {
		errs = append(errs, bad("positive", "max-conns-per-ip"))
	}
	if c.RateVerify == 0 || c.RateAuthFailures == 0 {
		errs = append(errs, bad("positive", "rate-verify, rate-auth-failures"))
	}
	return errs
}

// corsOrigins returns the configured origins.
func (c *Config) corsOrigins() []string { return list(c.CORSOrigins) }

// list splits a comma-separated setting.
func list(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// keyService returns the API keys of the archive, and warns when there
// are none: then only the public routes answer.
func keyService(ctx context.Context, archive faldone.Archive, set *tmpl.Set, log *slog.Logger) *auth.Service {
	store, ok := archive.(auth.Store)
	if !ok {
		log.Warn("the archive keeps no API keys: only public routes answer")
		return nil
	}
	ks := &auth.Service{Store: store, Comuni: set.Registry()}
	if keys, err := ks.List(ctx); err == nil && len(keys) == 0 {
		log.Warn("no API keys yet: create one with `faldone keys create --role admin --name NAME`")
	}
	return ks
}

func envInt64(name string, def int64) int64 { return int64(envInt(name, int(def))) }

// secureCookiesDefault turns --secure-cookies on under --production when
// neither the flag nor its environment variable says otherwise.
func (c *Config) secureCookiesDefault(fs *flag.FlagSet) {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "secure-cookies" })
	if _, env := os.LookupEnv(envName("secure-cookies")); c.Production && !set && !env {
		c.SecureCookies = true
	}
}

package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the service. Each one is a flag and an
// environment variable (FALDONE_ + the flag name in upper case, dashes as
// underscores); a flag wins over the environment, which wins over the
// default. Secrets come only from the environment or files.
type Config struct {
	Addr          string
	Data          string
	Templates     string
	Store         string // sqlite:PATH (relative to Data) or postgres://...
	BodyLimit     int
	RenderTimeout time.Duration
	LogLevel      string
	LogFormat     string
	VerifyLimit   int    // maximum PDF of POST /v1/verify, bytes
	Trust         string // PEM bundle of further trust anchors for verification
	// TrustedList is an ETSI TS 119 612 Trusted List file (e.g. Italy's
	// list of qualified providers) whose services anchor trust while
	// granted; TrustedListSigner is the PEM file of the certificates
	// allowed to sign it.
	TrustedList       string
	TrustedListSigner string

	Seal           string        // key spec, see keys.Open
	SealSecretFile string        // file holding the PKCS#12 password or PKCS#11 PIN
	TSAURL         string        // RFC 3161 endpoint; empty: seal at PAdES B-B
	TSATimeout     time.Duration // per attempt
	TSARetries     int
	TSAFallback    bool          // seal at B-B when the TSA is down instead of refusing
	ClockTolerance time.Duration // how far the clock may be from the TSA's time
	// SealLevel is the PAdES level of every seal with a TSA: B-T, B-LT or
	// B-LTA; RevocationTimeout and RevocationRetries bound the fetching of
	// the OCSP responses and CRLs of B-LT.
	SealLevel         string
	TSAChain          string // PEM file of the TSA's chain, for tokens that carry only its certificate
	RevocationTimeout time.Duration
	RevocationRetries int
	Production        bool // refuse development keys

	LogKey             string        // audit log key file; empty: <data>/keys/log.key, created on first start
	CheckpointInterval time.Duration // how often a checkpoint is signed while the log grows
	CORSOrigins        string        // comma-separated origins allowed by CORS; empty: CORS off
	HSTSMaxAge         time.Duration // Strict-Transport-Security max-age; 0: no header
	RateWindow         time.Duration // window of the rate limits
	RateVerify         int           // POST /v1/verify per client IP and window; negative: no limit
	RateAuthFailures   int           // failed authentications per client IP and window; negative: no limit
	ProxyHeader        string        // header naming the client IP, set by the reverse proxy
	TrustedProxies     string        // comma-separated IPs or CIDRs of the reverse proxies
	MaxConnsPerIP      int           // open connections per client address; -1: no cap
	SecureCookies      bool          // session cookies only over HTTPS; on by default in production
	MinFreeSpace       int64         // bytes the SQLite database's file system keeps free; under it writes get 507
	GCInterval         time.Duration // how often orphan PDF files are collected (SQLite); 0: never
	GCGrace            time.Duration // age under which an orphan is left alone

	Queue QueueConfig // the durable job queue: batches and deliveries
	Blobs string      // s3://bucket/prefix: the PDFs in an object store
}

// bind registers the flags of c on fs, with defaults taken from the
// environment where set.
func (c *Config) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("addr", ":8080"), "address to listen on (FALDONE_ADDR)")
	fs.StringVar(&c.Data, "data", env("data", "./data"), "data directory (FALDONE_DATA)")
	fs.StringVar(&c.Store, "store", env("store", "sqlite:faldone.db"), "archive: sqlite:PATH (relative to the data directory) or a postgres:// URL (FALDONE_STORE)")
	fs.StringVar(&c.Templates, "templates", env("templates", ""), "directory of templates overriding the embedded ones (FALDONE_TEMPLATES)")
	fs.IntVar(&c.BodyLimit, "body-limit", envInt("body-limit", 1<<20), "maximum request body in bytes (FALDONE_BODY_LIMIT)")
	fs.DurationVar(&c.RenderTimeout, "render-timeout", envDuration("render-timeout", 30*time.Second), "deadline of one render and seal (FALDONE_RENDER_TIMEOUT)")
	fs.StringVar(&c.LogLevel, "log-level", env("log-level", "info"), "debug, info, warn or error (FALDONE_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("log-format", "json"), "json or text (FALDONE_LOG_FORMAT)")
	fs.IntVar(&c.VerifyLimit, "verify-limit", envInt("verify-limit", 20<<20), "maximum PDF to verify in bytes (FALDONE_VERIFY_LIMIT)")
	fs.StringVar(&c.Trust, "trust", env("trust", ""), "PEM file of further trusted CAs for verification, e.g. the qualified CAs comuni sign with (FALDONE_TRUST)")
	fs.StringVar(&c.TrustedList, "trusted-list", env("trusted-list", ""), "ETSI TS 119 612 Trusted List XML file (e.g. the Italian list of qualified trust service providers) whose granted CA and TSA services are trusted; its XML signature is checked with --trusted-list-signer (FALDONE_TRUSTED_LIST)")
	fs.StringVar(&c.TrustedListSigner, "trusted-list-signer", env("trusted-list-signer", ""), "PEM file of the certificates allowed to sign the Trusted List, as the scheme operator publishes them (FALDONE_TRUSTED_LIST_SIGNER)")
	c.bindSeal(fs)
	c.bindLog(fs)
	c.bindQueue(fs)
	c.bindBlobs(fs)
}

// bindLog registers the audit log settings.
func (c *Config) bindLog(fs *flag.FlagSet) {
	fs.StringVar(&c.LogKey, "log-key", env("log-key", ""), "file of the audit log's Ed25519 note key; empty: <data>/keys/log.key; created on first start when missing; instances sharing one PostgreSQL MUST share one key file (FALDONE_LOG_KEY)")
	fs.DurationVar(&c.CheckpointInterval, "checkpoint-interval", envDuration("checkpoint-interval", 2*time.Second), "how often a signed checkpoint is made while the audit log grows (FALDONE_CHECKPOINT_INTERVAL)")
	c.bindHardening(fs)
}

// bindSeal registers the seal settings, shared by serve and render.
func (c *Config) bindSeal(fs *flag.FlagSet) {
	fs.StringVar(&c.Seal, "seal", env("seal", "dev"), "seal key: dev, pkcs12:PATH, pem:KEY,CHAIN or pkcs11:module=..;token=..;label=.. (FALDONE_SEAL); the password or PIN comes from FALDONE_SEAL_SECRET or the file of --seal-secret-file")
	fs.StringVar(&c.SealSecretFile, "seal-secret-file", env("seal-secret-file", ""), "file holding the seal's password or PIN (FALDONE_SEAL_SECRET_FILE)")
	fs.StringVar(&c.TSAURL, "tsa-url", env("tsa-url", ""), "RFC 3161 time-stamp authority URL; empty seals at PAdES B-B (FALDONE_TSA_URL)")
	fs.DurationVar(&c.TSATimeout, "tsa-timeout", envDuration("tsa-timeout", 10*time.Second), "time-stamp request timeout per attempt (FALDONE_TSA_TIMEOUT)")
	fs.IntVar(&c.TSARetries, "tsa-retries", envInt("tsa-retries", 2), "time-stamp retries after a failed attempt (FALDONE_TSA_RETRIES)")
	fs.BoolVar(&c.TSAFallback, "tsa-fallback", envBool("tsa-fallback", false), "seal at B-B when the TSA is down instead of refusing (FALDONE_TSA_FALLBACK)")
	fs.StringVar(&c.SealLevel, "seal-level", env("seal-level", "B-LTA"), "PAdES level of the seal with a TSA: B-T, B-LT (adds the OCSP responses or CRLs of the seal's and the TSA's chains) or B-LTA (and a document time-stamp) (FALDONE_SEAL_LEVEL)")
	fs.StringVar(&c.TSAChain, "tsa-chain", env("tsa-chain", ""), "PEM file of the time-stamp authority's certificate chain, for B-LT when its tokens carry only its own certificate (FALDONE_TSA_CHAIN)")
	fs.DurationVar(&c.RevocationTimeout, "revocation-timeout", envDuration("revocation-timeout", 10*time.Second), "OCSP or CRL request timeout per attempt (FALDONE_REVOCATION_TIMEOUT)")
	fs.IntVar(&c.RevocationRetries, "revocation-retries", envInt("revocation-retries", 2), "OCSP or CRL retries after a failed attempt (FALDONE_REVOCATION_RETRIES)")
	fs.DurationVar(&c.ClockTolerance, "clock-tolerance", envDuration("clock-tolerance", 2*time.Minute), "refuse to seal when the clock is further than this from the time-stamp authority's time (FALDONE_CLOCK_TOLERANCE)")
	fs.BoolVar(&c.Production, "production", envBool("production", false), "production mode: refuse development keys (FALDONE_PRODUCTION)")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	var errs settingErrors
	if c.Addr == "" {
		errs = append(errs, bad("not_empty", "addr"))
	}
	if c.Data == "" {
		errs = append(errs, bad("not_empty", "data"))
	}
	if !strings.HasPrefix(c.Store, "sqlite:") && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		errs = append(errs, bad("store"))
	}
	if c.BodyLimit < 1024 || c.BodyLimit > 256<<20 {
		errs = append(errs, bad("between", "body-limit", 1024, 268435456))
	}
	if c.VerifyLimit < 1024 || c.VerifyLimit > 256<<20 {
		errs = append(errs, bad("between", "verify-limit", 1024, 268435456))
	}
	if c.RenderTimeout < time.Second {
		errs = append(errs, bad("at_least", "render-timeout", "1s"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, bad("one_of", "log-level", "debug, info, warn, error"))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, bad("one_of", "log-format", "json, text"))
	}
	errs = append(errs, c.validateSeal()...)
	if (c.TrustedList == "") != (c.TrustedListSigner == "") {
		errs = append(errs, bad("together"))
	}
	if c.CheckpointInterval < 10*time.Millisecond || c.CheckpointInterval > time.Hour {
		errs = append(errs, bad("between", "checkpoint-interval", "10ms", "1h"))
	}
	errs = append(errs, c.validateHardening()...)
	errs = append(errs, c.validateQueue()...)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func envName(flagName string) string {
	return "FALDONE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(envName(name)); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "faldone: %s=%q is not a number\n", envName(name), v)
			os.Exit(2)
		}
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(envName(name)); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "faldone: %s=%q is not a duration (e.g. 30s)\n", envName(name), v)
			os.Exit(2)
		}
		return d
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, ok := os.LookupEnv(envName(name)); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "faldone: %s=%q is not true or false\n", envName(name), v)
			os.Exit(2)
		}
		return b
	}
	return def
}

func (c *Config) validateSeal() settingErrors {
	var errs settingErrors
	if c.Seal == "" {
		errs = append(errs, bad("not_empty", "seal"))
	}
	if c.TSAURL != "" && !strings.HasPrefix(c.TSAURL, "http://") && !strings.HasPrefix(c.TSAURL, "https://") {
		errs = append(errs, bad("url", "tsa-url"))
	}
	if c.TSATimeout < 100*time.Millisecond {
		errs = append(errs, bad("at_least", "tsa-timeout", "100ms"))
	}
	if c.ClockTolerance < time.Second || c.ClockTolerance > 24*time.Hour {
		errs = append(errs, bad("between", "clock-tolerance", "1s", "24h"))
	}
	if c.TSARetries < 0 || c.TSARetries > 10 {
		errs = append(errs, bad("between", "tsa-retries", 0, 10))
	}
	if c.SealLevel != "B-T" && c.SealLevel != "B-LT" && c.SealLevel != "B-LTA" {
		errs = append(errs, bad("one_of", "seal-level", "B-T, B-LT, B-LTA"))
	}
	if c.RevocationTimeout < 100*time.Millisecond {
		errs = append(errs, bad("at_least", "revocation-timeout", "100ms"))
	}
	if c.RevocationRetries < 0 || c.RevocationRetries > 10 {
		errs = append(errs, bad("between", "revocation-retries", 0, 10))
	}
	if c.Production && (c.Seal == "dev" || strings.HasPrefix(c.Seal, "dev:")) {
		errs = append(errs, bad("prod_seal"))
	}
	if c.Production && c.TSAURL == "" {
		errs = append(errs, bad("prod_tsa"))
	}
	return errs
}

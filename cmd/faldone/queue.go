package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"strings"
	"time"

	"faldone/internal/batch"
	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/postgres"
	"faldone/internal/queue"
	"faldone/internal/s3"
	"faldone/internal/sqlite"
	"faldone/internal/tmpl"
	"faldone/internal/webhook"
)

// QueueConfig is the settings of the durable job queue.
type QueueConfig struct {
	Workers     int           // jobs worked at once by this instance
	RescueAfter time.Duration // a job running longer is taken for a dead instance's and run again
	MaxItems    int           // largest batch

	WebhookTimeout     time.Duration // deadline of one delivery attempt
	WebhookRetryBase   time.Duration // wait after the first failed attempt, doubled each time
	WebhookMaxAttempts int           // attempts before a delivery is failed
}

// bindQueue registers the queue's settings.
func (c *Config) bindQueue(fs *flag.FlagSet) {
	fs.IntVar(&c.Queue.Workers, "queue-workers", envInt("queue-workers", 8), "batch items and deliveries this instance works at once (FALDONE_QUEUE_WORKERS)")
	fs.DurationVar(&c.Queue.RescueAfter, "queue-rescue-after", envDuration("queue-rescue-after", 0), "how long a job may run before it is taken for the work of an instance that died and run again; 0: render-timeout + 1m (FALDONE_QUEUE_RESCUE_AFTER)")
	fs.IntVar(&c.Queue.MaxItems, "batch-max-items", envInt("batch-max-items", batch.MaxItemsDefault), "largest batch accepted (FALDONE_BATCH_MAX_ITEMS)")
	fs.DurationVar(&c.Queue.WebhookTimeout, "webhook-timeout", envDuration("webhook-timeout", webhook.TimeoutDefault), "deadline of one webhook delivery attempt (FALDONE_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&c.Queue.WebhookRetryBase, "webhook-retry-base", envDuration("webhook-retry-base", webhook.RetryBaseDefault), "wait after a failed webhook delivery, doubled after each further failure up to 6h (FALDONE_WEBHOOK_RETRY_BASE)")
	fs.IntVar(&c.Queue.WebhookMaxAttempts, "webhook-max-attempts", envInt("webhook-max-attempts", webhook.MaxAttemptsDefault), "attempts of a webhook delivery before it is failed (FALDONE_WEBHOOK_MAX_ATTEMPTS)")
}

func (c *Config) validateQueue() settingErrors {
	var errs settingErrors
	if c.Queue.Workers < 1 || c.Queue.Workers > 256 {
		errs = append(errs, bad("between", "queue-workers", 1, 256))
	}
	if c.Queue.RescueAfter != 0 && c.Queue.RescueAfter <= c.jobTimeout() {
		errs = append(errs, bad("rescue", c.jobTimeout()))
	}
	if c.Queue.MaxItems < 1 || c.Queue.MaxItems > 100000 {
		errs = append(errs, bad("between", "batch-max-items", 1, 100000))
	}
	if c.Blobs != "" {
		if _, _, err := s3.Parse(c.Blobs); err != nil {
			errs = append(errs, bad("blobs"))
		}
	}
	if c.Queue.WebhookTimeout < 100*time.Millisecond || c.Queue.WebhookTimeout > 5*time.Minute {
		errs = append(errs, bad("between", "webhook-timeout", "100ms", "5m"))
	}
	if rescue := c.rescueAfter(); c.Queue.WebhookTimeout+webhook.JobSlack >= rescue {
		errs = append(errs, bad("webhook_timeout", rescue, webhook.JobSlack))
	}
	if c.Queue.WebhookRetryBase < 10*time.Millisecond || c.Queue.WebhookRetryBase > time.Hour {
		errs = append(errs, bad("between", "webhook-retry-base", "10ms", "1h"))
	}
	if c.Queue.WebhookMaxAttempts < 1 || c.Queue.WebhookMaxAttempts > 50 {
		errs = append(errs, bad("between", "webhook-max-attempts", 1, 50))
	}
	return errs
}

// jobTimeout is the deadline of one job: a render and seal, and the
// archive's write.
func (c *Config) jobTimeout() time.Duration { return c.RenderTimeout + 5*time.Second }

// rescueAfter is the effective queue-rescue-after.
func (c *Config) rescueAfter() time.Duration {
	if c.Queue.RescueAfter > 0 {
		return c.Queue.RescueAfter
	}
	return c.jobTimeout() + time.Minute
}

// openQueue opens the queue in the archive's database: on SQLite, on the
// archive's writing connection.
func openQueue(ctx context.Context, cfg *Config, archive faldone.Archive) (*queue.Queue, error) {
	if a, ok := archive.(*sqlite.Archive); ok {
		return queue.OpenSQLiteDB(ctx, a.Writer())
	}
	return queue.OpenPostgres(ctx, cfg.Store)
}

// workQueue is the queue of a serving instance, with its workers.
type workQueue struct {
	q           *queue.Queue
	batches     *batch.Service
	webhooks    *webhook.Service
	idempotency *queue.Idempotency
}

// newWebhooks is the webhook service of cfg on q.
func newWebhooks(cfg *Config, q *queue.Queue, log *slog.Logger) *webhook.Service {
	return &webhook.Service{Queue: q, Timeout: cfg.Queue.WebhookTimeout, RetryBase: cfg.Queue.WebhookRetryBase,
		MaxAttempts: cfg.Queue.WebhookMaxAttempts, Logger: log}
}

// startQueue opens the queue, registers the batch worker and starts
// working.
func startQueue(ctx context.Context, cfg *Config, archive faldone.Archive, svc *docs.Service, set *tmpl.Set, log *slog.Logger) (*workQueue, error) {
	q, err := openQueue(ctx, cfg, archive)
	if err != nil {
		return nil, err
	}
	ws := newWebhooks(cfg, q, log)
	periodic := ws.Register()
	bs := &batch.Service{Queue: q, Docs: svc, Templates: set, MaxItems: cfg.Queue.MaxItems, Events: ws}
	bs.Register()
	c, err := q.Client(queue.Config{Workers: cfg.Queue.Workers, JobTimeout: cfg.jobTimeout(), RescueAfter: cfg.rescueAfter(), Logger: log, Periodic: periodic})
	if err != nil {
		q.Close()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		q.Close()
		return nil, failWrap("start_queue", err)
	}
	return &workQueue{q: q, batches: bs, webhooks: ws, idempotency: &queue.Idempotency{Queue: q}}, nil
}

// stop lets the jobs in hand finish (until ctx ends) and closes the queue.
func (w *workQueue) stop(ctx context.Context) {
	if c := w.q.River(); c != nil {
		c.Stop(ctx)
	}
	w.q.Close()
}

// bindBlobs registers where the PDFs are kept.
func (c *Config) bindBlobs(fs *flag.FlagSet) {
	fs.StringVar(&c.Blobs, "blobs", env("blobs", ""), "keep the PDFs in an S3-compatible object store, s3://bucket/prefix, instead of the database; endpoint from FALDONE_S3_ENDPOINT, keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (FALDONE_BLOBS)")
}

// openObjects gives archive the object store of cfg.Blobs (or
// FALDONE_BLOBS, for the commands that have no such flag), if any.
func openObjects(ctx context.Context, cfg *Config, archive faldone.Archive) error {
	blobs := cfg.Blobs
	if blobs == "" {
		blobs = os.Getenv("FALDONE_BLOBS")
	}
	if blobs == "" {
		return nil
	}
	endpoint, insecure := os.Getenv("FALDONE_S3_ENDPOINT"), false
	switch {
	case strings.HasPrefix(endpoint, "http://"):
		endpoint, insecure = strings.TrimPrefix(endpoint, "http://"), true
	case strings.HasPrefix(endpoint, "https://"):
		endpoint = strings.TrimPrefix(endpoint, "https://")
	}
	st, err := s3.Open(ctx, s3.Config{URL: blobs, Endpoint: strings.TrimRight(endpoint, "/"), Region: os.Getenv("FALDONE_S3_REGION"),
		AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), Insecure: insecure})
	if err != nil {
		return err
	}
	switch a := archive.(type) {
	case *sqlite.Archive:
		a.Objects = st
	case *postgres.Archive:
		a.Objects = st
	default:
		return failWrap("no_blobs", nil)
	}
	return nil
}

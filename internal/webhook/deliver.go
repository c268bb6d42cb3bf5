package webhook

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"faldone/internal/queue"
)

// deliveryArgs is the job of one delivery.
type deliveryArgs struct {
	Delivery string `json:"delivery"`
}

// Kind implements river.JobArgs.
func (deliveryArgs) Kind() string { return "faldone.webhook_delivery" }

type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	s *Service
}

// NextRetry waits RetryBase after the first failure, doubling each time.
func (w *deliveryWorker) NextRetry(job *river.Job[deliveryArgs]) time.Time {
	base := w.s.RetryBase
	if base <= 0 {
		base = RetryBaseDefault
	}
	d := base
	for i := 1; i < job.Attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return time.Now().Add(min(d, maxBackoff))
}

// JobSlack is what a delivery job may take beyond its attempt's deadline,
// for its bookkeeping.
const JobSlack = 5 * time.Second

// Timeout bounds one job: the attempt's deadline and the bookkeeping.
func (w *deliveryWorker) Timeout(*river.Job[deliveryArgs]) time.Duration {
	return w.s.timeout() + JobSlack
}

func (s *Service) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return TimeoutDefault
}

func (s *Service) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{
		Timeout:       s.timeout(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// errAttempt is a failed attempt: River retries the job.
var errAttempt = errors.New("delivery attempt failed")

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	s := w.s
	id := job.Args.Delivery
	var state, eventID, payload, url, secret string
	var attempts int
	err := s.Queue.DB.QueryRowContext(ctx, `SELECT d.state, d.attempts, e.id, e.payload, s.url, s.secret
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhook_subscriptions s ON s.id = d.subscription_id
		WHERE d.id = $1`, id).Scan(&state, &attempts, &eventID, &payload, &url, &secret)
	if errors.Is(err, sql.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("delivery %s does not exist", id))
	} else if err != nil {
		return fmt.Errorf("delivery %s: %w", id, err)
	}
	if state != Pending {
		return nil // delivered (or failed) already: a redelivery makes it pending again
	}
	status, took, sendErr := s.send(ctx, url, secret, eventID, []byte(payload))
	attempt := attempts + 1
	next := Pending
	switch {
	case sendErr == nil:
		next = Delivered
	case job.Attempt >= job.MaxAttempts:
		next = Failed
	}
	msg := ""
	if sendErr != nil {
		msg = sendErr.Error()
	}
	now := stamp(s.now())
	err = s.Queue.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, attempt, now, status, msg, took.Milliseconds()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = $1, attempts = $2, updated_at = $3 WHERE id = $4`, next, attempt, now, id); err != nil {
			return err
		}
		if next != Pending {
			return queue.CompleteTx(ctx, s.Queue, tx, job)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", id, err)
	}
	if next == Pending {
		s.log().Warn("webhook delivery failed; will retry", "delivery", id, "event", eventID, "url", url, "attempt", attempt, "status", status, "error", msg)
		return fmt.Errorf("%w: %s", errAttempt, msg)
	}
	if next == Failed {
		s.log().Error("webhook delivery failed for good", "delivery", id, "event", eventID, "url", url, "attempts", attempt, "error", msg)
	}
	return nil
}

// send POSTs one signed attempt and says how it went: a 2xx status is
// success, anything else (another status, a timeout, a refused
// connection) a failure.
func (s *Service) send(ctx context.Context, url, secret, msgID string, payload []byte) (int, time.Duration, error) {
	start := time.Now()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return 0, 0, fmt.Errorf("the subscription's secret is unusable: %w", err)
	}
	ts := s.now()
	sig, err := wh.Sign(msgID, ts, payload)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "faldone-webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, msgID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(ts.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.client().Do(req)
	took := time.Since(start)
	if err != nil {
		return 0, took, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, took, fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return resp.StatusCode, took, nil
}

// Package webhook tells other systems what happened: subscriptions to
// event types, each event delivered to each subscription as a POST signed
// as the Standard Webhooks specification says (webhook-id,
// webhook-timestamp and webhook-signature headers, made with its Go
// library), retried with exponential backoff through the durable queue,
// with a log of every attempt and manual redelivery.
//
// An event is written, with its deliveries and their jobs, in the
// transaction of the change it reports (a batch's end) or, for documents,
// by a follower of the archive's log that advances its cursor in the same
// transaction: so no event is lost in a crash and none is made twice. A
// delivery is at least once, always with the same webhook-id: receivers
// deduplicate on it.
package webhook

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"faldone/internal/docs"
	"faldone/internal/faldone"
	"faldone/internal/queue"
)

// Event types.
const (
	DocumentSealed         = "document.sealed"           // a version sealed and archived by the service
	DocumentSignedByComune = "document.signed_by_comune" // the comune's countersigned copy archived
	DocumentRefusedCopy    = "document.refused_copy"     // a copy returned as signed was refused
	DossierClosed          = "dossier.closed"            // a chiusura closed a comune's dossier
	BatchDone              = "batch.done"                // a batch finished or was cancelled
)

// Types lists every event type.
var Types = []string{DocumentSealed, DocumentSignedByComune, DocumentRefusedCopy, DossierClosed, BatchDone}

// Delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// Defaults of Service.
const (
	RetryBaseDefault   = 10 * time.Second
	MaxAttemptsDefault = 15
	TimeoutDefault     = 10 * time.Second
	maxBackoff         = 6 * time.Hour
)

// Subscription is where events of some types are sent.
type Subscription struct {
	ID          string     `json:"id"`
	URL         string     `json:"url"`
	Events      []string   `json:"events"`
	Description string     `json:"description"`
	Created     time.Time  `json:"created"`
	Disabled    *time.Time `json:"disabled,omitempty"`
}

// Delivery is one event sent to one subscription.
type Delivery struct {
	ID       string    `json:"id"`
	EventID  string    `json:"event_id"`
	Type     string    `json:"type"`
	State    string    `json:"state"`
	Attempts []Attempt `json:"attempts"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	Status     int       `json:"status"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// Service keeps subscriptions and delivers events.
type Service struct {
	Queue *queue.Queue // Required.
	// Client sends the deliveries. Optional: a client with Timeout that
	// follows no redirects.
	Client *http.Client
	// Timeout is the deadline of one attempt. Optional: TimeoutDefault.
	Timeout time.Duration
	// RetryBase is the wait after the first failed attempt; it doubles
	// with each further one, up to 6 hours. Optional: RetryBaseDefault.
	RetryBase time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is
	// failed. Optional: MaxAttemptsDefault.
	MaxAttempts int
	// FollowEvery is how often the archive's log is read for new
	// documents. Optional: 1 second.
	FollowEvery time.Duration
	Logger      *slog.Logger     // Optional.
	Now         func() time.Time // Optional.
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Register adds the delivery worker and the follower of the archive's log
// to the queue; call it before the queue's client is made.
func (s *Service) Register() []*river.PeriodicJob {
	river.AddWorker(s.Queue.Workers, &deliveryWorker{s: s})
	river.AddWorker(s.Queue.Workers, &followWorker{s: s})
	every := s.FollowEvery
	if every <= 0 {
		every = time.Second
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return followArgs{}, &river.InsertOpts{MaxAttempts: 1} },
		&river.PeriodicJobOpts{RunOnStart: true})}
}

// newSecret returns a Standard Webhooks secret: whsec_ and 32 random
// bytes in base64.
func newSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// checkURL accepts http and https URLs with a host and no credentials.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return faldone.Errorf(faldone.EINVALID, "the url must be an http or https URL with a host and no user or fragment, not %q", raw)
	}
	return nil
}

// checkEvents accepts known event types, or "*" alone.
func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, faldone.Errorf(faldone.EINVALID, "name the events to send: %s, or *", strings.Join(Types, ", "))
	}
	var out []string
	for _, e := range events {
		e = strings.TrimSpace(e)
		if e == "*" && len(events) == 1 {
			return []string{"*"}, nil
		}
		if !slices.Contains(Types, e) {
			return nil, faldone.Errorf(faldone.EINVALID, "unknown event %q: the events are %s, or * alone", e, strings.Join(Types, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Subscribe adds a subscription and returns it with its secret, shown
// this once to the caller (the receiver verifies signatures with it).
// Errors are EINVALID.
func (s *Service) Subscribe(ctx context.Context, rawURL string, events []string, description string) (*Subscription, string, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, "", err
	}
	events, err := checkEvents(events)
	if err != nil {
		return nil, "", err
	}
	if len(description) > 500 {
		return nil, "", faldone.Errorf(faldone.EINVALID, "the description is longer than 500 characters")
	}
	sub := &Subscription{ID: "sub_" + docs.NewID(), URL: rawURL, Events: events, Description: description, Created: s.now()}
	secret := newSecret()
	err = s.Queue.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_subscriptions (id, url, events, secret, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			sub.ID, sub.URL, strings.Join(events, " "), secret, description, stamp(sub.Created)); err != nil {
			return err
		}
		// Events of documents start here, with the first subscription.
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_cursor (id, next_leaf) SELECT 1, coalesce(max(leaf_index) + 1, 0) FROM records WHERE true ON CONFLICT (id) DO NOTHING`)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("subscribe: %w", err)
	}
	return sub, secret, nil
}

func scanSub(row interface{ Scan(...any) error }) (*Subscription, error) {
	var sub Subscription
	var events, created string
	var disabled sql.NullString
	if err := row.Scan(&sub.ID, &sub.URL, &events, &sub.Description, &created, &disabled); err != nil {
		return nil, err
	}
	sub.Events = strings.Fields(events)
	sub.Created = parseTime(created)
	if disabled.Valid {
		t := parseTime(disabled.String)
		sub.Disabled = &t
	}
	return &sub, nil
}

// Subscriptions lists every subscription, disabled ones included.
func (s *Service) Subscriptions(ctx context.Context) ([]*Subscription, error) {
	rows, err := s.Queue.DB.QueryContext(ctx, `SELECT id, url, events, description, created_at, disabled_at FROM webhook_subscriptions ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []*Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Subscription returns one subscription, or ENOTFOUND.
func (s *Service) Subscription(ctx context.Context, id string) (*Subscription, error) {
	sub, err := scanSub(s.Queue.DB.QueryRowContext(ctx, `SELECT id, url, events, description, created_at, disabled_at FROM webhook_subscriptions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, faldone.Errorf(faldone.ENOTFOUND, "no subscription has id %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("subscription %s: %w", id, err)
	}
	return sub, nil
}

// Disable stops sending events to a subscription; its log stays.
func (s *Service) Disable(ctx context.Context, id string) error {
	if _, err := s.Subscription(ctx, id); err != nil {
		return err
	}
	_, err := s.Queue.DB.ExecContext(ctx, `UPDATE webhook_subscriptions SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, stamp(s.now()), id)
	if err != nil {
		return fmt.Errorf("disable subscription %s: %w", id, err)
	}
	return nil
}

// Deliveries returns the delivery log of a subscription, newest first,
// at most limit deliveries, each with its attempts.
func (s *Service) Deliveries(ctx context.Context, subID string, limit int) ([]*Delivery, error) {
	if _, err := s.Subscription(ctx, subID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.Queue.DB.QueryContext(ctx, `SELECT d.id, d.event_id, e.type, d.state, d.created_at, d.updated_at
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE d.subscription_id = $1 ORDER BY d.created_at DESC, d.id LIMIT $2`, subID, limit)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", subID, err)
	}
	out := []*Delivery{}
	byID := map[string]*Delivery{}
	for rows.Next() {
		var d Delivery
		var created, updated string
		if err := rows.Scan(&d.ID, &d.EventID, &d.Type, &d.State, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("deliveries of %s: %w", subID, err)
		}
		d.Created, d.Updated, d.Attempts = parseTime(created), parseTime(updated), []Attempt{}
		out = append(out, &d)
		byID[d.ID] = &d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	arows, err := s.Queue.DB.QueryContext(ctx, `SELECT a.delivery_id, a.attempt, a.at, a.status, a.error, a.duration_ms
		FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
		WHERE d.subscription_id = $1 ORDER BY a.delivery_id, a.attempt`, subID)
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", subID, err)
	}
	defer arows.Close()
	for arows.Next() {
		var id, at string
		var a Attempt
		if err := arows.Scan(&id, &a.Attempt, &at, &a.Status, &a.Error, &a.DurationMS); err != nil {
			return nil, err
		}
		a.At = parseTime(at)
		if d := byID[id]; d != nil {
			d.Attempts = append(d.Attempts, a)
		}
	}
	return out, arows.Err()
}

// Redeliver sends a delivery again, with the same webhook-id, whatever
// its state. It returns ENOTFOUND for a delivery the subscription lacks.
func (s *Service) Redeliver(ctx context.Context, subID, deliveryID string) error {
	client := s.Queue.River()
	if client == nil {
		return errors.New("redeliver: the queue has no client")
	}
	return s.Queue.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = $1, updated_at = $2 WHERE id = $3 AND subscription_id = $4`,
			Pending, stamp(s.now()), deliveryID, subID)
		if err != nil {
			return fmt.Errorf("redeliver %s: %w", deliveryID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return faldone.Errorf(faldone.ENOTFOUND, "subscription %s has no delivery %q", subID, deliveryID)
		}
		_, err = client.InsertTx(ctx, tx, deliveryArgs{Delivery: deliveryID}, s.insertOpts())
		return err
	})
}

func (s *Service) insertOpts() *river.InsertOpts {
	n := s.MaxAttempts
	if n <= 0 {
		n = MaxAttemptsDefault
	}
	return &river.InsertOpts{MaxAttempts: n}
}

// envelope is the body of every delivery, as the Standard Webhooks
// specification recommends: the type, when it happened, and its data.
type envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// EmitTx records an event of type typ and queues its delivery to every
// live subscription to it, in tx.
func (s *Service) EmitTx(ctx context.Context, tx *sql.Tx, typ string, data any) error {
	if !slices.Contains(Types, typ) {
		return fmt.Errorf("emit: unknown event type %q", typ)
	}
	client := s.Queue.River()
	if client == nil {
		return errors.New("emit: the queue has no client")
	}
	now := s.now()
	body, err := json.Marshal(envelope{Type: typ, Timestamp: now, Data: data})
	if err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, events FROM webhook_subscriptions WHERE disabled_at IS NULL`)
	if err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	var subs []string
	for rows.Next() {
		var id, events string
		if err := rows.Scan(&id, &events); err != nil {
			rows.Close()
			return err
		}
		if ev := strings.Fields(events); slices.Contains(ev, typ) || slices.Contains(ev, "*") {
			subs = append(subs, id)
		}
	}
	rows.Close()
	if len(subs) == 0 {
		return nil // nobody listens: nothing to keep
	}
	eventID := "msg_" + docs.NewID()
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, payload, created_at) VALUES ($1, $2, $3, $4)`, eventID, typ, string(body), stamp(now)); err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	var jobs []river.InsertManyParams
	for _, sub := range subs {
		id := "dlv_" + docs.NewID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, event_id, subscription_id, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			id, eventID, sub, Pending, stamp(now)); err != nil {
			return fmt.Errorf("emit %s: %w", typ, err)
		}
		jobs = append(jobs, river.InsertManyParams{Args: deliveryArgs{Delivery: id}, InsertOpts: s.insertOpts()})
	}
	if _, err := client.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	return nil
}

// Emit is EmitTx in a transaction of its own, for events that report no
// stored change (a refused copy).
func (s *Service) Emit(ctx context.Context, typ string, data any) error {
	return s.Queue.Tx(ctx, func(tx *sql.Tx) error { return s.EmitTx(ctx, tx, typ, data) })
}

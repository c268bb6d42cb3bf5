// Package metrics holds the Prometheus metrics a PA operator alerts on:
// documents sealed per kind and level, countersignatures received,
// verification verdicts, the time-stamp authority's latency and failures,
// and the audit log's size and checkpoint age. The service's parts report
// into one Metrics; GET /metrics serves its Registry.
//
// Every metric is observed where the event happens for every door (API,
// web pages, CLI): documents and countersignatures at the archive
// (Archive wraps the one the document service writes to), the TSA at its
// HTTP client (TSAClient), the audit log at scrape time (WatchLog).
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"faldone/internal/faldone"
)

// Metrics is the set of the service's metrics on one registry.
type Metrics struct {
	Registry *prometheus.Registry

	sealed        *prometheus.CounterVec
	fallbacks     *prometheus.CounterVec
	countersigned *prometheus.CounterVec
	verdicts      *prometheus.CounterVec
	tsaLatency    *prometheus.HistogramVec
	tsaFailures   *prometheus.CounterVec
}

// Doors of a verification.
const (
	DoorAPI = "api" // POST /v1/verify
	DoorWeb = "web" // the /verifica page
)

// New returns the metrics on a new registry, with the Go runtime's and the
// process's collectors, and a zero series for every kind.
func New(kinds []string) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		sealed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_documents_sealed_total",
			Help: "Documents archived as a new version 1, by kind and PAdES level of the seal (B-B, B-T; none when unsealed).",
		}, []string{"kind", "level"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_seal_tsa_fallbacks_total",
			Help: "Documents sealed at B-B because the time-stamp authority was down (--tsa-fallback), by kind.",
		}, []string{"kind"}),
		countersigned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_countersignatures_total",
			Help: "Copies signed by a comune accepted as a new version, by kind.",
		}, []string{"kind"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_verifications_total",
			Help: "Verifications of a PDF, by door (api, web) and verdict (valid, not_valid).",
		}, []string{"door", "verdict"}),
		tsaLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faldone_tsa_request_duration_seconds",
			Help:    "Duration of each HTTP request to the RFC 3161 time-stamp authority, retries included one by one, by outcome (ok, error).",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		tsaFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_tsa_failures_total",
			Help: "Failed HTTP requests to the time-stamp authority, by reason (transport: no answer; status: an answer other than 2xx).",
		}, []string{"reason"}),
	}
	m.Registry.MustRegister(m.sealed, m.fallbacks, m.countersigned, m.verdicts, m.tsaLatency, m.tsaFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, k := range kinds {
		for _, l := range []string{"B-B", "B-T", "B-LT", "B-LTA"} {
			m.sealed.WithLabelValues(k, l)
		}
		m.fallbacks.WithLabelValues(k)
		m.countersigned.WithLabelValues(k)
	}
	for _, d := range []string{DoorAPI, DoorWeb} {
		m.verdicts.WithLabelValues(d, "valid")
		m.verdicts.WithLabelValues(d, "not_valid")
	}
	for _, r := range []string{"transport", "status"} {
		m.tsaFailures.WithLabelValues(r)
	}
	return m
}

// Verified counts the verdict of one verification through door.
func (m *Metrics) Verified(door string, valid bool) {
	if m == nil {
		return
	}
	verdict := "not_valid"
	if valid {
		verdict = "valid"
	}
	m.verdicts.WithLabelValues(door, verdict).Inc()
}

// archived counts one appended version.
func (m *Metrics) archived(rec *faldone.Record) {
	kind := string(rec.Kind)
	if rec.Version > 1 {
		m.countersigned.WithLabelValues(kind).Inc()
		return
	}
	level := rec.Seal.Level
	if level == "" {
		level = "none"
	}
	m.sealed.WithLabelValues(kind, level).Inc()
	if rec.Seal.TSAFallback {
		m.fallbacks.WithLabelValues(kind).Inc()
	}
}

// Archive wraps an archive so that every version appended through it is
// counted: version 1 as a sealed document, a later one as a
// countersignature. Give it to the document service only: the other
// interfaces of the archive (audit log, keys) are not on the wrapper.
func (m *Metrics) Archive(a faldone.Archive) faldone.Archive {
	if m == nil {
		return a
	}
	return &countingArchive{Archive: a, m: m}
}

type countingArchive struct {
	faldone.Archive
	m *Metrics
}

// Local reports what the wrapped archive does, false when it does not say.
func (c *countingArchive) Local() bool {
	l, ok := c.Archive.(interface{ Local() bool })
	return ok && l.Local()
}

// ComuneOf names a document's comune through the wrapped archive's own
// query when it has one (both engines do), else from the newest record:
// the wrapper must not take from the API the check that refuses another
// comune's document as fast as a missing one.
func (c *countingArchive) ComuneOf(ctx context.Context, id string) (string, error) {
	if co, ok := c.Archive.(interface {
		ComuneOf(ctx context.Context, id string) (string, error)
	}); ok {
		return co.ComuneOf(ctx, id)
	}
	rec, err := c.Archive.Latest(ctx, id)
	if err != nil {
		return "", err
	}
	return rec.Comune, nil
}

func (c *countingArchive) Append(ctx context.Context, rec *faldone.Record, pdf []byte) error {
	if err := c.Archive.Append(ctx, rec, pdf); err != nil {
		return err
	}
	c.m.archived(rec)
	return nil
}

// TSAClient returns an HTTP client like base (nil: http.DefaultClient)
// whose requests to the time-stamp authority are timed and counted.
func (m *Metrics) TSAClient(base *http.Client) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		d := time.Since(start).Seconds()
		switch {
		case err != nil:
			m.tsaFailures.WithLabelValues("transport").Inc()
			m.tsaLatency.WithLabelValues("error").Observe(d)
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			m.tsaFailures.WithLabelValues("status").Inc()
			m.tsaLatency.WithLabelValues("error").Observe(d)
		default:
			m.tsaLatency.WithLabelValues("ok").Observe(d)
		}
		return resp, err
	})
	return &c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Log is what the metrics read of the audit log at scrape time.
type Log interface {
	// Size returns the number of leaves.
	Size(ctx context.Context) (uint64, error)
	// LatestCheckpoint returns the size and time of the newest signed
	// checkpoint, or an error (ENOTFOUND when there is none yet).
	LatestCheckpoint(ctx context.Context) (size uint64, at time.Time, err error)
}

// WatchLog registers the audit log's gauges, read at each scrape: the
// number of leaves, and the size, time and age of the newest checkpoint.
// Now is the clock of the age (nil: time.Now).
func (m *Metrics) WatchLog(l Log, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	m.Registry.MustRegister(&logCollector{l: l, now: now})
}

var (
	logLeaves = prometheus.NewDesc("faldone_audit_log_leaves",
		"Number of leaves (archived versions) in the audit log.", nil, nil)
	checkpointSize = prometheus.NewDesc("faldone_audit_checkpoint_leaves",
		"Number of leaves covered by the newest signed checkpoint.", nil, nil)
	checkpointTime = prometheus.NewDesc("faldone_audit_checkpoint_timestamp_seconds",
		"Time of the newest signed checkpoint, Unix seconds.", nil, nil)
	checkpointAge = prometheus.NewDesc("faldone_audit_checkpoint_age_seconds",
		"Age of the newest signed checkpoint at the scrape, seconds.", nil, nil)
	logUp = prometheus.NewDesc("faldone_audit_log_up",
		"1 when the audit log could be read at the scrape, else 0.", nil, nil)
)

type logCollector struct {
	l   Log
	now func() time.Time
}

func (c *logCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- logLeaves
	ch <- checkpointSize
	ch <- checkpointTime
	ch <- checkpointAge
	ch <- logUp
}

func (c *logCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := 1.0
	size, err := c.l.Size(ctx)
	if err != nil {
		up = 0
	} else {
		ch <- prometheus.MustNewConstMetric(logLeaves, prometheus.GaugeValue, float64(size))
	}
	cs, at, err := c.l.LatestCheckpoint(ctx)
	switch {
	case err == nil:
		ch <- prometheus.MustNewConstMetric(checkpointSize, prometheus.GaugeValue, float64(cs))
		ch <- prometheus.MustNewConstMetric(checkpointTime, prometheus.GaugeValue, float64(at.UnixNano())/1e9)
		ch <- prometheus.MustNewConstMetric(checkpointAge, prometheus.GaugeValue, c.now().Sub(at).Seconds())
	case faldone.ErrorCode(err) != faldone.ENOTFOUND:
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(logUp, prometheus.GaugeValue, up)
}

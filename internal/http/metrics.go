package http

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"faldone/internal/audit"
	"faldone/internal/ledger"
	fmetrics "faldone/internal/metrics"
)

// metrics are the API's own metrics (requests, renders) on the registry of
// the service's metrics (Config.Metrics).
type metrics struct {
	*fmetrics.Metrics
	latency        *prometheus.HistogramVec
	rendered       *prometheus.CounterVec
	renderFailures *prometheus.CounterVec
}

func newMetrics(base *fmetrics.Metrics, kinds []string, l *ledger.Ledger) *metrics {
	if base == nil {
		base = fmetrics.New(kinds)
	}
	m := &metrics{
		Metrics: base,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faldone_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		rendered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_documents_rendered_total",
			Help: "Documents rendered, by kind.",
		}, []string{"kind"}),
		renderFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faldone_render_failures_total",
			Help: "Documents that failed to render or seal for a reason other than bad input, by kind.",
		}, []string{"kind"}),
	}
	base.Registry.MustRegister(m.latency, m.rendered, m.renderFailures)
	for _, k := range kinds {
		m.rendered.WithLabelValues(k)
		m.renderFailures.WithLabelValues(k)
	}
	if l != nil {
		base.WatchLog(ledgerLog{l}, nil)
	}
	return m
}

// ledgerLog is what the metrics read of the audit log.
type ledgerLog struct{ l *ledger.Ledger }

func (g ledgerLog) Size(ctx context.Context) (uint64, error) { return g.l.Store().Size(ctx) }

func (g ledgerLog) LatestCheckpoint(ctx context.Context) (uint64, time.Time, error) {
	size, note, err := g.l.Store().LatestCheckpoint(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	cp, err := audit.Open(note, g.l.Verifier())
	if err != nil {
		return 0, time.Time{}, err
	}
	return size, cp.Time, nil
}

// observe records one request. Fiber reuses its buffers, so the label
// values are copied before the registry keeps them.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	method, route = strings.Clone(method), strings.Clone(route)
	m.latency.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
}

package http

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg            *prometheus.Registry
	latency        *prometheus.HistogramVec
	rendered       *prometheus.CounterVec
	renderFailures *prometheus.CounterVec
}

func newMetrics(kinds []string) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
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
	m.reg.MustRegister(m.latency, m.rendered, m.renderFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, k := range kinds {
		m.rendered.WithLabelValues(k)
		m.renderFailures.WithLabelValues(k)
	}
	return m
}

// observe records one request. Fiber reuses its buffers, so the label
// values are copied before the registry keeps them.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	method, route = strings.Clone(method), strings.Clone(route)
	m.latency.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are glanced's Prometheus metrics. Each Server has a registry of
// its own, so that servers started side by side (tests) count apart.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // route, method, code
	duration *prometheus.HistogramVec // route, method, code
	received *prometheus.CounterVec   // route: request body bytes read
	sent     *prometheus.CounterVec   // route: answer bytes written
	uploads  prometheus.Gauge
	imports  prometheus.Gauge
	storeErr *prometheus.CounterVec // store, op
	dbErr    *prometheus.CounterVec // op
	tokens   *prometheus.CounterVec // result: hit or miss

	addr atomic.Value // string: the separate metrics listener's address, once listening
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glanced_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "glanced_http_request_duration_seconds",
		Help: "Time from a request's arrival to the end of its answer, by route pattern, method and status code.",
		// From a cached show (well under a millisecond) to multi-gigabyte transfers.
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800}},
		[]string{"route", "method", "code"})
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glanced_http_request_bytes_total",
		Help: "Request body bytes read, by route pattern."}, []string{"route"})
	m.sent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glanced_http_response_bytes_total",
		Help: "Answer body bytes written, by route pattern."}, []string{"route"})
	m.uploads = prometheus.NewGauge(prometheus.GaugeOpts{Name: "glanced_uploads_in_flight",
		Help: "Image data uploads (PUT .../file and .../stage) being received."})
	m.imports = prometheus.NewGauge(prometheus.GaugeOpts{Name: "glanced_imports_in_flight",
		Help: "Import tasks running in the background."})
	m.storeErr = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glanced_store_errors_total",
		Help: "Failed operations on image data stores, by store ID and operation (missing blobs and clients' faults excluded)."},
		[]string{"store", "op"})
	m.dbErr = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glanced_database_errors_total",
		Help: "Failed operations on the metadata database, by operation (not-found and duplicate answers excluded)."},
		[]string{"op"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glanced_token_cache_requests_total",
		Help: "Token validations by the keystone auth cache's result: hit (answered from the cache) or miss (asked Keystone)."},
		[]string{"result"})
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.received, m.sent, m.uploads, m.imports,
		m.storeErr, m.dbErr, m.tokens} {
		f(c)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f(collectors.NewBuildInfoCollector())
	// Both results appear from the start, so that a rate over them is defined.
	m.tokens.WithLabelValues("hit")
	m.tokens.WithLabelValues("miss")
	return m
}

// handler serves the registry in Prometheus's text (or negotiated) format.
func (m *metrics) handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), ErrorHandling: promhttp.ContinueOnError})
}

// addrNow is the separate metrics listener's address, or "".
func (m *metrics) addrNow() string {
	a, _ := m.addr.Load().(string)
	return a
}

// tokenCache counts a lookup in keystone auth's token cache.
func (m *metrics) tokenCache(hit bool) {
	if hit {
		m.tokens.WithLabelValues("hit").Inc()
	} else {
		m.tokens.WithLabelValues("miss").Inc()
	}
}

// importRunning counts an import task until the returned func is called.
func (m *metrics) importRunning() func() {
	if m == nil {
		return func() {}
	}
	m.imports.Inc()
	return m.imports.Dec
}

// MetricsOff is the MetricsListen value that serves no metrics.
const MetricsOff = "off"

// setupMetrics creates s's metrics and hooks them into the stores and the
// token cache; instrument counts the requests.
func (s *Server) setupMetrics() {
	s.metrics = newMetrics()
	if ka, ok := s.auth.(*keystoneAuth); ok {
		ka.onCache = s.metrics.tokenCache
	}
	s.meta = &countingMeta{Metadata: s.meta, m: s.metrics}
	for id, b := range s.stores.byID {
		s.stores.byID[id] = &countingBlob{Store: b, id: id, m: s.metrics}
	}
	s.staging = &countingBlob{Store: s.staging, id: "os_glance_staging_store", m: s.metrics}
}

// serveMetrics starts the separate metrics listener of cfg.MetricsListen,
// if one is set, until ctx ends.
func (s *Server) serveMetrics(ctx context.Context) error {
	addr := s.cfg.MetricsListen
	if addr == "" || addr == MetricsOff {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler(s.log))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.Limits.HeaderTimeout, IdleTimeout: s.cfg.Limits.IdleTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.metrics.addr.Store(ln.Addr().String())
	s.log.Info("metrics serving", "addr", ln.Addr().String())
	go hs.Serve(ln)
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	return nil
}

// routeKey holds a request's *routeInfo in its context.
type routeKey struct{}

// routeInfo is what the mux learnt of a request, for instrument.
type routeInfo struct {
	mu     sync.Mutex
	route  string
	upload bool
}

// noteRoute records the route pattern ServeMux matched for r (called by
// wrap), and counts an upload in flight until instrument ends it.
func (s *Server) noteRoute(r *http.Request) {
	ri, _ := r.Context().Value(routeKey{}).(*routeInfo)
	if ri == nil {
		return
	}
	_, route, ok := strings.Cut(r.Pattern, " ")
	if !ok {
		route = r.Pattern
	}
	ri.mu.Lock()
	defer ri.mu.Unlock()
	ri.route = route
	if r.Method == http.MethodPut && (strings.HasSuffix(route, "/file") || strings.HasSuffix(route, "/stage")) && !ri.upload {
		ri.upload = true
		s.metrics.uploads.Inc()
	}
}

// label is the route label of a request: the matched pattern, or a fixed
// name for what the front answers itself, so that the label's values stay
// few whatever paths clients send.
func (ri *routeInfo) label(path string) string {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	switch {
	case ri.route != "" && ri.route != "/":
		return ri.route
	case path == "/healthcheck", path == "/metrics":
		return path
	case path == "/versions" || path == "/versions/" || path == "/":
		return "/versions"
	}
	return "other"
}

var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
	"DELETE": true, "OPTIONS": true}

// instrument counts every request, and answers /metrics itself when the
// metrics are served on the main listener: before authentication, since
// the Image API's policy is not about them (as /healthcheck).
func (s *Server) instrument(next http.Handler) http.Handler {
	m := s.metrics
	own := m.handler(s.log)
	onMain := s.cfg.MetricsListen == ""
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &routeInfo{}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, ri))
		var body *countingBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &countingBody{ReadCloser: r.Body}
			r.Body = body
		}
		cw := &statusWriter{ResponseWriter: w}
		defer func() {
			route := ri.label(r.URL.Path)
			method := r.Method
			if !knownMethods[method] {
				method = "other"
			}
			code := strconv.Itoa(cw.status())
			m.requests.WithLabelValues(route, method, code).Inc()
			m.duration.WithLabelValues(route, method, code).Observe(time.Since(start).Seconds())
			if body != nil {
				m.received.WithLabelValues(route).Add(float64(body.n.Load()))
			}
			m.sent.WithLabelValues(route).Add(float64(cw.n))
			if ri.upload {
				m.uploads.Dec()
			}
		}()
		if onMain && r.URL.Path == "/metrics" {
			own.ServeHTTP(cw, r)
			return
		}
		next.ServeHTTP(cw, r)
	})
}

// countingBody counts the bytes read of a request body. net/http may read
// the rest of a body in its own goroutine after the handler, hence atomic.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// clientFault reports whether err is no fault of the server: a client that
// went away or sent a bad body, a request cancelled or out of time.
func clientFault(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || clientBodyError(err) != nil
}

func (k *keystoneAuth) countCache(hit bool) {
	if k.onCache != nil {
		k.onCache(hit)
	}
}

package server

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/go-glance/glance/internal/testenv"
)

// scrape reads url's metrics with Prometheus's own text-format parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("GET %s: not Prometheus text format: %v", url, err)
	}
	return fams
}

// sample is the value of the series of family name with labels (given as
// name, value pairs; others may exist): a counter's or gauge's value, a
// histogram's count. A series that does not exist is 0.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	var total float64
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

// TestMetrics: /metrics on the main listener counts requests by route
// pattern (not path), method and status, with latencies and bytes, and
// counts uploads in flight and store and database failures.
func TestMetrics(t *testing.T) {
	ts := startServer(t, Config{})
	mu := ts.URL + "/metrics"
	before := scrape(t, mu)

	id := ts.create(t, map[string]any{"name": "m", "disk_format": "raw", "container_format": "bare"})
	data := bytes.Repeat([]byte("glanced"), 150_000) // ~1 MiB
	wantCode(t, "upload", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", data), 204)
	wantCode(t, "download", do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil), 200)
	wantCode(t, "show via v2.1", do(t, "GET", ts.URL+"/v2.1/images/"+id, nil), 200)
	wantCode(t, "show missing", do(t, "GET", ts.URL+"/v2/images/"+newUUID(), nil), 404)
	wantCode(t, "healthcheck", do(t, "GET", ts.URL+"/healthcheck", nil), 200)
	after := scrape(t, mu)

	const file, one = "/v2/images/{id}/file", "/v2/images/{id}"
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"glanced_http_requests_total", []string{"route", "/v2/images", "method", "POST", "code", "201"}, 1},
		{"glanced_http_requests_total", []string{"route", file, "method", "PUT", "code", "204"}, 1},
		{"glanced_http_requests_total", []string{"route", file, "method", "GET", "code", "200"}, 1},
		{"glanced_http_requests_total", []string{"route", one, "method", "GET", "code", "200"}, 1},
		{"glanced_http_requests_total", []string{"route", one, "method", "GET", "code", "404"}, 1},
		{"glanced_http_requests_total", []string{"route", "/healthcheck", "code", "200"}, 1},
		{"glanced_http_request_duration_seconds", []string{"route", file, "method", "PUT", "code", "204"}, 1},
		{"glanced_http_request_bytes_total", []string{"route", file}, float64(len(data))},
		{"glanced_http_response_bytes_total", []string{"route", file}, float64(len(data))},
	} {
		got := sample(after, c.name, c.labels...) - sample(before, c.name, c.labels...)
		if got != c.want {
			t.Errorf("%s%v grew by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, m := range after["glanced_http_requests_total"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), id) {
				t.Errorf("route label holds a raw path: %q", l.GetValue())
			}
		}
	}
	if after["go_goroutines"] == nil || after["process_resident_memory_bytes"] == nil {
		t.Error("the Go and process collectors are missing")
	}

	t.Run("upload in flight", func(t *testing.T) { checkUploadInFlight(t, ts) })
	t.Run("store errors", func(t *testing.T) {
		// The store's directory replaced by a file: every write fails.
		dir := filepath.Join(ts.cfg.DataDir, "images")
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		id := ts.create(t, map[string]any{"name": "e", "disk_format": "raw", "container_format": "bare"})
		wantCode(t, "upload to a broken store", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", data), 500)
		if n := sample(scrape(t, mu), "glanced_store_errors_total", "store", "local", "op", "put"); n != 1 {
			t.Errorf("store errors: %v, want 1", n)
		}
	})
	t.Run("database errors", func(t *testing.T) {
		if n := sample(scrape(t, mu), "glanced_database_errors_total"); n != 0 {
			t.Errorf("database errors before any failure: %v", n)
		}
		// A missing image is an answer, not a failure; a closed database is one.
		ts.meta.(*countingMeta).Unwrap().Close()
		wantCode(t, "list on a closed database", do(t, "GET", ts.URL+"/v2/images", nil), 500)
		if n := sample(scrape(t, mu), "glanced_database_errors_total", "op", "list_images"); n != 1 {
			t.Errorf("database errors: %v, want 1", n)
		}
	})
}

// checkUploadInFlight holds an upload open and sees it counted, then not.
func checkUploadInFlight(t *testing.T, ts *testServer) {
	id := ts.create(t, map[string]any{"name": "slow", "disk_format": "raw", "container_format": "bare"})
	pr, pw := io.Pipe()
	done := make(chan resp, 1)
	go func() { done <- do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", pr) }()
	pw.Write([]byte("first bytes"))
	deadline := time.Now().Add(10 * time.Second)
	for sample(scrape(t, ts.URL+"/metrics"), "glanced_uploads_in_flight") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("glanced_uploads_in_flight never reached 1 during an upload")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pw.Close()
	wantCode(t, "slow upload", <-done, 204)
	if n := sample(scrape(t, ts.URL+"/metrics"), "glanced_uploads_in_flight"); n != 0 {
		t.Errorf("uploads in flight after the upload: %v", n)
	}
}

// TestMetricsListen: with an address of their own the metrics leave the
// Image API's listener; with "off" they are nowhere.
func TestMetricsListen(t *testing.T) {
	ts := startServer(t, Config{MetricsListen: "127.0.0.1:0"})
	deadline := time.Now().Add(10 * time.Second)
	for ts.metrics.addrNow() == "" {
		if time.Now().After(deadline) {
			t.Fatal("no metrics listener")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.create(t, map[string]any{"name": "x"})
	if n := sample(scrape(t, "http://"+ts.metrics.addrNow()+"/metrics"), "glanced_http_requests_total",
		"route", "/v2/images", "method", "POST"); n != 1 {
		t.Errorf("separate listener: %v image creations counted, want 1", n)
	}
	if r := do(t, "GET", ts.URL+"/metrics", nil); bytes.Contains(r.body, []byte("glanced_http_requests_total")) {
		t.Errorf("the main listener still serves metrics: %d", r.code)
	}

	off := startServer(t, Config{MetricsListen: MetricsOff})
	if r := do(t, "GET", off.URL+"/metrics", nil); bytes.Contains(r.body, []byte("glanced_http_requests_total")) {
		t.Errorf("metrics served with metrics-listen off: %d", r.code)
	}
	for _, bad := range []string{"nonsense", "9293"} {
		if _, err := LoadConfig([]string{"--metrics-listen", bad}, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("--metrics-listen %s accepted", bad)
		}
	}
	cfg, err := LoadConfig(nil, func(k string) string {
		return map[string]string{"GLANCED_METRICS_LISTEN": "127.0.0.1:9293"}[k]
	}, io.Discard)
	if err != nil || cfg.MetricsListen != "127.0.0.1:9293" {
		t.Errorf("GLANCED_METRICS_LISTEN: %q, %v", cfg.MetricsListen, err)
	}
}

// TestMetricsTokenCache: in keystone mode the first request with a token
// asks Keystone (a miss), the next ones are answered by the cache (hits).
// /metrics needs no token.
func TestMetricsTokenCache(t *testing.T) {
	peer := testenv.Peer(t)
	ts := startServer(t, keystoneConfig(peer))
	tok := peer.Token(t, peer.AlphaMember)
	before := scrape(t, ts.URL+"/metrics")
	for range 3 {
		wantCode(t, "list", do(t, "GET", ts.URL+"/v2/images", nil, "X-Auth-Token", tok), 200)
	}
	after := scrape(t, ts.URL+"/metrics")
	const name = "glanced_token_cache_requests_total"
	miss := sample(after, name, "result", "miss") - sample(before, name, "result", "miss")
	hit := sample(after, name, "result", "hit") - sample(before, name, "result", "hit")
	if miss != 1 || hit != 2 {
		t.Errorf("token cache: %v misses and %v hits, want 1 and 2", miss, hit)
	}
}

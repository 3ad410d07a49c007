package server

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/webfetch"
)

// target is a web-download source on loopback that counts the requests it
// gets: /data answers data, /stall sends a little and then nothing.
type target struct {
	*httptest.Server
	hits atomic.Int64
}

func newTarget(t *testing.T, data []byte) *target {
	tg := &target{}
	stop := make(chan struct{})
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		switch r.URL.Path {
		case "/data":
			w.Write(data)
		case "/stall":
			w.Header().Set("Content-Length", "1000000")
			w.Write(data[:10])
			w.(http.Flusher).Flush()
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { close(stop); tg.Close() })
	return tg
}

func webDownloadBody(uri string) map[string]any {
	return map[string]any{"method": map[string]any{"name": "web-download", "uri": uri}}
}

// TestWebDownloadRefusedByDefault: with the default filter, every address
// a user should not reach is refused with a 400 before any connection.
func TestWebDownloadRefusedByDefault(t *testing.T) {
	tg := newTarget(t, []byte("secret"))
	redirect := httptest.NewServer(http.RedirectHandler(tg.URL+"/data", http.StatusFound))
	defer redirect.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "http://" + closed.Addr().String() + "/x"
	closed.Close()
	def := webfetch.DefaultFilter()
	ts := startServer(t, Config{WebDownload: webfetch.Options{Filter: &def}})
	u := ts.URL + "/v2/images/"
	for _, uri := range []string{
		tg.URL + "/data",                          // a local server on a high port
		"http://127.0.0.1:15000/v3",               // Keystone's port
		"http://localhost/data",                   // loopback by name
		"http://[::1]/data",                       // IPv6 loopback
		"http://169.254.169.254/latest/meta-data", // link-local metadata service
		"http://10.0.0.1/data",                    // private
		"http://2130706433/data",                  // 127.0.0.1 as a number
		redirect.URL + "/r",                       // a redirect to loopback
		"http://user:pass@example.com/data",       // credentials in the URI
		closedURL,                                 // a closed port
		"file:///etc/passwd",
		"ftp://example.com/x",
		"http://example.com:8080/data", // a port other than 80 and 443
	} {
		id := ts.create(t, map[string]any{"name": "ssrf", "disk_format": "raw", "container_format": "bare"})
		r := do(t, "POST", u+id+"/import", webDownloadBody(uri))
		wantCode(t, uri, r, 400)
		if strings.Contains(string(r.body), "pass@") {
			t.Errorf("%s: the answer shows the credentials: %s", uri, r.body)
		}
		if st := ts.image(t, id)["status"]; st != "queued" {
			t.Errorf("%s: image %s after a refused import", uri, st)
		}
	}
	if n := tg.hits.Load(); n != 0 {
		t.Fatalf("the target got %d requests", n)
	}
}

// TestWebDownloadAllowed: with the target explicitly allowed, the import
// works; a stalled source fails in bounded time with the image queued
// again, and failures tell nothing of internal addresses.
func TestWebDownloadAllowed(t *testing.T) {
	data := bytes.Repeat([]byte("glance"), 1000)
	tg := newTarget(t, data)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "http://" + closed.Addr().String() + "/x"
	closed.Close()
	ts := startServer(t, Config{WebDownload: webfetch.Options{Filter: loopbackSources(),
		IdleTimeout: 300 * time.Millisecond, ConnectTimeout: time.Second}})
	u := ts.URL + "/v2/images/"

	ok := ts.create(t, map[string]any{"name": "ok", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "import", do(t, "POST", u+ok+"/import", webDownloadBody(tg.URL+"/data")), 202)
	if im := waitTask(t, ts, ok); im["status"] != "active" || im["size"] != float64(len(data)) {
		t.Fatalf("imported image %v", im)
	}

	for _, uri := range []string{tg.URL + "/stall", closedURL, tg.URL + "/missing"} {
		id := ts.create(t, map[string]any{"name": "fail", "disk_format": "raw", "container_format": "bare"})
		start := time.Now()
		wantCode(t, uri, do(t, "POST", u+id+"/import", webDownloadBody(uri)), 202)
		if im := waitTask(t, ts, id); im["status"] != "queued" {
			t.Fatalf("%s: image %v", uri, im)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: the failure took %v", uri, d)
		}
		var tasks []any
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			tasks = do(t, "GET", u+id+"/tasks", nil).json(t)["tasks"].([]any)
			if len(tasks) != 1 || tasks[0].(map[string]any)["status"] != "processing" || time.Now().After(deadline) {
				break
			}
		}
		if len(tasks) != 1 {
			t.Fatalf("%s: tasks %v", uri, tasks)
		}
		task := tasks[0].(map[string]any)
		msg, _ := task["message"].(string)
		if task["status"] != "failure" || msg == "" {
			t.Errorf("%s: task %v", uri, task)
		}
		for _, leak := range []string{"127.0.0.1", "refused", "dial", closed.Addr().String()} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: task message %q reveals %q", uri, msg, leak)
			}
		}
	}
}

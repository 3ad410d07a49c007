package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timing bounds in these tests are generous sanity bounds on a shared
// machine, not measurements: a limit of a few hundred milliseconds must act
// within about a second more.
const slack = time.Second

// fastLimits are short timeouts for tests.
var fastLimits = Limits{
	HeaderTimeout:   300 * time.Millisecond,
	IdleTimeout:     300 * time.Millisecond,
	TransferTimeout: 300 * time.Millisecond,
	TransferMinRate: 1 << 10, // 307 bytes per 300 ms window
}

// rawConn is a client connection that writes requests by hand.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, ts *testServer) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

func (c *rawConn) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// response reads one answer and its body within d.
func (c *rawConn) response(t *testing.T, d time.Duration) (*http.Response, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", d, err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("answer body: %v", err)
	}
	return res, b
}

// closedWithin reports how long the server took to close the connection,
// failing the test if it stays open longer than d.
func (c *rawConn) closedWithin(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, c.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", d)
	}
	return time.Since(start)
}

// quickRequest checks that the server answers another connection promptly.
func quickRequest(t *testing.T, ts *testServer) {
	t.Helper()
	start := time.Now()
	wantCode(t, "request on another connection", do(t, "GET", ts.URL+"/v2/images", nil), 200)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a normal request took %v while a slow connection was open", d)
	}
}

func TestIdleAndSlowHeaderConnectionsClosed(t *testing.T) {
	ts := startServer(t, Config{Limits: fastLimits})
	idle := dialRaw(t, ts)
	idle.send(t, "GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n")
	if res, _ := idle.response(t, slack); res.StatusCode != 200 || res.Close {
		t.Fatalf("healthcheck: %d, close %v", res.StatusCode, res.Close)
	}
	slowHeaders := dialRaw(t, ts)
	slowHeaders.send(t, "GET /v2/images HTTP/1.1\r\nHost: x\r\n")
	quickRequest(t, ts)
	if d := idle.closedWithin(t, fastLimits.IdleTimeout+slack); d < fastLimits.IdleTimeout/2 {
		t.Errorf("idle connection closed after %v, before the idle timeout", d)
	}
	slowHeaders.closedWithin(t, fastLimits.HeaderTimeout+slack)
}

func TestTrickledBodyIsCut(t *testing.T) {
	ts := startServer(t, Config{Limits: fastLimits})
	id := ts.create(t, map[string]any{"disk_format": "raw", "container_format": "bare"})
	c := dialRaw(t, ts)
	start := time.Now()
	c.send(t, "PUT /v2/images/"+id+"/file HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // one byte a second
		defer wg.Done()
		for {
			if _, err := c.Write([]byte{'x'}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	quickRequest(t, ts)
	res, body := c.response(t, fastLimits.TransferTimeout+slack)
	if res.StatusCode != http.StatusRequestTimeout || !res.Close {
		t.Fatalf("trickled upload: %d close=%v %s", res.StatusCode, res.Close, body)
	}
	if d := time.Since(start); d > fastLimits.TransferTimeout+slack {
		t.Errorf("trickled upload answered after %v", d)
	}
	c.closedWithin(t, fastLimits.TransferTimeout+slack)
	if st := ts.image(t, id)["status"]; st != "queued" {
		t.Errorf("image status %v after the cut upload, want queued", st)
	}
}

// steadyReader yields n bytes in pieces of 32 KiB every 20 ms: slow, with
// pauses longer than nothing, but far above the minimum rate.
type steadyReader struct{ n int }

func (r *steadyReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(20 * time.Millisecond)
	k := min(len(p), 32<<10, r.n)
	clear(p[:k]) // else the bytes are whatever the caller's buffer held, an earlier test's image perhaps
	r.n -= k
	return k, nil
}

func TestSteadyUploadOutlastsWindows(t *testing.T) {
	// A window of a second: on a loaded machine a read may wait for the
	// scheduler a few hundred milliseconds.
	lim := Limits{TransferTimeout: time.Second, TransferMinRate: 1 << 10}
	ts := startServer(t, Config{Limits: lim})
	id := ts.create(t, map[string]any{"disk_format": "raw", "container_format": "bare"})
	start := time.Now()
	wantCode(t, "steady upload", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", &steadyReader{n: 4 << 20}), 204)
	if d := time.Since(start); d < 2*lim.TransferTimeout {
		t.Fatalf("upload took %v, not longer than a few windows: the test proves nothing", d)
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.b.String(), sub)
}

func TestUnreadDownloadIsCut(t *testing.T) {
	// The data goes in through a server with default limits (a 300 ms
	// window may be too short for a loaded machine), and out through one
	// with short ones on the same data.
	dir := t.TempDir()
	up := startServer(t, Config{DataDir: dir})
	id := up.create(t, map[string]any{"disk_format": "raw", "container_format": "bare"})
	const size = 32 << 20 // well beyond what the sockets' buffers hold
	wantCode(t, "upload at link speed", do(t, "PUT", up.URL+"/v2/images/"+id+"/file", bytes.NewReader(make([]byte, size))), 204)
	logs := &syncBuffer{}
	ts := startServer(t, Config{DataDir: dir, Limits: fastLimits, Logger: slog.New(slog.NewTextHandler(logs, nil))})

	c := dialRaw(t, ts)
	c.Conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	start := time.Now()
	c.send(t, "GET /v2/images/"+id+"/file HTTP/1.1\r\nHost: x\r\n\r\n")
	quickRequest(t, ts)
	for !logs.contains("download interrupted") {
		if time.Since(start) > fastLimits.TransferTimeout+slack {
			t.Fatal("a download never read is still being sent")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Conn.(*net.TCPConn).SetReadBuffer(4 << 20) // read the rest quickly
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	if res.StatusCode != 200 || err == nil || n >= size {
		t.Fatalf("download after the cut: %d, %d of %d bytes, %v", res.StatusCode, n, size, err)
	}
}

func TestUnauthenticatedBodyNotAwaited(t *testing.T) {
	ts := startServer(t, Config{Auth: "keystone", Limits: fastLimits, Keystone: KeystoneConfig{
		AuthURL: "http://127.0.0.1:1/v3", Username: "glance", Password: "never-used"}})
	for name, req := range map[string]string{
		"content-length": "Content-Length: 100000\r\n\r\nabc",
		"chunked":        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
		"expect":         "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, ts)
			start := time.Now()
			c.send(t, "PUT /v2/images/x/file HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"+req)
			res, _ := c.response(t, slack)
			if res.StatusCode != 401 || !res.Close {
				t.Fatalf("no token: %d, close %v", res.StatusCode, res.Close)
			}
			if d := time.Since(start); d > slack {
				t.Errorf("401 took %v", d)
			}
			c.closedWithin(t, min(drainTimeout, fastLimits.TransferTimeout)+slack)
		})
	}
}

func TestMalformedChunkedUploads(t *testing.T) {
	ts := startServer(t, Config{Limits: fastLimits})
	for _, tc := range []struct{ name, body string }{
		{"bad chunk size", "zz\r\nabc\r\n0\r\n\r\n"},
		{"chunk size overflow", "fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"},
		{"no CRLF after chunk", "3\r\nabcdef\r\n0\r\n\r\n"},
		{"truncated", "5\r\nab"},
	} {
		for _, path := range []string{"file", "stage"} {
			t.Run(tc.name+"/"+path, func(t *testing.T) {
				id := ts.create(t, map[string]any{"disk_format": "raw", "container_format": "bare"})
				c := dialRaw(t, ts)
				c.send(t, "PUT /v2/images/"+id+"/"+path+" HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n"+
					"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"+tc.body)
				c.Conn.(*net.TCPConn).CloseWrite()
				res, body := c.response(t, fastLimits.TransferTimeout+slack)
				if res.StatusCode != 400 {
					t.Fatalf("%d %s", res.StatusCode, body)
				}
				if st := ts.image(t, id)["status"]; st != "queued" {
					t.Errorf("status %v after a bad upload, want queued", st)
				}
			})
		}
	}
}

func TestLimitSettings(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/glanced.yaml"
	os.WriteFile(file, []byte("max-url-length: 4096\nidle-timeout: 1m\nimage-size-cap: 2048\n"), 0o600)
	env := map[string]string{"GLANCED_LIST_MAX_FILTERS": "80", "GLANCED_IMAGE_SIZE_CAP": "5GiB"}
	cfg, err := LoadConfig([]string{"--config", file, "--image-size-cap", "10GiB", "--transfer-min-rate", "4KB",
		"--transfer-timeout", "5s"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{IdleTimeout: time.Minute, TransferTimeout: 5 * time.Second, TransferMinRate: 4000,
		MaxURLLength: 4096, ListMaxFilters: 80}
	if cfg.Limits != want || cfg.MaxImageSize != 10<<30 {
		t.Fatalf("limits %+v cap %d\nwant %+v", cfg.Limits, cfg.MaxImageSize, want)
	}
	for _, bad := range [][]string{
		{"--list-max-filters", "501"}, {"--list-max-sort-keys", "0"}, {"--image-size-cap", "10XB"},
		{"--image-size-cap", "-1"}, {"--transfer-timeout", "-1s"}, {"--idle-timeout", "soon"},
		{"--max-header-line", "99999999999"},
	} {
		if _, err := LoadConfig(bad, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if l := (Limits{}).withDefaults(); l.MaxURLLength != 8192 || l.MaxHeaderLine != 16384 || l.TransferMinRate != 1024 {
		t.Errorf("defaults %+v", l)
	}
	for in, want := range map[string]int64{"1099511627776": 1 << 40, "1TiB": 1 << 40, "500MB": 500e6, "64 KiB": 64 << 10, "7B": 7} {
		if n, err := parseSize(in); n != want || err != nil {
			t.Errorf("parseSize(%q) = %d, %v", in, n, err)
		}
	}
	for _, in := range []string{"", "KiB", "1.5GiB", "9999999999TiB", "12 parsecs"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}

	ts := startServer(t, Config{MaxImageSize: 1000})
	id := ts.create(t, map[string]any{"disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload over the cap", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", make([]byte, 1001)), 413)
	wantCode(t, "upload at the cap", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", make([]byte, 1000)), 204)
}

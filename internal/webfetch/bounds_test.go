package webfetch

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const short = 200 * time.Millisecond

// within fails the test when more than limit passed since start.
func within(t *testing.T, start time.Time, limit time.Duration) {
	t.Helper()
	if d := time.Since(start); d > limit {
		t.Errorf("took %v, want at most %v", d, limit)
	}
}

func TestStalledBody(t *testing.T) {
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // then nothing more, until the client gives up
	})
	f := New(Options{Filter: loopbackFilter(tg.port), IdleTimeout: short})
	start := time.Now()
	got, err := fetchAll(t, f, tg.URL)
	wantKind(t, err, ErrStalled)
	within(t, start, 5*short)
	if len(got) != 1000 {
		t.Errorf("read %d bytes before the stall, want 1000", len(got))
	}
}

// TestMovingTransferNotCut: a transfer longer than the idle timeout that
// keeps bringing bytes completes, and the reader's own pauses do not count.
func TestMovingTransferNotCut(t *testing.T) {
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		for range 8 {
			w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			time.Sleep(short / 4)
		}
	})
	f := New(Options{Filter: loopbackFilter(tg.port), IdleTimeout: short})
	if got, err := fetchAll(t, f, tg.URL); err != nil || len(got) != 80 {
		t.Fatalf("read %d bytes, %v; want 80", len(got), err)
	}
	rc, _, err := f.Open(context.Background(), mustParse(t, tg.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	n := 0
	for buf := make([]byte, 40); ; {
		time.Sleep(short * 5 / 4) // a slow consumer, e.g. a busy disk
		m, err := rc.Read(buf)
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", n, err)
		}
	}
	if n != 80 {
		t.Errorf("read %d bytes, want 80", n)
	}
}

func TestSlowHeaders(t *testing.T) {
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	f := New(Options{Filter: loopbackFilter(tg.port), HeaderTimeout: short})
	start := time.Now()
	_, err := fetchAll(t, f, tg.URL)
	wantKind(t, err, ErrTimeout)
	within(t, start, 5*short)
}

func TestTooLarge(t *testing.T) {
	data := make([]byte, 2000)
	chunked := func(n int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush() // headers first: no Content-Length
			w.Write(data[:n])
		}
	}
	withLength := newTarget(t, serveBytes(data))
	over := newTarget(t, chunked(1001))
	exact := newTarget(t, chunked(1000))
	opts := func(tg *target) Options { return Options{Filter: loopbackFilter(tg.port), MaxSize: 1000} }

	_, _, err := New(opts(withLength)).Open(context.Background(), mustParse(t, withLength.URL))
	wantKind(t, err, ErrTooLarge)
	got, err := fetchAll(t, New(opts(over)), over.URL)
	wantKind(t, err, ErrTooLarge)
	if len(got) > 1000 {
		t.Errorf("returned %d bytes, more than the cap", len(got))
	}
	if got, err := fetchAll(t, New(opts(exact)), exact.URL); err != nil || len(got) != 1000 {
		t.Errorf("exactly the cap: %d bytes, %v", len(got), err)
	}
}

// TestTruncatedBody: a body shorter than its Content-Length fails.
func TestTruncatedBody(t *testing.T) {
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, _ := w.(http.Hijacker).Hijack()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + strings.Repeat("x", 1000))
		buf.Flush()
		conn.Close()
	})
	_, err := fetchAll(t, New(Options{Filter: loopbackFilter(tg.port)}), tg.URL)
	wantKind(t, err, ErrTransfer)
}

func TestStatus(t *testing.T) {
	notFound := newTarget(t, http.NotFound)
	_, err := fetchAll(t, New(Options{Filter: loopbackFilter(notFound.port)}), notFound.URL)
	e := wantKind(t, err, ErrStatus)
	if e.StatusCode != 404 || e.Error() != publicPrefix+"the source answered 404 Not Found" {
		t.Errorf("got %d %q", e.StatusCode, e.Error())
	}
	// The reason phrase is the source's text: it is not repeated.
	odd := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, _ := w.(http.Hijacker).Hijack()
		buf.WriteString("HTTP/1.1 503 backend 10.1.2.3:8080 down\r\nContent-Length: 0\r\n\r\n")
		buf.Flush()
		conn.Close()
	})
	_, err = fetchAll(t, New(Options{Filter: loopbackFilter(odd.port)}), odd.URL)
	wantKind(t, err, ErrStatus, "10.1.2.3", "8080", "backend")
}

// TestNoRetry: a source that drops the connection gets one request on one
// connection, and each fetch asks for its connection to be closed, so none
// is reused (net/http retries only on reused connections).
func TestNoRetry(t *testing.T) {
	drop := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	_, err := fetchAll(t, New(Options{Filter: loopbackFilter(drop.port)}), drop.URL)
	wantKind(t, err, ErrTransfer)
	if c, r := drop.conns.Load(), drop.requests.Load(); c != 1 || r != 1 {
		t.Errorf("the source saw %d connections and %d requests, want 1 and 1", c, r)
	}
	var closes int
	ok := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Close {
			closes++
		}
		w.Write([]byte("x"))
	})
	f := New(Options{Filter: loopbackFilter(ok.port)})
	for range 2 {
		if _, err := fetchAll(t, f, ok.URL); err != nil {
			t.Fatal(err)
		}
	}
	if c := ok.conns.Load(); c != 2 || closes != 2 {
		t.Errorf("two fetches used %d connections, %d asked to close; want 2 and 2", c, closes)
	}
}

func TestConcurrencyBound(t *testing.T) {
	tg := newTarget(t, serveBytes([]byte("x")))
	u := mustParse(t, tg.URL)
	f := New(Options{Filter: loopbackFilter(tg.port), MaxConcurrent: 1, QueueWait: -1})
	first, _, err := f.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.Open(context.Background(), u)
	wantKind(t, err, ErrBusy)
	first.Close()
	first.Close() // a second Close frees nothing more
	second, _, err := f.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	_, _, err = f.Open(context.Background(), u)
	wantKind(t, err, ErrBusy)
	second.Close()

	// With a queue wait, Open waits for a slot, up to the wait.
	f = New(Options{Filter: loopbackFilter(tg.port), MaxConcurrent: 1, QueueWait: short})
	held, _, err := f.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = f.Open(context.Background(), u)
	wantKind(t, err, ErrBusy)
	if d := time.Since(start); d < short {
		t.Errorf("gave up after %v, before the queue wait %v", d, short)
	}
	time.AfterFunc(short/4, func() { held.Close() })
	rc, _, err := f.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("a slot freed during the wait: %v", err)
	}
	rc.Close()
}

func TestCancelled(t *testing.T) {
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("x"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	rc, _, err := New(Options{Filter: loopbackFilter(tg.port)}).Open(ctx, mustParse(t, tg.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	time.AfterFunc(short/4, cancel)
	_, err = io.ReadAll(rc)
	wantKind(t, err, ErrTransfer)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not match context.Canceled", err)
	}
}

func TestHTTPS(t *testing.T) {
	ts := httptest.NewUnstartedServer(serveBytes([]byte("over tls")))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	ts.StartTLS()
	defer ts.Close()
	port, _ := strconv.Atoi(ts.URL[strings.LastIndex(ts.URL, ":")+1:])
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	tlsCfg := ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsCfg.RootCAs = pool
	f := New(Options{Filter: loopbackFilter(port), TLSConfig: tlsCfg})
	if got, err := fetchAll(t, f, ts.URL); err != nil || string(got) != "over tls" {
		t.Fatalf("%q, %v", got, err)
	}
	// Without the test CA the certificate is not trusted.
	_, err := fetchAll(t, New(Options{Filter: loopbackFilter(port)}), ts.URL)
	wantKind(t, err, ErrConnect, "x509", "certificate")
	if !strings.Contains(Detail(err), "certificate") {
		t.Errorf("the log detail %q lacks the cause", Detail(err))
	}
}

func TestLogValueHasDetail(t *testing.T) {
	e := connectError(errors.New("dial tcp 10.0.0.5:3306: connect: connection refused"))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Warn("import failed", "err", e)
	if !strings.Contains(buf.String(), "10.0.0.5:3306") || strings.Contains(e.Error(), "10.0.0.5") {
		t.Errorf("logged %q, Error %q", buf.String(), e.Error())
	}
}

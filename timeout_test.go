package glance_test

// Stalls: servers that stop answering at some point, against
// Options.StallTimeout. The tests assert what fails and what does not, and
// how many attempts were made, never how long anything took.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-glance/glance"
)

const stall = 300 * time.Millisecond

func stallClient(t *testing.T, url string) *glance.Client {
	t.Helper()
	c, err := glance.New(url+"/v2", &glance.Options{StallTimeout: stall})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantTimeout(t *testing.T, err error) {
	t.Helper()
	var te *glance.TimeoutError
	if !errors.Is(err, glance.ErrTimeout) || !errors.As(err, &te) || te.After != stall {
		t.Fatalf("want a *TimeoutError after %v, got %v", stall, err)
	}
}

// silentServer accepts connections and reads requests, but never answers.
func silentServer(t *testing.T) (url string, conns *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int32)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conn.Close()
				go io.Copy(io.Discard, conn)
				<-done
			}()
		}
	}()
	return "http://" + l.Addr().String(), conns
}

func TestTimeoutServerNeverAnswers(t *testing.T) {
	url, conns := silentServer(t)
	c := stallClient(t, url)
	_, err := c.GetImage(context.Background(), imageID)
	wantTimeout(t, err)
	// Reads are retried after connection failures, but not after a
	// timeout: that would multiply the bound the user set.
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1 (no retry after a timeout)", n)
	}
}

// stallingData serves the image record, and data that stops after sending
// `after` bytes (after 0: right after the headers) and hangs until the
// client goes.
func stallingData(t *testing.T, data []byte, after int) *glance.Client {
	t.Helper()
	f := &fakeImage{data: data}
	m, s := digests(data)
	f.record = map[string]any{"id": imageID, "status": "active", "size": len(data),
		"checksum": m, "os_hash_algo": "sha512", "os_hash_value": s}
	mux := http.NewServeMux()
	mux.Handle("GET /v2/images/{id}", f.handler(t))
	mux.HandleFunc("GET /v2/images/{id}/file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data[:after])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return stallClient(t, srv.URL)
}

func TestTimeoutStallAfterHeaders(t *testing.T) {
	c := stallingData(t, payload(100_000), 0)
	dir := t.TempDir()
	_, err := c.DownloadToFile(context.Background(), imageID, filepath.Join(dir, "img"), nil, nil)
	wantTimeout(t, err)
	assertEmptyDir(t, dir)
}

func TestTimeoutStallMidBody(t *testing.T) {
	data := payload(3 << 20)
	c := stallingData(t, data, 1<<20)
	d, err := c.Download(context.Background(), imageID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n, err := io.Copy(io.Discard, d)
	wantTimeout(t, err)
	if n != 1<<20 {
		t.Fatalf("read %d bytes before the stall, want %d", n, 1<<20)
	}
}

func TestTimeoutSpareLongTransferThatMoves(t *testing.T) {
	data := payload(64 << 10)
	f, _ := newFake(t, data)
	// 1 KiB every 25 ms: about 1.6 s in all, more than five times the
	// stall bound, but never a pause as long as it.
	f.delay = 25 * time.Millisecond
	srv := httptest.NewServer(f.handler(t))
	t.Cleanup(srv.Close)
	c := stallClient(t, srv.URL)
	path := filepath.Join(t.TempDir(), "img")
	start := time.Now()
	if _, err := c.DownloadToFile(context.Background(), imageID, path, nil, nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 2*stall {
		t.Fatalf("the transfer took %v: too short to show a long transfer is spared", el)
	}
}

func TestTimeoutSpareSlowConsumer(t *testing.T) {
	data := payload(256 << 10)
	f, _ := newFake(t, data)
	srv := httptest.NewServer(f.handler(t))
	t.Cleanup(srv.Close)
	c := stallClient(t, srv.URL)
	d, err := c.Download(context.Background(), imageID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The reader dawdles longer than the bound between reads: the server
	// is not to blame, and the download goes on.
	buf := make([]byte, 64<<10)
	var got bytes.Buffer
	for i := 0; ; i++ {
		n, err := d.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			time.Sleep(stall + stall/2)
		}
	}
	if !bytes.Equal(got.Bytes(), data) || !d.Verified() {
		t.Fatal("the data differs or was not verified")
	}
}

// TestTimeoutUploadToServerThatStopsReading: the server takes the headers
// and then reads nothing: the body stalls once the socket buffers are full.
func TestTimeoutUploadToServerThatStopsReading(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		br := bufio.NewReader(r.Body)
		br.Peek(1) // let the 100-continue go, then stop reading
		<-done     // the server notices no hang-up while a body is unread
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	c := stallClient(t, srv.URL)
	// Far more than loopback socket buffers hold.
	data := bytes.NewReader(make([]byte, 64<<20))
	_, err := c.Upload(context.Background(), imageID, data, &glance.UploadOptions{Size: int64(data.Len()), NoVerify: true})
	wantTimeout(t, err)
}

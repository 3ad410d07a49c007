package glance_test

// Fault injection: these tests use httptest servers that misbehave on purpose
// (truncated bodies, wrong hashes, 5xx, slow peers). The API's normal
// behaviour is tested against a real Glance in integration_test.go.

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance"
)

const imageID = "11111111-2222-3333-4444-555555555555"

// fakeImage serves an image record and its data, with knobs for faults.
type fakeImage struct {
	data        []byte
	record      map[string]any
	truncateAt  int           // send only this many bytes but announce all
	delay       time.Duration // pause between 1 KiB writes
	contentMD5  string
	uploadState map[string]any // record after upload
	ranges      bool           // answer Range requests (bytes=N-) with 206
	gotRanges   []string       // the Range headers of data requests, in order
}

func (f *fakeImage) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/images/{id}", func(w http.ResponseWriter, r *http.Request) {
		rec := f.record
		if f.uploadState != nil {
			rec = f.uploadState
		}
		writeJSON(w, rec)
	})
	mux.HandleFunc("GET /v2/images/{id}/file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if f.contentMD5 != "" {
			w.Header().Set("Content-MD5", f.contentMD5)
		}
		data := f.data
		if f.truncateAt > 0 {
			data = data[:f.truncateAt]
		}
		f.gotRanges = append(f.gotRanges, r.Header.Get("Range"))
		var from int
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &from); err == nil && f.ranges {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(f.data)-1, len(f.data)))
			w.Header().Set("Content-Length", fmt.Sprint(len(f.data)-from))
			w.WriteHeader(http.StatusPartialContent)
			data = data[min(from, len(data)):]
		} else {
			w.Header().Set("Content-Length", fmt.Sprint(len(f.data)))
		}
		for len(data) > 0 {
			n := min(1024, len(data))
			if _, err := w.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
			if f.delay > 0 {
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(f.delay):
				}
			}
		}
		if f.truncateAt > 0 {
			// Drop the connection so the client sees a short body.
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("cannot hijack")
				return
			}
			w.(http.Flusher).Flush()
			conn, _, _ := hj.Hijack()
			conn.Close()
		}
	})
	mux.HandleFunc("PUT /v2/images/{id}/file", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, mustJSON(v))
}

func digests(data []byte) (md5hex, sha512hex string) {
	m := md5.Sum(data)
	s := sha512.Sum512(data)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

func newFake(t *testing.T, data []byte) (*fakeImage, *glance.Client) {
	t.Helper()
	m, s := digests(data)
	f := &fakeImage{data: data, record: map[string]any{
		"id": imageID, "status": "active", "size": len(data),
		"checksum": m, "os_hash_algo": "sha512", "os_hash_value": s,
	}}
	srv := httptest.NewServer(f.handler(t))
	t.Cleanup(srv.Close)
	c, err := glance.New(srv.URL+"/v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestDownloadVerifies(t *testing.T) {
	data := payload(100_000)
	_, c := newFake(t, data)
	path := filepath.Join(t.TempDir(), "img")
	res, err := c.DownloadToFile(context.Background(), imageID, path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Algorithm != "sha512" || res.Size != int64(len(data)) || res.Digest == "" {
		t.Fatalf("result %+v", res)
	}
	got, _ := os.ReadFile(path)
	if string(got) != string(data) {
		t.Fatal("downloaded data differs")
	}
}

func TestDownloadWrongHashLeavesNoFile(t *testing.T) {
	data := payload(50_000)
	f, c := newFake(t, data)
	_, other := digests([]byte("something else"))
	f.record["os_hash_value"] = other
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	_, err := c.DownloadToFile(context.Background(), imageID, path, nil, nil)
	var ce *glance.ChecksumError
	if !errors.As(err, &ce) || !errors.Is(err, glance.ErrChecksumMismatch) || ce.Algorithm != "sha512" {
		t.Fatalf("want sha512 checksum error, got %v", err)
	}
	assertEmptyDir(t, dir)
}

func TestDownloadWrongMD5(t *testing.T) {
	data := payload(5000)
	f, c := newFake(t, data)
	delete(f.record, "os_hash_algo")
	delete(f.record, "os_hash_value")
	f.record["checksum"] = strings.Repeat("0", 32)
	d, err := c.Download(context.Background(), imageID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = io.ReadAll(d)
	if !errors.Is(err, glance.ErrChecksumMismatch) || d.Algorithm != "md5" {
		t.Fatalf("want md5 mismatch, got %v (%s)", err, d.Algorithm)
	}
}

func TestDownloadContentMD5Fallback(t *testing.T) {
	data := payload(5000)
	f, c := newFake(t, data)
	f.record = map[string]any{"id": imageID, "status": "active"}
	f.contentMD5 = strings.Repeat("f", 32)
	d, err := c.Download(context.Background(), imageID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := io.ReadAll(d); !errors.Is(err, glance.ErrChecksumMismatch) {
		t.Fatalf("Content-MD5 not verified: %v", err)
	}
}

func TestDownloadUnknownAlgorithm(t *testing.T) {
	data := payload(5000)
	f, c := newFake(t, data)
	f.record["os_hash_algo"] = "whirlpool"
	if _, err := c.Download(context.Background(), imageID, nil); err == nil || !strings.Contains(err.Error(), "whirlpool") {
		t.Fatalf("unknown algorithm accepted: %v", err)
	}
	d, err := c.Download(context.Background(), imageID, &glance.DownloadOptions{AllowMD5Fallback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := io.ReadAll(d); err != nil || d.Algorithm != "md5" || !d.Verified() {
		t.Fatalf("md5 fallback: err=%v algo=%q verified=%v", err, d.Algorithm, d.Verified())
	}
}

func TestDownloadTruncatedLeavesNoFile(t *testing.T) {
	data := payload(300_000)
	f, c := newFake(t, data)
	f.truncateAt = 100_000
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	_, err := c.DownloadToFile(context.Background(), imageID, path, nil, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("want unexpected EOF, got %v", err)
	}
	assertEmptyDir(t, dir)
}

func TestDownloadKeepsExistingFileOnFailure(t *testing.T) {
	data := payload(300_000)
	f, c := newFake(t, data)
	f.truncateAt = 1000
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	os.WriteFile(path, []byte("old"), 0o644)
	if _, err := c.DownloadToFile(context.Background(), imageID, path, nil, nil); err == nil {
		t.Fatal("truncated download succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("existing file changed to %d bytes", len(got))
	}
}

func TestDownloadCancelStopsPromptly(t *testing.T) {
	data := payload(1 << 20)
	f, c := newFake(t, data)
	f.delay = 50 * time.Millisecond // 1 KiB per 50 ms: ~50 s for the whole image
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	progress := func(d *glance.Download, w io.Writer) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			cancel() // cancel as soon as data flows
			return w.Write(p)
		})
	}
	start := time.Now()
	_, err := c.DownloadToFile(ctx, imageID, filepath.Join(dir, "img"), nil, progress)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	// Not a timing assertion of speed: the whole transfer would take ~50 s,
	// so finishing at all within the test timeout shows the cancel took effect.
	t.Logf("cancelled after %v", time.Since(start))
	assertEmptyDir(t, dir)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestUploadDetectsMismatch(t *testing.T) {
	data := payload(70_000)
	f, c := newFake(t, data)
	m, s := digests(data)
	f.uploadState = map[string]any{"id": imageID, "status": "active", "size": len(data),
		"checksum": m, "os_hash_algo": "sha512", "os_hash_value": s}
	res, err := c.Upload(context.Background(), imageID, strings.NewReader(string(data)), &glance.UploadOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatalf("good upload: %v", err)
	}
	if res.MD5 != "" || res.SHA512 != s || res.Size != int64(len(data)) || fmt.Sprint(res.Verified) != "[size sha512]" {
		t.Fatalf("digests %+v", res)
	}
	res, err = c.Upload(context.Background(), imageID, strings.NewReader(string(data)), &glance.UploadOptions{MD5: true})
	if err != nil || res.MD5 != m || res.SHA512 != s || fmt.Sprint(res.Verified) != "[size md5 sha512]" {
		t.Fatalf("upload with MD5: %v, %+v", err, res)
	}
	f.uploadState["checksum"] = strings.Repeat("0", 32)
	_, err = c.Upload(context.Background(), imageID, strings.NewReader(string(data)), &glance.UploadOptions{MD5: true})
	var ce *glance.ChecksumError
	if !errors.As(err, &ce) || ce.Algorithm != "md5" {
		t.Fatalf("want md5 mismatch, got %v", err)
	}
	f.uploadState["checksum"] = m
	f.uploadState["os_hash_value"] = strings.Repeat("a", 128)
	_, err = c.Upload(context.Background(), imageID, strings.NewReader(string(data)), nil)
	if !errors.As(err, &ce) || ce.Algorithm != "sha512" {
		t.Fatalf("want sha512 mismatch, got %v", err)
	}
	f.uploadState["size"] = 5
	_, err = c.Upload(context.Background(), imageID, strings.NewReader(string(data)), nil)
	if !errors.As(err, &ce) || ce.Algorithm != "size" {
		t.Fatalf("want size mismatch, got %v", err)
	}
}

func TestUploadShortReader(t *testing.T) {
	_, c := newFake(t, payload(10))
	_, err := c.Upload(context.Background(), imageID, strings.NewReader("short"), &glance.UploadOptions{Size: 100})
	if err == nil {
		t.Fatal("upload of fewer bytes than announced succeeded")
	}
}

func TestServerErrors(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		status            int
		want              string
		is                error
	}{
		{"json", "application/json", `{"message": "No image found with ID x<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}`, 404, "No image found with ID x", glance.ErrNotFound},
		{"html", "text/html", "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID x<br /><br />\n\n\n\n </body>\n</html>", 404, "No image found with ID x", glance.ErrNotFound},
		{"text", "text/plain; charset=UTF-8", "409 Conflict\n\nImage status transition from active to saving is not allowed\n\n   ", 409, "Image status transition from active to saving is not allowed", glance.ErrConflict},
		{"nested", "application/json", `{"error": {"message": "The request you have made requires authentication.", "code": 401}}`, 401, "The request you have made requires authentication.", glance.ErrUnauthorized},
		{"5xx", "text/plain", "upstream broke", 502, "upstream broke", nil},
		{"empty", "", "", 503, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.Header().Set("X-Openstack-Request-Id", "req-abc")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _ := glance.New(srv.URL+"/v2", nil)
			_, err := c.GetImage(context.Background(), "x")
			var ge *glance.Error
			if !errors.As(err, &ge) {
				t.Fatalf("want *glance.Error, got %T %v", err, err)
			}
			if ge.StatusCode != tc.status || ge.Message != tc.want || ge.RequestID != "req-abc" || ge.Method != "GET" {
				t.Fatalf("got %+v", ge)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("errors.Is(%v) false", tc.is)
			}
			if errors.Is(err, glance.ErrForbidden) {
				t.Fatal("matched the wrong sentinel")
			}
			if !strings.Contains(err.Error(), "req-abc") || !strings.Contains(err.Error(), fmt.Sprint(tc.status)) {
				t.Fatalf("message lacks status or request id: %v", err)
			}
		})
	}
}

func TestVersionedEndpointSkipsDiscovery(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		writeJSON(w, map[string]any{"images": []any{}})
	}))
	defer srv.Close()
	for _, tc := range []struct {
		endpoint string
		opts     *glance.Options
	}{
		{srv.URL + "/v2", nil},
		{srv.URL + "/v2.16/", nil},
		{srv.URL, &glance.Options{APIVersion: "2"}},
	} {
		paths = nil
		c, err := glance.New(tc.endpoint, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListImagesPage(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if len(paths) != 1 || paths[0] != "/v2/images" {
			t.Fatalf("%s: requests %v", tc.endpoint, paths)
		}
	}
	if _, err := glance.New(srv.URL+"/v1", nil); err == nil {
		t.Fatal("v1 endpoint accepted by the v2 client")
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestRetriesReadsOnly(t *testing.T) {
	var gets, posts int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts++
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		gets++
		switch gets {
		case 1: // a reset before any answer
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			writeJSON(w, map[string]any{"id": imageID, "name": "ok"})
		}
	}))
	defer srv.Close()
	c, _ := glance.New(srv.URL+"/v2", nil)
	img, err := c.GetImage(context.Background(), imageID)
	if err != nil || img.Name != "ok" || gets != 3 {
		t.Fatalf("GET after a reset and a 503: %v, %d attempts", err, gets)
	}
	if _, err := c.CreateImage(context.Background(), nil); err == nil || posts != 1 {
		t.Fatalf("POST was repeated (%d attempts) or succeeded: %v", posts, err)
	}
	gets = 1 // the next answer is a 503
	c, _ = glance.New(srv.URL+"/v2", &glance.Options{Retries: -1})
	if _, err := c.GetImage(context.Background(), imageID); !strings.Contains(fmt.Sprint(err), "503") || gets != 2 {
		t.Fatalf("retries off: %d attempts, %v", gets, err)
	}
}

// An endpoint that does not serve v2 where the client looks answers with its
// versions document; the error says so rather than "Multiple Choices".
func TestWrongVersionAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMultipleChoices)
		io.WriteString(w, `{"versions": [{"id": "v1.1", "status": "SUPPORTED", "links": []}]}`)
	}))
	defer srv.Close()
	c, _ := glance.New(srv.URL, &glance.Options{APIVersion: "2"})
	_, err := c.GetImage(context.Background(), imageID)
	var ge *glance.Error
	if !errors.As(err, &ge) || ge.StatusCode != 300 || !strings.Contains(ge.Message, "offers v1.1") {
		t.Fatalf("got %v", err)
	}
}

// TestDownloadNoVerifyHashesNothing: NoVerify means no hash at all, not
// even the Content-MD5 a server sends along.
func TestDownloadNoVerifyHashesNothing(t *testing.T) {
	data := payload(50_000)
	f, c := newFake(t, data)
	f.contentMD5 = strings.Repeat("0", 32) // wrong on purpose: it must not be checked
	path := filepath.Join(t.TempDir(), "img")
	res, err := c.DownloadToFile(context.Background(), imageID, path, &glance.DownloadOptions{NoVerify: true}, nil)
	if err != nil || res.Algorithm != "" || res.Digest != "" || res.Size != int64(len(data)) {
		t.Fatalf("%v, %+v", err, res)
	}
}

// TestUploadWithoutSHA512OnServer: a server that keeps only an MD5 checksum
// is checked with it, the source read again; a pipe is checked on its size.
func TestUploadWithoutSHA512OnServer(t *testing.T) {
	data := payload(90_000)
	f, c := newFake(t, data)
	m, _ := digests(data)
	f.uploadState = map[string]any{"id": imageID, "status": "active", "size": len(data), "checksum": m}
	res, err := c.Upload(context.Background(), imageID, strings.NewReader(string(data)), nil)
	if err != nil || res.MD5 != m || fmt.Sprint(res.Verified) != "[size md5]" {
		t.Fatalf("%v, %+v", err, res)
	}
	f.uploadState["checksum"] = strings.Repeat("0", 32)
	_, err = c.Upload(context.Background(), imageID, strings.NewReader(string(data)), nil)
	var ce *glance.ChecksumError
	if !errors.As(err, &ce) || ce.Algorithm != "md5" {
		t.Fatalf("want md5 mismatch, got %v", err)
	}
	res, err = c.Upload(context.Background(), imageID, io.MultiReader(strings.NewReader(string(data))), nil)
	if err != nil || fmt.Sprint(res.Verified) != "[size]" {
		t.Fatalf("from a pipe: %v, %+v", err, res)
	}
}

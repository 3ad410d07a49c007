package v1_test

// Fault injection: test servers that answer what a real v1 server would not
// (damaged data, wrong digests, failures) or that record what the client
// puts on the wire. The API's behaviour is tested in integration_test.go.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-glance/glance"
	v1 "github.com/go-glance/glance/v1"
)

const imageID = "0b5e4f5c-1111-4222-8333-444455556666"

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// fault is a v1 server for one image whose answers a test bends.
type fault struct {
	data     []byte
	checksum string // what the server claims the data's MD5 is
	length   int    // Content-Length announced for the data
	status   string

	mu       sync.Mutex
	requests []*http.Request // headers of the requests seen
	bodies   [][]byte
}

func newFault(t *testing.T, data []byte) (*fault, *v1.Client) {
	f := &fault{data: data, checksum: md5hex(data), length: len(data), status: "active"}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := v1.New(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func (f *fault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	h := w.Header()
	h.Set("x-image-meta-id", imageID)
	h.Set("x-image-meta-name", "caf%C3%A9 100%25")
	h.Set("x-image-meta-status", f.status)
	h.Set("x-image-meta-checksum", f.checksum)
	h.Set("x-image-meta-size", strconv.Itoa(len(f.data)))
	switch {
	case r.Method == http.MethodHead:
	case r.Method == http.MethodGet:
		h.Set("Content-Length", strconv.Itoa(f.length))
		w.Write(f.data) // shorter than announced when a test says so
	case r.Method == http.MethodPost || r.Method == http.MethodPut:
		h.Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		size := len(body)
		io.WriteString(w, `{"image": {"id": "`+imageID+`", "status": "active", "size": `+strconv.Itoa(size)+
			`, "checksum": "`+f.checksum+`", "properties": {}}}`)
	}
}

func (f *fault) seen() (methods []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.requests {
		methods = append(methods, r.Method)
	}
	return methods
}

func TestDownloadVerifies(t *testing.T) {
	data := bytes.Repeat([]byte("v1 data "), 100000)
	_, c := newFault(t, data)
	path := filepath.Join(t.TempDir(), "img")
	res, err := c.DownloadToFile(context.Background(), imageID, path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, data) || !res.Verified || res.MD5 != md5hex(data) || res.Size != int64(len(data)) {
		t.Errorf("result %+v, %d bytes written", res, len(got))
	}
	d, err := c.Download(context.Background(), imageID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Image.Name != "café 100%" || d.Image.ID != imageID {
		t.Errorf("metadata sent with the data decoded as %+v", d.Image)
	}
}

func TestDownloadChecksumMismatch(t *testing.T) {
	f, c := newFault(t, []byte("the data"))
	f.checksum = md5hex([]byte("other data"))
	d, err := c.Download(context.Background(), imageID, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(d)
	d.Close()
	var ce *glance.ChecksumError
	if !errors.As(err, &ce) || !errors.Is(err, glance.ErrChecksumMismatch) || ce.Algorithm != "md5" || d.Verified() {
		t.Fatalf("err = %v", err)
	}
	dir := t.TempDir()
	if _, err := c.DownloadToFile(context.Background(), imageID, filepath.Join(dir, "img"), nil, nil); !errors.Is(err, glance.ErrChecksumMismatch) {
		t.Fatalf("DownloadToFile: %v", err)
	}
	assertEmptyDir(t, dir)
	// Verification off: the data is handed over unchecked.
	d, err = c.Download(context.Background(), imageID, &v1.DownloadOptions{NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if b, err := io.ReadAll(d); err != nil || string(b) != "the data" || d.Verified() {
		t.Errorf("unverified read: %q, %v", b, err)
	}
}

func TestDownloadTruncated(t *testing.T) {
	f, c := newFault(t, []byte("short"))
	f.length = 1000
	dir := t.TempDir()
	existing := filepath.Join(dir, "img")
	os.WriteFile(existing, []byte("old"), 0o644)
	_, err := c.DownloadToFile(context.Background(), imageID, existing, nil, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "old" {
		t.Errorf("the existing file became %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%s holds %v after a failed download", dir, entries)
	}
}

func TestUploadChecksumMismatch(t *testing.T) {
	f, c := newFault(t, nil)
	f.checksum = md5hex([]byte("what the store holds"))
	file := filepath.Join(t.TempDir(), "disk")
	os.WriteFile(file, []byte("what was sent"), 0o644)
	r, _ := os.Open(file)
	defer r.Close()
	img, err := c.CreateImage(context.Background(), &v1.ImageMeta{Name: "x", DiskFormat: "raw", ContainerFormat: "bare"}, r)
	var ce *glance.ChecksumError
	if !errors.As(err, &ce) || ce.Expected != md5hex([]byte("what was sent")) || ce.Actual != f.checksum {
		t.Fatalf("err = %v", err)
	}
	if img == nil || img.ID != imageID {
		t.Errorf("the image the server made is not returned with the error: %+v", img)
	}
}

// TestWireEncoding checks what a create and an update put in their headers.
func TestWireEncoding(t *testing.T) {
	f, c := newFault(t, nil)
	data := []byte("image bytes")
	f.checksum = md5hex(data)
	f.status = "queued"
	ctx := context.Background()
	_, err := c.CreateImage(ctx, &v1.ImageMeta{
		Name: "café 50%", IsPublic: ptr(false), Properties: map[string]string{"os_distro": "ü", "note": "a b"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateImage(ctx, imageID, &v1.ImageMeta{DiskFormat: "raw"}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.seen(), " "); got != "POST HEAD PUT" {
		t.Fatalf("requests %s", got)
	}
	create, update := f.requests[0].Header, f.requests[2].Header
	for k, want := range map[string]string{
		"X-Image-Meta-Name": "caf%C3%A9 50%25", "X-Image-Meta-Is-Public": "False",
		"X-Image-Meta-Property-Os-Distro": "%C3%BC", "X-Image-Meta-Property-Note": "a b",
		"Content-Type": "application/octet-stream",
	} {
		if got := create.Get(k); got != want {
			t.Errorf("create: %s = %q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]string{
		"X-Glance-Registry-Purge-Props": "false", "X-Image-Meta-Disk-Format": "raw",
		"X-Image-Meta-Size": "11", "Expect": "100-continue",
	} {
		if got := update.Get(k); got != want {
			t.Errorf("update: %s = %q, want %q", k, got, want)
		}
	}
	if !bytes.Equal(f.bodies[2], data) {
		t.Errorf("update body %q", f.bodies[2])
	}
}

func TestUploadOnlyWhileQueued(t *testing.T) {
	f, c := newFault(t, []byte("x"))
	_, err := c.UpdateImage(context.Background(), imageID, nil, strings.NewReader("new data"))
	if !errors.Is(err, v1.ErrNotQueued) || !strings.Contains(err.Error(), "is active") {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(f.seen(), " "); got != "HEAD" {
		t.Errorf("requests %s: data went to an active image", got)
	}
}

func TestServerErrors(t *testing.T) {
	for _, tc := range []struct {
		status      int
		contentType string
		body        string
		is          error
		message     string
	}{
		{404, "text/plain; charset=UTF-8", "404 Not Found\n\nImage with identifier x not found\n\n   ", glance.ErrNotFound, "Image with identifier x not found"},
		{409, "text/html", "<html><head><title>409 Conflict</title></head><body><h1>409 Conflict</h1>Cannot upload to an unqueued image<br /><br />\n</body></html>", glance.ErrConflict, "Cannot upload to an unqueued image"},
		{403, "application/json", `{"message": "Forbidden to modify 'size' of active image.<br /><br />\n\n\n", "code": "403 Forbidden", "title": "Forbidden"}`, glance.ErrForbidden, "Forbidden to modify 'size' of active image."},
		{300, "application/json", `{"versions": [{"id": "v2.15", "status": "CURRENT"}, {"id": "v2.0", "status": "SUPPORTED"}]}`, nil, "v2.15, v2.0"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tc.contentType)
			w.Header().Set("X-Openstack-Request-Id", "req-1")
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		}))
		c, _ := v1.New(srv.URL, nil)
		_, err := c.UpdateImage(context.Background(), imageID, &v1.ImageMeta{Name: "x"}, nil)
		srv.Close()
		var ge *glance.Error
		if !errors.As(err, &ge) || ge.StatusCode != tc.status || ge.RequestID != "req-1" || !strings.Contains(ge.Message, tc.message) {
			t.Errorf("%d: err = %#v", tc.status, err)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%d: %v does not match %v", tc.status, err, tc.is)
		}
	}
}

func ptr[T any](v T) *T { return &v }

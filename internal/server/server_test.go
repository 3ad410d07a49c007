package server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/testenv"
	"github.com/go-glance/glance/internal/webfetch"
)

var testLogOut io.Writer = io.Discard

// testServer is a glanced on a real loopback listener.
type testServer struct {
	*Server
	URL    string
	cancel context.CancelFunc
	done   chan error
}

// loopbackSources lets imports fetch from 127.0.0.1 on any port.
func loopbackSources() *webfetch.Filter {
	return &webfetch.Filter{AllowedSchemes: []string{"http", "https"}, AllowedHosts: []string{"127.0.0.1"}}
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
		if cfg.Database == "" && os.Getenv("GLANCE_TEST_SERVER_DATABASE") == "postgres" {
			// The whole suite again on PostgreSQL; tests that restart a
			// server on a data directory of their own keep its SQLite file.
			cfg.Database = testenv.Postgres(t)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testLogOut, nil))
	}
	if cfg.WebDownload.Filter == nil {
		// Imports in these tests fetch from servers on loopback, as the
		// peer's Glance is configured to allow.
		cfg.WebDownload.Filter = loopbackSources()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, URL: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-ts.done
		s.Close()
	})
	return ts
}

type resp struct {
	code int
	h    http.Header
	body []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("bad JSON %q: %v", r.body, err)
	}
	return m
}

func do(t testing.TB, method, url string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/octet-stream"
	case io.Reader:
		rd, ct = b, "application/octet-stream"
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (ts *testServer) create(t testing.TB, body map[string]any) string {
	t.Helper()
	r := do(t, "POST", ts.URL+"/v2/images", body)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	return r.json(t)["id"].(string)
}

func (ts *testServer) image(t testing.TB, id string) map[string]any {
	t.Helper()
	r := do(t, "GET", ts.URL+"/v2/images/"+id, nil)
	if r.code != 200 {
		t.Fatalf("show: %d %s", r.code, r.body)
	}
	return r.json(t)
}

func wantCode(t testing.TB, what string, r resp, code int) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: status %d, want %d (%s)", what, r.code, code, r.body)
	}
}

func TestImageLifecycle(t *testing.T) {
	ts := startServer(t, Config{})
	r := do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "cirros", "disk_format": "raw", "container_format": "bare", "os_distro": "cirros"})
	wantCode(t, "create", r, 201)
	im := r.json(t)
	id := im["id"].(string)
	if im["status"] != "queued" || im["visibility"] != "shared" || im["owner"] != NoAuthProject || im["os_distro"] != "cirros" {
		t.Fatalf("created image %v", im)
	}
	if r.h.Get("Location") != ts.URL+"/v2/images/"+id || r.h.Get("X-Openstack-Request-Id") == "" {
		t.Fatalf("headers %v", r.h)
	}
	wantCode(t, "download without data", do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil), 204)
	data := bytes.Repeat([]byte("glanced "), 50000)
	wantCode(t, "upload", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", data), 204)
	im = ts.image(t, id)
	sum := md5.Sum(data)
	if im["status"] != "active" || im["checksum"] != hex.EncodeToString(sum[:]) || im["size"] != float64(len(data)) ||
		im["virtual_size"] != float64(len(data)) || im["os_hash_algo"] != "sha512" || im["stores"] != defaultStoreID {
		t.Fatalf("after upload %v", im)
	}
	r = do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil)
	if r.code != 200 || !bytes.Equal(r.body, data) || r.h.Get("Content-MD5") != hex.EncodeToString(sum[:]) {
		t.Fatalf("download: %d, %d bytes, md5 %q", r.code, len(r.body), r.h.Get("Content-MD5"))
	}
	r = do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil, "Range", "bytes=8-15")
	if r.code != 206 || string(r.body) != "glanced " || r.h.Get("Content-Range") != fmt.Sprintf("bytes 8-15/%d", len(data)) {
		t.Fatalf("range: %d %q %q", r.code, r.body, r.h.Get("Content-Range"))
	}
	r = do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil, "Range", "bytes=-4")
	if r.code != 206 || string(r.body) != "ced " {
		t.Fatalf("suffix range: %d %q", r.code, r.body)
	}
	wantCode(t, "range past end", do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil, "Range", fmt.Sprintf("bytes=%d-", len(data))), 416)
	wantCode(t, "two ranges", do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil, "Range", "bytes=1-2,4-5"), 400)

	wantCode(t, "tag", do(t, "PUT", ts.URL+"/v2/images/"+id+"/tags/blue", nil), 204)
	if tags := ts.image(t, id)["tags"].([]any); len(tags) != 1 || tags[0] != "blue" {
		t.Fatalf("tags %v", tags)
	}
	wantCode(t, "untag", do(t, "DELETE", ts.URL+"/v2/images/"+id+"/tags/blue", nil), 204)
	wantCode(t, "untag missing", do(t, "DELETE", ts.URL+"/v2/images/"+id+"/tags/blue", nil), 404)

	wantCode(t, "delete", do(t, "DELETE", ts.URL+"/v2/images/"+id, nil), 204)
	wantCode(t, "show deleted", do(t, "GET", ts.URL+"/v2/images/"+id, nil), 404)
	wantCode(t, "delete deleted", do(t, "DELETE", ts.URL+"/v2/images/"+id, nil), 404)
	wantCode(t, "reuse deleted id", do(t, "POST", ts.URL+"/v2/images", map[string]any{"id": id}), 409)
	if ents, _ := os.ReadDir(filepath.Join(ts.cfg.DataDir, "images")); len(ents) != 0 {
		t.Fatalf("data left after delete: %v", ents)
	}
}

// TestStatusMachine checks Glance's answer to each forbidden move.
func TestStatusMachine(t *testing.T) {
	ts := startServer(t, Config{})
	u := ts.URL + "/v2/images/"
	bare := ts.create(t, map[string]any{"name": "no formats"})
	wantCode(t, "upload without formats", do(t, "PUT", u+bare+"/file", []byte("x")), 400)
	if st := ts.image(t, bare)["status"]; st != "queued" {
		t.Fatalf("failed upload left status %v", st)
	}
	wantCode(t, "import without formats", do(t, "POST", u+bare+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}}), 409)

	id := ts.create(t, map[string]any{"name": "m", "disk_format": "qcow2", "container_format": "bare"})
	wantCode(t, "upload wrong content type", do(t, "PUT", u+id+"/file", strings.NewReader("x"), "Content-Type", "text/plain"), 415)
	wantCode(t, "deactivate queued", do(t, "POST", u+id+"/actions/deactivate", nil), 403)
	wantCode(t, "reactivate queued", do(t, "POST", u+id+"/actions/reactivate", nil), 403)
	wantCode(t, "glance-direct before stage", do(t, "POST", u+id+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}}), 409)
	wantCode(t, "upload", do(t, "PUT", u+id+"/file", qcow2Header(1<<20, 3)), 204)
	wantCode(t, "upload twice", do(t, "PUT", u+id+"/file", []byte("x")), 409)
	wantCode(t, "stage active", do(t, "PUT", u+id+"/stage", []byte("x")), 409)
	wantCode(t, "import active", do(t, "POST", u+id+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": "http://127.0.0.1/x"}}), 409)
	wantCode(t, "disk_format of active", do(t, "PATCH", u+id, []map[string]any{{"op": "replace", "path": "/disk_format", "value": "raw"}},
		"Content-Type", patchV21), 403)
	wantCode(t, "deactivate", do(t, "POST", u+id+"/actions/deactivate", nil), 204)
	wantCode(t, "deactivate again", do(t, "POST", u+id+"/actions/deactivate", nil), 204)
	if st := ts.image(t, id)["status"]; st != "deactivated" {
		t.Fatalf("status %v", st)
	}
	wantCode(t, "upload deactivated", do(t, "PUT", u+id+"/file", []byte("x")), 409)
	wantCode(t, "reactivate", do(t, "POST", u+id+"/actions/reactivate", nil), 204)
	wantCode(t, "protect", do(t, "PATCH", u+id, []map[string]any{{"op": "replace", "path": "/protected", "value": true}}, "Content-Type", patchV21), 200)
	wantCode(t, "delete protected", do(t, "DELETE", u+id, nil), 403)
	wantCode(t, "deactivate with body", do(t, "POST", u+id+"/actions/deactivate", map[string]any{"a": 1}), 400)
}

func TestPatchRules(t *testing.T) {
	ts := startServer(t, Config{})
	id := ts.create(t, map[string]any{"name": "p", "extra": "1"})
	u := ts.URL + "/v2/images/" + id
	patch := func(mt string, ops ...map[string]any) resp {
		return do(t, "PATCH", u, ops, "Content-Type", mt)
	}
	cases := []struct {
		name string
		mt   string
		op   map[string]any
		code int
	}{
		{"v2.1 replace name", patchV21, map[string]any{"op": "replace", "path": "/name", "value": "q"}, 200},
		{"v2.0 replace name", patchV20, map[string]any{"replace": "/name", "value": "r"}, 200},
		{"keeps dashes in keys", patchV21, map[string]any{"op": "add", "path": "/login-user", "value": "u"}, 200},
		{"escaped slash", patchV21, map[string]any{"op": "add", "path": "/a~1b", "value": "c"}, 200},
		{"v2.1 add existing overwrites", patchV21, map[string]any{"op": "add", "path": "/extra", "value": "2"}, 200},
		{"v2.0 add existing conflicts", patchV20, map[string]any{"add": "/extra", "value": "3"}, 409},
		{"replace missing", patchV21, map[string]any{"op": "replace", "path": "/missing", "value": "x"}, 409},
		{"remove missing", patchV21, map[string]any{"op": "remove", "path": "/missing"}, 409},
		{"remove core", patchV21, map[string]any{"op": "remove", "path": "/name"}, 403},
		{"read-only", patchV21, map[string]any{"op": "replace", "path": "/checksum", "value": "x"}, 403},
		{"reserved", patchV21, map[string]any{"op": "add", "path": "/os_glance_x", "value": "x"}, 403},
		{"two levels", patchV21, map[string]any{"op": "add", "path": "/a/b", "value": "x"}, 400},
		{"no slash", patchV21, map[string]any{"op": "add", "path": "a", "value": "x"}, 400},
		{"bad op", patchV21, map[string]any{"op": "move", "path": "/a", "value": "x"}, 400},
		{"missing value", patchV21, map[string]any{"op": "add", "path": "/a"}, 400},
		{"non-string property", patchV21, map[string]any{"op": "add", "path": "/a", "value": 1}, 400},
		{"bad visibility", patchV21, map[string]any{"op": "replace", "path": "/visibility", "value": "everyone"}, 400},
		{"negative min_ram", patchV21, map[string]any{"op": "replace", "path": "/min_ram", "value": -1}, 400},
		{"tags set", patchV21, map[string]any{"op": "replace", "path": "/tags", "value": []string{"x", "y", "x"}}, 200},
		{"wrong media type", "application/json", map[string]any{"op": "replace", "path": "/name", "value": "z"}, 415},
	}
	for _, tc := range cases {
		wantCode(t, tc.name, patch(tc.mt, tc.op), tc.code)
	}
	im := ts.image(t, id)
	if im["name"] != "r" || im["login-user"] != "u" || im["a/b"] != "c" || im["extra"] != "2" || len(im["tags"].([]any)) != 2 {
		t.Fatalf("image after patches: %v", im)
	}
	// A request is atomic: a failing op leaves the earlier ones unapplied.
	wantCode(t, "atomic", patch(patchV21, map[string]any{"op": "replace", "path": "/name", "value": "never"},
		map[string]any{"op": "remove", "path": "/missing"}), 409)
	if ts.image(t, id)["name"] != "r" {
		t.Fatal("partial patch was applied")
	}
	r := patch("text/plain", map[string]any{})
	if r.h.Get("Accept-Patch") == "" {
		t.Fatal("415 without Accept-Patch")
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	ts := startServer(t, Config{})
	for i := 0; i < 7; i++ {
		body := map[string]any{"name": fmt.Sprintf("img-%d", i), "disk_format": "raw", "container_format": "bare", "min_ram": i}
		if i == 6 {
			body["os_hidden"] = true
		}
		ts.create(t, body)
	}
	var names []string
	next := "/v2/images?limit=2&sort=name:asc"
	for next != "" {
		r := do(t, "GET", ts.URL+next, nil)
		wantCode(t, "page", r, 200)
		m := r.json(t)
		for _, im := range m["images"].([]any) {
			names = append(names, im.(map[string]any)["name"].(string))
		}
		next, _ = m["next"].(string)
		if m["first"] != "/v2/images?limit=2&sort=name%3Aasc" || m["schema"] != "/v2/schemas/images" {
			t.Fatalf("links %v %v", m["first"], m["schema"])
		}
	}
	if strings.Join(names, ",") != "img-0,img-1,img-2,img-3,img-4,img-5" {
		t.Fatalf("paged names %v", names)
	}
	count := func(q string) int {
		r := do(t, "GET", ts.URL+"/v2/images?"+q, nil)
		if r.code != 200 {
			t.Fatalf("%s: %d %s", q, r.code, r.body)
		}
		return len(r.json(t)["images"].([]any))
	}
	for q, n := range map[string]int{"": 6, "os_hidden=true": 1, "min_ram_min=2&min_ram_max=4": 3, "name=in:img-1,img-2": 2,
		"name=img-3": 1, "limit=0": 0, "visibility=public": 0, "sort_key=name&sort_key=status&sort_dir=asc": 6} {
		if got := count(q); got != n {
			t.Errorf("%q: %d images, want %d", q, got, n)
		}
	}
	for _, q := range []string{"limit=x", "limit=-1", "sort_key=foo", "sort_dir=up", "sort=name&sort_key=name", "visibility=x",
		"os_hidden=maybe", "created_at=gt:yesterday", "name=like:x", "size_min=big", "marker=nope"} {
		wantCode(t, q, do(t, "GET", ts.URL+"/v2/images?"+q, nil), 400)
	}
}

func TestVersionsAndErrors(t *testing.T) {
	ts := startServer(t, Config{})
	r := do(t, "GET", ts.URL+"/", nil)
	if r.code != 300 || !strings.Contains(string(r.body), `"CURRENT"`) || !strings.Contains(string(r.body), ts.URL+"/v2/") {
		t.Fatalf("versions: %d %s", r.code, r.body)
	}
	wantCode(t, "/versions", do(t, "GET", ts.URL+"/versions", nil), 200)
	wantCode(t, "/v1/images", do(t, "GET", ts.URL+"/v1/images", nil), 300)
	wantCode(t, "minor version prefix", do(t, "GET", ts.URL+"/v2.5/images", nil), 200)
	wantCode(t, "health", do(t, "GET", ts.URL+"/healthcheck", nil), 200)
	r = do(t, "POST", ts.URL+"/v2/images/x", nil)
	if r.code != 405 || r.h.Get("Allow") != "GET, PATCH, DELETE" {
		t.Fatalf("405: %d Allow=%q", r.code, r.h.Get("Allow"))
	}
	for accept, ct := range map[string]string{"application/json": "application/json", "*/*": "text/html; charset=UTF-8", "": "text/plain; charset=UTF-8"} {
		req, _ := http.NewRequest("GET", ts.URL+"/v2/images/nope", nil)
		req.Header.Set("Accept", accept)
		if accept == "" {
			req.Header.Del("Accept")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 404 || res.Header.Get("Content-Type") != ct || !strings.Contains(string(b), "No image found with ID nope") {
			t.Errorf("Accept %q: %d %q %q", accept, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
	}
	for _, name := range []string{"image", "images", "member", "members", "task", "tasks"} {
		r := do(t, "GET", ts.URL+"/v2/schemas/"+name, nil)
		if r.code != 200 || r.json(t)["name"] != name {
			t.Errorf("schema %s: %d", name, r.code)
		}
	}
}

// slowBody sends part of an upload, then waits for release before the rest.
type slowBody struct {
	first, rest []byte
	sent        chan struct{}
	release     chan struct{}
	fail        bool
	stage       int
}

func (b *slowBody) Read(p []byte) (int, error) {
	switch b.stage {
	case 0:
		b.stage = 1
		return copy(p, b.first), nil
	case 1:
		close(b.sent)
		<-b.release
		b.stage = 2
		if b.fail {
			return 0, errors.New("client gave up")
		}
		return copy(p, b.rest), nil
	}
	return 0, io.EOF
}

func TestGracefulShutdownFinishesUpload(t *testing.T) {
	ts := startServer(t, Config{})
	id := ts.create(t, map[string]any{"name": "g", "disk_format": "raw", "container_format": "bare"})
	body := &slowBody{first: []byte("first half,"), rest: []byte("second half"), sent: make(chan struct{}), release: make(chan struct{})}
	got := make(chan resp, 1)
	go func() { got <- do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", body) }()
	select {
	case <-body.sent:
	case r := <-got:
		t.Fatalf("upload answered before its end: %d %s", r.code, r.body)
	}
	waitStatus(t, ts, id, "saving")
	ts.cancel() // SIGTERM arrives mid-upload
	time.Sleep(100 * time.Millisecond)
	// New connections are refused while the upload drains.
	if _, err := http.Get(ts.URL + "/healthcheck"); err == nil {
		t.Error("server still accepting new connections during shutdown")
	}
	close(body.release)
	if r := <-got; r.code != 204 {
		t.Fatalf("upload during shutdown: %d %s", r.code, r.body)
	}
	if err := <-ts.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	ts.done <- nil // for cleanup
	im, err := ts.meta.GetImage(context.Background(), id)
	if err != nil || im.Status != store.StatusActive || *im.Size != int64(len("first half,second half")) {
		t.Fatalf("image after shutdown: %+v %v", im, err)
	}
}

func TestInterruptedUploadRevertsToQueued(t *testing.T) {
	ts := startServer(t, Config{})
	id := ts.create(t, map[string]any{"name": "i", "disk_format": "raw", "container_format": "bare"})
	body := &slowBody{first: bytes.Repeat([]byte("x"), 100000), sent: make(chan struct{}), release: make(chan struct{}), fail: true}
	req, _ := http.NewRequest("PUT", ts.URL+"/v2/images/"+id+"/file", body)
	req.Header.Set("Content-Type", "application/octet-stream")
	errc := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	<-body.sent
	waitStatus(t, ts, id, "saving")
	close(body.release)
	if err := <-errc; err == nil {
		t.Fatal("failed body gave no client error")
	}
	waitStatus(t, ts, id, "queued")
	if ents, _ := os.ReadDir(filepath.Join(ts.cfg.DataDir, "images")); len(ents) != 0 {
		t.Fatalf("files left: %v", ents)
	}
	// The image can be uploaded again.
	wantCode(t, "retry upload", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", []byte("ok")), 204)
}

func waitStatus(t *testing.T, ts *testServer, id, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := ts.image(t, id)["status"]
		if st == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("image %s: status %v, waited for %s", id, st, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitTask(t *testing.T, ts *testServer, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		im := ts.image(t, id)
		if im["status"] != "importing" {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatal("import did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestImports(t *testing.T) {
	ts := startServer(t, Config{})
	u := ts.URL + "/v2/images/"
	gd := ts.create(t, map[string]any{"name": "gd", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "stage", do(t, "PUT", u+gd+"/stage", []byte("staged bytes")), 204)
	if im := ts.image(t, gd); im["status"] != "uploading" || im["size"] != float64(12) {
		t.Fatalf("staged image %v", im)
	}
	r := do(t, "POST", u+gd+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}})
	wantCode(t, "import", r, 202)
	im := waitTask(t, ts, gd)
	if im["status"] != "active" || im["size"] != float64(12) {
		t.Fatalf("imported image %v", im)
	}
	// The task is marked done just after the image becomes active.
	var tr []any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		tr = do(t, "GET", u+gd+"/tasks", nil).json(t)["tasks"].([]any)
		if len(tr) != 1 || tr[0].(map[string]any)["status"] != "processing" || time.Now().After(deadline) {
			break
		}
	}
	if len(tr) != 1 || tr[0].(map[string]any)["status"] != "success" || tr[0].(map[string]any)["request_id"] != r.h.Get("X-Openstack-Request-Id") {
		t.Fatalf("tasks %v", tr)
	}
	if ents, _ := os.ReadDir(filepath.Join(ts.cfg.DataDir, "staging")); len(ents) != 0 {
		t.Fatalf("staging left: %v", ents)
	}

	// web-download fetching the first image's data from this same server.
	wd := ts.create(t, map[string]any{"name": "wd", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "bad uri", do(t, "POST", u+wd+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": "file:///etc/passwd"}}), 400)
	wantCode(t, "web-download", do(t, "POST", u+wd+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": u + gd + "/file"}}), 202)
	im = waitTask(t, ts, wd)
	if im["status"] != "active" || im["checksum"] != ts.image(t, gd)["checksum"] {
		t.Fatalf("web-download image %v", im)
	}
	bad := ts.create(t, map[string]any{"name": "bad", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "web-download 404", do(t, "POST", u+bad+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": u + "nope/file"}}), 202)
	im = waitTask(t, ts, bad)
	if im["status"] != "queued" || im["os_glance_failed_import"] != defaultStoreID {
		t.Fatalf("failed import left %v", im)
	}
	wantCode(t, "unknown method", do(t, "POST", u+bad+"/import", map[string]any{"method": map[string]any{"name": "copy-image"}}), 400)
	if do(t, "GET", ts.URL+"/v2/info/import", nil).json(t)["import-methods"] == nil {
		t.Fatal("no import methods")
	}
}

// TestRecovery: state a crash can leave is repaired when the server opens.
func TestRecovery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.Cluster.OrphanGrace = time.Nanosecond // the orphan was just written
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	mk := func(id, status string, size int64) {
		im := &store.Image{ID: id, Status: status, Visibility: "shared", CreatedAt: now, UpdatedAt: now, Tags: []string{},
			Properties: map[string]string{}}
		if size >= 0 {
			im.Size = &size
		}
		if err := s.meta.CreateImage(ctx, im); err != nil {
			t.Fatal(err)
		}
	}
	mk("saving", store.StatusSaving, -1)
	mk("good", store.StatusActive, 4)
	local := s.stores.byID[defaultStoreID]
	put := func(bs blob.Store, key, data string) {
		if _, err := bs.Put(ctx, key, strings.NewReader(data), -1); err != nil {
			t.Fatal(err)
		}
	}
	put(local, "good", "good")
	mk("missing", store.StatusActive, 4)
	mk("short", store.StatusActive, 10)
	put(local, "short", "short")
	put(local, "saving", "renamed but not committed")
	put(local, "orphan", "no image")
	mk("staged", store.StatusImporting, 3)
	put(s.staging, "staged", "abc")
	os.WriteFile(filepath.Join(dir, "images", ".tmp-x-1"), []byte("partial"), 0o600)
	s.Close()

	s, err = New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]string{"saving": "queued", "good": "active", "missing": "killed", "short": "killed", "staged": "uploading"}
	for id, st := range want {
		im, err := s.meta.GetImage(ctx, id)
		if err != nil || im.Status != st {
			t.Errorf("%s: %+v %v, want status %s", id, im, err, st)
		}
	}
	keys, _ := s.stores.byID[defaultStoreID].List(ctx)
	if strings.Join(keys, ",") != "good" {
		t.Errorf("blobs after recovery: %v", keys)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "images")); len(ents) != 1 {
		t.Errorf("files after recovery: %v", ents)
	}
}

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "glanced.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:1\ndata-dir: /from/file\nauth: keystone\nkeystone:\n  auth-url: http://k/v3\n  username: glance\n  cache-ttl: 5s\n"), 0o600)
	env := map[string]string{"GLANCED_DATA_DIR": "/from/env", "GLANCED_LISTEN": "127.0.0.1:2"}
	cfg, err := LoadConfig([]string{"--config", file, "--listen", "127.0.0.1:3"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:3" || cfg.DataDir != "/from/env" || cfg.Auth != "keystone" || cfg.Keystone.AuthURL != "http://k/v3" ||
		cfg.Keystone.Username != "glance" || cfg.Keystone.CacheTTL != 5*time.Second {
		t.Fatalf("cfg = %+v", cfg)
	}
	if _, err := LoadConfig([]string{"--auth", "magic"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("bad auth mode accepted")
	}
	os.WriteFile(file, []byte("listne: typo\n"), 0o600)
	if _, err := LoadConfig([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("unknown config key accepted")
	}
}

func TestStoresUsageCache(t *testing.T) {
	ts := startServer(t, Config{})
	id := ts.create(t, map[string]any{"name": "s", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", []byte("abc")), 204)
	r := do(t, "GET", ts.URL+"/v2/info/stores", nil)
	if r.code != 200 || !strings.Contains(string(r.body), `"id": "local"`) {
		t.Fatalf("stores: %d %s", r.code, r.body)
	}
	if r := do(t, "GET", ts.URL+"/v2/info/usage", nil); r.code != 200 || string(r.body) != `{"usage": {}}` {
		t.Fatalf("usage: %d %s", r.code, r.body)
	}
	wantCode(t, "delete from the only store", do(t, "DELETE", ts.URL+"/v2/stores/local/"+id, nil), 403)
	wantCode(t, "delete from an unknown store", do(t, "DELETE", ts.URL+"/v2/stores/other/"+id, nil), 409)
	wantCode(t, "cache", do(t, "GET", ts.URL+"/v2/cache", nil), 404)
	if ts.image(t, id)["status"] != "active" {
		t.Fatal("image changed")
	}
}

func waitTaskDone(t *testing.T, ts *testServer, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := do(t, "GET", ts.URL+"/v2/tasks/"+id, nil)
		if r.code != 200 {
			t.Fatalf("task: %d %s", r.code, r.body)
		}
		task := r.json(t)
		if st := task["status"]; st == "success" || st == "failure" {
			return task
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s stuck at %v", id, task["status"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLegacyImportTask(t *testing.T) {
	ts := startServer(t, Config{})
	src := ts.create(t, map[string]any{"name": "src", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", ts.URL+"/v2/images/"+src+"/file", []byte("task data")), 204)
	newTask := func(from string) string {
		r := do(t, "POST", ts.URL+"/v2/tasks", map[string]any{"type": "import", "input": map[string]any{
			"import_from": from, "import_from_format": "raw",
			"image_properties": map[string]any{"name": "from-task", "disk_format": "raw", "container_format": "bare"}}})
		if r.code != 201 || !strings.HasPrefix(r.h.Get("Location"), ts.URL+"/v2/tasks/") || r.json(t)["status"] != "pending" {
			t.Fatalf("create task: %d %v %s", r.code, r.h, r.body)
		}
		return r.json(t)["id"].(string)
	}
	task := waitTaskDone(t, ts, newTask(ts.URL+"/v2/images/"+src+"/file"))
	if task["status"] != "success" {
		t.Fatalf("task %v", task)
	}
	id := task["result"].(map[string]any)["image_id"].(string)
	if im := ts.image(t, id); im["status"] != "active" || im["name"] != "from-task" || im["checksum"] != ts.image(t, src)["checksum"] {
		t.Fatalf("imported image %v", im)
	}
	task = waitTaskDone(t, ts, newTask(ts.URL+"/v2/images/nope/file"))
	if task["status"] != "failure" || task["message"] == "" {
		t.Fatalf("failed task %v", task)
	}
	if n := len(do(t, "GET", ts.URL+"/v2/images", nil).json(t)["images"].([]any)); n != 2 {
		t.Fatalf("%d images after one good and one failed task, want 2", n)
	}
	wantCode(t, "no input", do(t, "POST", ts.URL+"/v2/tasks", map[string]any{"type": "import"}), 400)
	wantCode(t, "bad type", do(t, "POST", ts.URL+"/v2/tasks", map[string]any{"type": "bogus", "input": map[string]any{}}), 400)
	wantCode(t, "delete task", do(t, "DELETE", ts.URL+"/v2/tasks/"+task["id"].(string), nil), 405)
}

package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/registry"
)

// remoteFile is a file store that does not look like one (not a
// *blob.File), standing in for an object store: the cache covers it. Its
// Put fails while failPuts is set for its folder, to inject store faults.
type remoteFile struct{ *blob.File }

var failPuts sync.Map // folder -> true

func (r remoteFile) Put(ctx context.Context, key string, rd io.Reader, size int64) (int64, error) {
	if _, ok := failPuts.Load(r.Dir()); ok {
		return 0, errors.New("injected store failure")
	}
	return r.File.Put(ctx, key, rd, size)
}

func init() {
	blob.Register("remotefile", func(_ context.Context, u *url.URL) (blob.Store, error) {
		dir, err := registry.Path(u)
		if err != nil {
			return nil, err
		}
		f, err := blob.OpenFile(dir)
		return remoteFile{f}, err
	})
}

// twoStores is a glanced with stores fast (file, default) and far (a
// "remote" one), and optionally the cache.
func twoStores(t *testing.T, cache bool, methods ...string) (*testServer, string, string) {
	dir := t.TempDir()
	fast, far := filepath.Join(dir, "fast"), filepath.Join(dir, "far")
	cfg := Config{DataDir: dir, ImportMethods: methods, Stores: []StoreConfig{
		{ID: "fast", URL: fast, Default: true},
		{ID: "far", URL: "remotefile://" + far, Weight: 10},
	}}
	if cache {
		cfg.Cache = CacheConfig{Dir: filepath.Join(dir, "cache"), MaxSize: 1 << 20}
	}
	return startServer(t, cfg), fast, far
}

func (ts *testServer) staged(t *testing.T, data string) string {
	t.Helper()
	id := ts.create(t, map[string]any{"name": "ms", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "stage", do(t, "PUT", ts.URL+"/v2/images/"+id+"/stage", []byte(data)), 204)
	return id
}

func TestImportToStores(t *testing.T) {
	ts, fast, far := twoStores(t, false, "glance-direct", "copy-image")
	u := ts.URL + "/v2/images/"
	id := ts.staged(t, "to every store")
	wantCode(t, "all_stores with stores", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "glance-direct"}, "all_stores": true, "stores": []string{"fast"}}), 400)
	wantCode(t, "unknown store", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "glance-direct"}, "stores": []string{"nope"}}), 409)
	wantCode(t, "header and stores", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "glance-direct"}, "stores": []string{"far"}}, "X-Image-Meta-Store", "far"), 400)
	wantCode(t, "import", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "glance-direct"}, "all_stores": true}), 202)
	im := waitTask(t, ts, id)
	if im["status"] != "active" || im["stores"] != "fast,far" || im["os_glance_importing_to_stores"] != "" || im["os_glance_failed_import"] != "" {
		t.Fatalf("after import to all stores: %v", im)
	}
	for _, d := range []string{fast, far} {
		if b, err := os.ReadFile(filepath.Join(d, id)); err != nil || string(b) != "to every store" {
			t.Fatalf("data in %s: %q %v", d, b, err)
		}
	}
	// far weighs more: downloads read it first, unless fast is preferred.
	os.WriteFile(filepath.Join(fast, id), []byte("fast's copy !!"), 0o600)
	if r := do(t, "GET", u+id+"/file", nil); string(r.body) != "to every store" {
		t.Fatalf("download by weight: %q", r.body)
	}
	if r := do(t, "GET", u+id+"/file?prefer=fast", nil); string(r.body) != "fast's copy !!" {
		t.Fatalf("download preferring fast: %q", r.body)
	}
	wantCode(t, "prefer an unknown store", do(t, "GET", u+id+"/file?prefer=nope", nil), 400)
	os.WriteFile(filepath.Join(fast, id), []byte("to every store"), 0o600)

	wantCode(t, "delete from far", do(t, "DELETE", ts.URL+"/v2/stores/far/"+id, nil), 204)
	if _, err := os.Stat(filepath.Join(far, id)); !os.IsNotExist(err) || ts.image(t, id)["stores"] != "fast" {
		t.Fatalf("after delete from far: %v %v", err, ts.image(t, id)["stores"])
	}
	wantCode(t, "delete from far again", do(t, "DELETE", ts.URL+"/v2/stores/far/"+id, nil), 403)
	wantCode(t, "unknown store", do(t, "DELETE", ts.URL+"/v2/stores/nope/"+id, nil), 409)

	// copy-image brings it back; naming a store that has it is a 400.
	wantCode(t, "copy to fast", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "copy-image"}, "stores": []string{"fast"}}), 400)
	wantCode(t, "copy to far", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "copy-image"}, "stores": []string{"far"}}), 202)
	waitFor(t, "copy-image", func() bool { return ts.image(t, id)["stores"] == "fast,far" })
	waitUnlocked(t, ts, id)
	if b, err := os.ReadFile(filepath.Join(far, id)); err != nil || string(b) != "to every store" {
		t.Fatalf("copied data: %q %v", b, err)
	}
	// Nothing left to copy to: accepted, no task.
	wantCode(t, "copy to all", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "copy-image"}, "all_stores": true}), 202)

	// x-image-meta-store picks the store of an upload.
	up := ts.create(t, map[string]any{"name": "up", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload to nope", do(t, "PUT", u+up+"/file", []byte("x"), "X-Image-Meta-Store", "nope"), 400)
	wantCode(t, "upload to far", do(t, "PUT", u+up+"/file", []byte("x"), "X-Image-Meta-Store", "far"), 204)
	if got := ts.image(t, up)["stores"]; got != "far" {
		t.Fatalf("upload with x-image-meta-store: stores %v", got)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUnlocked waits for an import task to release its image.
func waitUnlocked(t *testing.T, ts *testServer, id string) {
	t.Helper()
	waitFor(t, "import lock released", func() bool { _, busy := ts.image(t, id)["os_glance_import_task"]; return !busy })
}

func TestImportStoreFailures(t *testing.T) {
	ts, _, far := twoStores(t, false, "glance-direct", "copy-image")
	u := ts.URL + "/v2/images/"
	failPuts.Store(far, true)
	defer failPuts.Delete(far)
	// All must succeed (the default): the image goes back to uploading,
	// far is reported failed, fast keeps nothing.
	id := ts.staged(t, "half")
	wantCode(t, "import", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "glance-direct"}, "stores": []string{"fast", "far"}}), 202)
	im := waitTask(t, ts, id)
	if im["status"] != "uploading" || im["os_glance_failed_import"] != "far" || im["os_glance_importing_to_stores"] != "" {
		t.Fatalf("after a failed import: %v", im)
	}
	if _, err := os.Stat(filepath.Join(ts.cfg.Stores[0].URL, id)); !os.IsNotExist(err) {
		t.Fatalf("a failed import left data in fast: %v", err)
	}
	// Not all must succeed: active in fast, far reported failed.
	wantCode(t, "import again", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "glance-direct"}, "stores": []string{"far", "fast"}, "all_stores_must_succeed": false}), 202)
	waitTask(t, ts, id)
	waitUnlocked(t, ts, id)
	if im = ts.image(t, id); im["status"] != "active" || im["stores"] != "fast" || im["os_glance_failed_import"] != "far" {
		t.Fatalf("after a partly failed import: %v", im)
	}
	// A failed copy-image leaves the image active as it was.
	wantCode(t, "copy", do(t, "POST", u+id+"/import", map[string]any{
		"method": map[string]any{"name": "copy-image"}, "stores": []string{"far"}}), 202)
	waitUnlocked(t, ts, id)
	if im := ts.image(t, id); im["status"] != "active" || im["stores"] != "fast" || im["os_glance_failed_import"] != "far" {
		t.Fatalf("after a failed copy: %v", im)
	}
	r := do(t, "GET", ts.URL+"/v2/images/"+id+"/tasks", nil)
	var got []string
	for _, tk := range r.json(t)["tasks"].([]any) {
		got = append(got, tk.(map[string]any)["status"].(string))
	}
	if strings.Join(got, ",") != "failure,success,failure" {
		t.Fatalf("task statuses, newest first: %v", got)
	}
}

func TestCacheAPI(t *testing.T) {
	ts, _, far := twoStores(t, true)
	u := ts.URL + "/v2/images/"
	if r := do(t, "GET", ts.URL+"/versions", nil); !strings.Contains(string(r.body), `{"id": "v2.18", "status": "CURRENT"`) {
		t.Fatalf("versions with a cache: %s", r.body)
	}
	id := ts.create(t, map[string]any{"name": "c", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "queue a queued image", do(t, "PUT", ts.URL+"/v2/cache/"+id, nil), 400)
	wantCode(t, "upload to far", do(t, "PUT", u+id+"/file", []byte("cache me"), "X-Image-Meta-Store", "far"), 204)
	// A whole download from far fills the cache.
	if r := do(t, "GET", u+id+"/file", nil); string(r.body) != "cache me" {
		t.Fatalf("download: %q", r.body)
	}
	waitFor(t, "fill on download", func() bool { return ts.cache.Cached(id) })
	// The next download is the cache's: it works with far's copy gone.
	os.Remove(filepath.Join(far, id))
	if r := do(t, "GET", u+id+"/file", nil, "Range", "bytes=6-"); r.code != 206 || string(r.body) != "me" {
		t.Fatalf("ranged download from the cache: %d %q", r.code, r.body)
	}
	r := do(t, "GET", ts.URL+"/v2/cache", nil)
	c := r.json(t)
	list, _ := c["cached_images"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["image_id"] != id || list[0].(map[string]any)["hits"] != float64(1) {
		t.Fatalf("cache list: %s", r.body)
	}
	wantCode(t, "bad target", do(t, "DELETE", ts.URL+"/v2/cache", nil, "X-Image-Cache-Clear-Target", "bogus"), 400)
	wantCode(t, "clear queue", do(t, "DELETE", ts.URL+"/v2/cache", nil, "X-Image-Cache-Clear-Target", "queue"), 204)
	if !ts.cache.Cached(id) {
		t.Fatal("clearing the queue dropped a cached image")
	}
	wantCode(t, "delete entry", do(t, "DELETE", ts.URL+"/v2/cache/"+id, nil), 204)
	wantCode(t, "delete unknown", do(t, "DELETE", ts.URL+"/v2/cache/00000000-0000-0000-0000-000000000000", nil), 404)

	// Queueing an image has the worker fill it.
	id2 := ts.create(t, map[string]any{"name": "q", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", u+id2+"/file", []byte("queued"), "X-Image-Meta-Store", "far"), 204)
	wantCode(t, "queue", do(t, "PUT", ts.URL+"/v2/cache/"+id2, nil), 202)
	waitFor(t, "prefetch", func() bool { return ts.cache.Cached(id2) && len(ts.cache.Queued()) == 0 })
	if r := do(t, "POST", ts.URL+"/v2/cache/prune", nil); r.code != 200 || string(r.body) != `{"total_files_pruned": 0, "total_bytes_pruned": 0}` {
		t.Fatalf("prune: %d %s", r.code, r.body)
	}
	// Clean drops the copies of images that are gone.
	ts.cache.Fill(context.Background(), "gone", 1, "", strings.NewReader("x"))
	if r := do(t, "POST", ts.URL+"/v2/cache/clean", nil); r.code != 200 || len(r.body) != 0 || ts.cache.Cached("gone") || !ts.cache.Cached(id2) {
		t.Fatalf("clean: %d %q", r.code, r.body)
	}
	wantCode(t, "POST to an image", do(t, "POST", ts.URL+"/v2/cache/"+id2, nil), 405)
	wantCode(t, "delete image", do(t, "DELETE", u+id2, nil), 204)
	if ts.cache.Cached(id2) {
		t.Fatal("a deleted image stayed cached")
	}
}

func TestCacheOffAndLocalStores(t *testing.T) {
	ts := startServer(t, Config{})
	wantCode(t, "cache off", do(t, "GET", ts.URL+"/v2/cache", nil), 404)
	if r := do(t, "GET", ts.URL+"/versions", nil); !strings.Contains(string(r.body), `{"id": "v2.17", "status": "CURRENT"`) ||
		strings.Contains(string(r.body), "v2.16") {
		t.Fatalf("versions without a cache: %s", r.body)
	}
	wantCode(t, "2.16 without a cache", do(t, "GET", ts.URL+"/v2.16/images", nil), 300)
	// With a cache, file stores are not cached unless every store is.
	dir := t.TempDir()
	ts = startServer(t, Config{DataDir: dir, Cache: CacheConfig{Dir: filepath.Join(dir, "cache")}})
	id := ts.create(t, map[string]any{"name": "f", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", []byte("local")), 204)
	do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil)
	time.Sleep(50 * time.Millisecond)
	if ts.cache.Cached(id) {
		t.Fatal("an image of a file store was cached")
	}
}

func TestAddLocation(t *testing.T) {
	ts, fast, _ := twoStores(t, false)
	u := ts.URL + "/v2/images/"
	src := ts.create(t, map[string]any{"name": "src", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", u+src+"/file", []byte("located data")), 204)
	locs := do(t, "GET", u+src+"/locations", nil)
	want := `[{"url": "file://` + fast + "/" + src + `", "metadata": {"store": "fast"}}]`
	if string(locs.body) != want {
		t.Fatalf("locations = %s, want %s", locs.body, want)
	}
	sum := sha256.Sum256([]byte("located data"))
	dst := ts.create(t, map[string]any{"name": "dst", "disk_format": "raw", "container_format": "bare"})
	loc := "file://" + fast + "/" + src
	for _, bad := range []map[string]any{
		{"url": "http://example.com/x"},
		{"url": "file:///etc/passwd"},
		{"url": loc, "validation_data": map[string]any{"os_hash_algo": "sha256", "os_hash_value": "zz"}},
		{"url": loc, "validation_data": map[string]any{"os_hash_algo": "sha256", "os_hash_value": "abcd"}},
		{"url": loc, "validation_data": map[string]any{"os_hash_algo": "crc32", "os_hash_value": "abcd"}},
	} {
		wantCode(t, "bad location", do(t, "POST", u+dst+"/locations", bad), 400)
	}
	wrong := strings.Repeat("00", 32)
	wantCode(t, "wrong hash", do(t, "POST", u+dst+"/locations", map[string]any{"url": loc,
		"validation_data": map[string]any{"os_hash_algo": "sha256", "os_hash_value": wrong}}), 202)
	waitFor(t, "failed location", func() bool { return ts.image(t, dst)["status"] == "queued" })
	wantCode(t, "add", do(t, "POST", u+dst+"/locations", map[string]any{"url": loc,
		"validation_data": map[string]any{"os_hash_algo": "sha256", "os_hash_value": hex.EncodeToString(sum[:])}}), 202)
	waitFor(t, "location", func() bool { return ts.image(t, dst)["status"] == "active" })
	if r := do(t, "GET", u+dst+"/file", nil); string(r.body) != "located data" {
		t.Fatalf("data of the image with a location: %q", r.body)
	}
	wantCode(t, "not queued", do(t, "POST", u+dst+"/locations", map[string]any{"url": loc}), 409)
	// Its data is its own: deleting the source keeps it.
	wantCode(t, "delete source", do(t, "DELETE", u+src, nil), 204)
	if r := do(t, "GET", u+dst+"/file", nil); string(r.body) != "located data" {
		t.Fatalf("after deleting the source: %q", r.body)
	}
}

func patchOps(t *testing.T, ts *testServer, id string, ops ...map[string]any) resp {
	t.Helper()
	return do(t, "PATCH", ts.URL+"/v2/images/"+id, ops, "Content-Type", "application/openstack-images-v2.1-json-patch")
}

func TestPatchLocations(t *testing.T) {
	ts, fast, far := twoStores(t, false, "glance-direct")
	u := ts.URL + "/v2/images/"
	src := ts.create(t, map[string]any{"name": "src", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", u+src+"/file", []byte("patched in")), 204)
	loc := map[string]any{"url": "file://" + fast + "/" + src, "metadata": map[string]any{}}
	wantCode(t, "invisible", patchOps(t, ts, src, map[string]any{"op": "add", "path": "/locations/-", "value": loc}), 403)

	ts.cfg.ShowMultipleLocations = true
	dst := ts.create(t, map[string]any{"name": "dst", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "bad url", patchOps(t, ts, dst, map[string]any{"op": "add", "path": "/locations/-",
		"value": map[string]any{"url": "http://example.com/x"}}), 400)
	r := patchOps(t, ts, dst, map[string]any{"op": "add", "path": "/locations/-", "value": loc})
	wantCode(t, "add to queued", r, 200)
	im := r.json(t)
	if im["status"] != "active" || im["size"] != float64(len("patched in")) {
		t.Fatalf("after adding a location: %v", im)
	}
	locs, _ := im["locations"].([]any)
	if len(locs) != 1 || locs[0].(map[string]any)["url"] != "file://"+fast+"/"+dst {
		t.Fatalf("locations %v", im["locations"])
	}
	// Two stores, then one removed; the last one stays.
	id := ts.staged(t, "two places")
	wantCode(t, "import", do(t, "POST", u+id+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores": true}), 202)
	waitTask(t, ts, id)
	waitUnlocked(t, ts, id)
	wantCode(t, "bad position", patchOps(t, ts, id, map[string]any{"op": "remove", "path": "/locations/5"}), 400)
	r = patchOps(t, ts, id, map[string]any{"op": "remove", "path": "/locations/1"})
	wantCode(t, "remove", r, 200)
	if r.json(t)["stores"] != "fast" {
		t.Fatalf("after removing far: %s", r.body)
	}
	if _, err := os.Stat(filepath.Join(far, id)); !os.IsNotExist(err) {
		t.Fatalf("far's copy stayed: %v", err)
	}
	wantCode(t, "remove the last", patchOps(t, ts, id, map[string]any{"op": "remove", "path": "/locations/0"}), 403)
	// Adding far back: its data must be the image's.
	wantCode(t, "wrong data", patchOps(t, ts, id, map[string]any{"op": "add", "path": "/locations/-",
		"value": map[string]any{"url": "remotefile://" + far + "/" + src}}), 400)
}

func TestLoadConfigMultistore(t *testing.T) {
	file := filepath.Join(t.TempDir(), "glanced.yaml")
	os.WriteFile(file, []byte(`stores:
  - {id: fast, url: /srv/fast}
  - {id: slow, url: /srv/slow, weight: 5}
cache:
  dir: /var/cache/glanced
  max-size: 2GiB
import-methods: glance-direct,copy-image
show-multiple-locations: "true"
`), 0o600)
	env := map[string]string{"GLANCED_CACHE_ALL_STORES": "true"}
	cfg, err := LoadConfig([]string{"--config", file, "--store-weights", "fast=7"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Cache
	if c.Dir != "/var/cache/glanced" || c.MaxSize != 2<<30 || !c.AllStores || !cfg.ShowMultipleLocations ||
		strings.Join(cfg.ImportMethods, ",") != "glance-direct,copy-image" || cfg.Stores[0].Weight != 7 || cfg.Stores[1].Weight != 5 {
		t.Fatalf("config %+v", cfg)
	}
	for _, bad := range [][]string{{"--store-weights", "nope=1"}, {"--store-weights", "fast"}, {"--cache-max-size", "lots"}} {
		if _, err := LoadConfig(append([]string{"--config", file}, bad...), func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := New(context.Background(), Config{DataDir: t.TempDir(), ImportMethods: []string{"ftp-download"}}); err == nil {
		t.Error("an unknown import method was accepted")
	}
}

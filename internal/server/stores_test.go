package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/store"
)

func TestLoadConfigStores(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "glanced.yaml")
	os.WriteFile(file, []byte(`database: sqlite:///srv/meta/glance.db
staging: /srv/staging
stores:
  - id: fast
    url: file:///srv/fast
    description: Fast disks
  - id: slow
    url: /srv/slow
    default: true
`), 0o600)
	noEnv := func(string) string { return "" }
	cfg, err := LoadConfig([]string{"--config", file}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []StoreConfig{{ID: "fast", URL: "file:///srv/fast", Description: "Fast disks"}, {ID: "slow", URL: "/srv/slow", Default: true}}
	if cfg.Database != "sqlite:///srv/meta/glance.db" || cfg.Staging != "/srv/staging" || !slices.Equal(cfg.Stores, want) {
		t.Fatalf("from the file: %+v", cfg)
	}
	// --default-store overrides the file's mark.
	cfg, err = LoadConfig([]string{"--config", file, "--default-store", "fast"}, noEnv, io.Discard)
	if err != nil || !cfg.Stores[0].Default || cfg.Stores[1].Default {
		t.Fatalf("--default-store fast: %+v, %v", cfg.Stores, err)
	}
	// The environment wins over the file, flags over the environment.
	env := map[string]string{"GLANCED_STORES": "a=/srv/a,Disk A; b=file:///srv/b%2Cc", "GLANCED_DEFAULT_STORE": "b",
		"GLANCED_DATABASE": "/env/glance.db"}
	cfg, err = LoadConfig([]string{"--config", file}, func(k string) string { return env[k] }, io.Discard)
	want = []StoreConfig{{ID: "a", URL: "/srv/a", Description: "Disk A"}, {ID: "b", URL: "file:///srv/b%2Cc", Default: true}}
	if err != nil || !slices.Equal(cfg.Stores, want) || cfg.Database != "/env/glance.db" {
		t.Fatalf("from the environment: %+v, %v", cfg, err)
	}
	cfg, err = LoadConfig([]string{"--config", file, "--store", "x=/srv/x,X, with a comma", "--store", "y=/srv/y",
		"--default-store", "y"}, func(k string) string { return env[k] }, io.Discard)
	want = []StoreConfig{{ID: "x", URL: "/srv/x", Description: "X, with a comma"}, {ID: "y", URL: "/srv/y", Default: true}}
	if err != nil || !slices.Equal(cfg.Stores, want) {
		t.Fatalf("from flags: %+v, %v", cfg.Stores, err)
	}
	// Without stores, the default store may be named, and nothing else.
	if cfg, err := LoadConfig([]string{"--default-store", "local"}, noEnv, io.Discard); err != nil || cfg.Stores != nil {
		t.Fatalf("--default-store local alone: %+v, %v", cfg.Stores, err)
	}
	for _, args := range [][]string{
		{"--default-store", "other"},
		{"--store", "x=/srv/x", "--default-store", "y"},
		{"--store", "nourl"},
		{"--store", "=/srv/x"},
		{"--store", "x="},
	} {
		if _, err := LoadConfig(args, noEnv, io.Discard); err == nil {
			t.Errorf("LoadConfig(%q) accepted", args)
		}
	}
}

func TestStoreConfigChecks(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Staging: filepath.Join(dir, "staging"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for name, list := range map[string][]StoreConfig{
		"duplicate ID":      {{ID: "a", URL: dir + "/a"}, {ID: "a", URL: dir + "/b"}},
		"same directory":    {{ID: "a", URL: dir + "/a"}, {ID: "b", URL: "file://" + dir + "/a/"}},
		"the staging store": {{ID: "a", URL: dir + "/staging"}},
		"two defaults":      {{ID: "a", URL: dir + "/a", Default: true}, {ID: "b", URL: dir + "/b", Default: true}},
		"comma in ID":       {{ID: "a,b", URL: dir + "/a"}},
		"reserved ID":       {{ID: "os_glance_staging_store", URL: dir + "/a"}},
		"empty ID":          {{ID: "", URL: dir + "/a"}},
		"unknown scheme":    {{ID: "a", URL: "nosuch://x/y"}},
	} {
		c := cfg
		c.Stores = list
		if s, err := New(context.Background(), c); err == nil {
			s.Close()
			t.Errorf("%s: New accepted %+v", name, list)
		}
	}
	// No default marked: the first store is the default.
	cfg.Stores = []StoreConfig{{ID: "a", URL: dir + "/a"}, {ID: "b", URL: dir + "/b"}}
	list, err := storeConfigs(cfg)
	if err != nil || !list[0].Default || list[1].Default {
		t.Fatalf("storeConfigs = %+v, %v", list, err)
	}
}

// TestSeveralStores runs glanced with two stores: data goes to the default
// one and stays readable where it is when the default changes, the stores
// are listed as configured, and recovery works in each store.
func TestSeveralStores(t *testing.T) {
	dir := t.TempDir()
	fast, slow := filepath.Join(dir, "fast"), filepath.Join(dir, "slow")
	cfg := Config{DataDir: dir, Stores: []StoreConfig{
		{ID: "fast", URL: "file://" + fast, Description: "Fast file store", Default: true},
		{ID: "slow", URL: slow},
	}, Cluster: ClusterConfig{OrphanGrace: time.Nanosecond}} // the orphans below are fresh
	ts := startServer(t, cfg)
	id := ts.create(t, map[string]any{"name": "two", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", ts.URL+"/v2/images/"+id+"/file", []byte("in fast")), 204)
	if got := ts.image(t, id)["stores"]; got != "fast" {
		t.Fatalf("stores = %v, want fast", got)
	}
	if b, err := os.ReadFile(filepath.Join(fast, id)); err != nil || string(b) != "in fast" {
		t.Fatalf("data not in the fast store: %q, %v", b, err)
	}
	r := do(t, "GET", ts.URL+"/v2/info/stores", nil)
	if want := `{"stores": [{"id": "fast", "description": "Fast file store", "default": "true"}, {"id": "slow"}]}`; string(r.body) != want {
		t.Fatalf("info/stores = %s, want %s", r.body, want)
	}
	r = do(t, "GET", ts.URL+"/v2/info/stores/detail", nil)
	if !strings.Contains(string(r.body), `"id": "slow", "type": "file", "properties": {"data_dir": "`+slow+`"`) {
		t.Fatalf("info/stores/detail = %s", r.body)
	}
	r = do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "hdr"})
	if got := r.h.Get("OpenStack-image-store-ids"); got != "fast,slow" {
		t.Fatalf("OpenStack-image-store-ids = %q", got)
	}
	wantCode(t, "delete from the only store", do(t, "DELETE", ts.URL+"/v2/stores/slow/"+id, nil), 403)
	ts.cancel()
	ts.done <- <-ts.done // left for startServer's cleanup, which waits for it too
	ts.Close()

	// Restart with slow as the default, an orphan in each store and the
	// record of an image whose data is gone from its store.
	os.WriteFile(filepath.Join(fast, "orphan"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(slow, "orphan"), []byte("x"), 0o600)
	cfg.Stores[0].Default, cfg.Stores[1].Default = false, true
	ctx := context.Background()
	meta, err := store.Open(ctx, filepath.Join(dir, "glance.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	size := int64(3)
	lost := &store.Image{ID: "lost", Status: store.StatusActive, Visibility: "public", Size: &size, CreatedAt: now,
		UpdatedAt: now, Stores: []string{"slow"}}
	if err := meta.CreateImage(ctx, lost); err != nil {
		t.Fatal(err)
	}
	meta.Close()
	ts = startServer(t, cfg)
	if got := do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil); got.code != 200 || string(got.body) != "in fast" {
		t.Fatalf("download after the default changed: %d %q", got.code, got.body)
	}
	for _, d := range []string{fast, slow} {
		if _, err := os.Stat(filepath.Join(d, "orphan")); !os.IsNotExist(err) {
			t.Errorf("orphan in %s survived recovery: %v", d, err)
		}
	}
	if im, err := ts.meta.GetImage(ctx, "lost"); err != nil || im.Status != store.StatusKilled || len(im.Stores) != 0 {
		t.Fatalf("image whose data is gone: %+v, %v", im, err)
	}
	id2 := ts.create(t, map[string]any{"name": "second", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload", do(t, "PUT", ts.URL+"/v2/images/"+id2+"/file", []byte("in slow")), 204)
	if got := ts.image(t, id2)["stores"]; got != "slow" {
		t.Fatalf("stores = %v, want slow", got)
	}
	wantCode(t, "delete", do(t, "DELETE", ts.URL+"/v2/images/"+id, nil), 204)
	if _, err := os.Stat(filepath.Join(fast, id)); !os.IsNotExist(err) {
		t.Fatalf("data of a deleted image stayed in fast: %v", err)
	}
}

// TestOldImagesJoinDefaultStore: images recorded before stores were
// (no stores in their record) belong to the default store.
func TestOldImagesJoinDefaultStore(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	meta, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "glance.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	size := int64(3)
	if err := meta.CreateImage(ctx, &store.Image{ID: "old", Status: store.StatusActive, Visibility: "public", Size: &size,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	meta.Close()
	os.MkdirAll(filepath.Join(dir, "images"), 0o750)
	os.WriteFile(filepath.Join(dir, "images", "old"), []byte("old"), 0o600)
	ts := startServer(t, Config{DataDir: dir})
	if im := ts.image(t, "old"); im["stores"] != defaultStoreID || im["status"] != "active" {
		t.Fatalf("old image: %v", im)
	}
	if got := do(t, "GET", ts.URL+"/v2/images/old/file", nil); string(got.body) != "old" {
		t.Fatalf("old image data: %d %q", got.code, got.body)
	}
}

// BenchmarkPutData is the write path of an upload: digests above the
// store, the default file store below (compare with blob's BenchmarkFilePut,
// the store alone).
func BenchmarkPutData(b *testing.B) {
	s, err := New(context.Background(), Config{DataDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.putData(context.Background(), "bench", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

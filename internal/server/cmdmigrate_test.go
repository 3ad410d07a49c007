package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/testenv"
)

// TestMigrateSchemaCommand: --check reports a new database's pending
// migrations and exits 1; without it they are applied; then --check is 0.
func TestMigrateSchemaCommand(t *testing.T) {
	for _, db := range []string{"sqlite://" + filepath.Join(t.TempDir(), "new.db"), "postgres"} {
		name := strings.SplitN(db, ":", 2)[0]
		t.Run(name, func(t *testing.T) {
			if db == "postgres" {
				db = testenv.Postgres(t)
			}
			run := func(args ...string) (int, string) {
				var out, errb bytes.Buffer
				code := migrateMain(args, &out, &errb)
				return code, out.String() + errb.String()
			}
			if code, out := run("--check", "--database", db); code != 1 || !strings.Contains(out, "migrations pending") {
				t.Fatalf("check of a new database: %d %q", code, out)
			}
			if code, out := run("--database", db); code != 0 || !strings.Contains(out, "migrated from version 0") {
				t.Fatalf("apply: %d %q", code, out)
			}
			if code, out := run("--check", "--database", db); code != 0 || !strings.Contains(out, "up to date") {
				t.Fatalf("check after apply: %d %q", code, out)
			}
		})
	}
	if code := migrateMain([]string{"--from", "x.db"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Fatalf("--from alone: exit %d, want 2", code)
	}
}

// TestMigrateDeployment moves 300 images, with members and tasks, from a
// glanced on SQLite and files to PostgreSQL and a new store (files, and
// Swift with a few images in segments), then serves them from there; a second run copies nothing; a run
// after the destination's copy of one image was damaged copies that one
// again; a source image with bad data stops the metadata from moving.
func TestMigrateDeployment(t *testing.T) {
	testenv.Postgres(t)
	src, want := migrationSource(t, 300)
	t.Run("files", func(t *testing.T) {
		dir := t.TempDir()
		checkMigration(t, src, want, "file://"+dir, true)
	})
	t.Run("swift", func(t *testing.T) {
		env := testenv.Swift(t)
		u := url.URL{Scheme: "swift", User: url.UserPassword(env.SwiftUser, env.SwiftKey), Host: "glance-migrate",
			Path: "/" + newUUID(), RawQuery: url.Values{"auth_url": {env.SwiftAuthURL}, "chunk_size": {"1MiB"}}.Encode()}
		checkMigration(t, src, want, u.String(), false)
	})

	// Bad data at the source: nothing of the metadata moves.
	var damaged string
	for damaged = range want {
		break
	}
	os.WriteFile(filepath.Join(src.cfg.DataDir, "images", damaged), bytes.Repeat([]byte("Y"), len(want[damaged])), 0o600)
	pg := testenv.Postgres(t)
	if code, out := runMigrate(src, pg, "file://"+t.TempDir()); code != 1 || !strings.Contains(out, damaged) ||
		!strings.Contains(out, "metadata was not copied") {
		t.Fatalf("run with bad source data: %d\n%s", code, out)
	}
	m, err := store.Open(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if imgs, err := m.ListImages(context.Background(), store.ListQuery{Admin: true, Visibility: "all"}); err != nil || len(imgs) != 0 {
		t.Fatalf("images at the destination after a failed run: %d, %v", len(imgs), err)
	}
}

// migrationSource fills a glanced on SQLite and files with n images with
// data (some shared), one without, and one imported through a task, stops
// it, and returns it and the data of each image.
func migrationSource(t *testing.T, n int) (*testServer, map[string][]byte) {
	src := startServer(t, Config{DataDir: t.TempDir()})
	want := map[string][]byte{}
	for i := range n {
		id := src.create(t, map[string]any{"name": fmt.Sprintf("img-%03d", i), "disk_format": "raw", "container_format": "bare",
			"visibility": "shared", "tags": []string{"t" + fmt.Sprint(i%7)}})
		data := bytes.Repeat([]byte(fmt.Sprintf("image %d ", i)), 1+i%50*10)
		if i%100 == 7 { // larger than a Swift segment (1 MiB here)
			data = bytes.Repeat(data, 1<<20/len(data)+100)
		}
		wantCode(t, "upload", do(t, "PUT", src.URL+"/v2/images/"+id+"/file", data), 204)
		want[id] = data
		if i%50 == 0 {
			wantCode(t, "member", do(t, "POST", src.URL+"/v2/images/"+id+"/members", map[string]any{"member": "other"}), 200)
		}
	}
	src.create(t, map[string]any{"name": "no data"})
	gd := src.create(t, map[string]any{"name": "imported", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "stage", do(t, "PUT", src.URL+"/v2/images/"+gd+"/stage", []byte("staged")), 204)
	wantCode(t, "import", do(t, "POST", src.URL+"/v2/images/"+gd+"/import",
		map[string]any{"method": map[string]any{"name": "glance-direct"}}), 202)
	waitStatus(t, src, gd, "active")
	want[gd] = []byte("staged")
	src.cancel()
	src.done <- <-src.done // left for startServer's cleanup, which waits for it too
	src.Close()
	return src, want
}

// runMigrate runs glanced migrate from src to database db and store URL to.
func runMigrate(src *testServer, db, to string) (int, string) {
	var out, errb bytes.Buffer
	code := migrateMain([]string{"--from", "sqlite://" + filepath.Join(src.cfg.DataDir, "glance.db"),
		"--from-store", filepath.Join(src.cfg.DataDir, "images"), "--to", db, "--to-store", "local=" + to, "--jobs", "8"}, &out, &errb)
	return code, out.String() + errb.String()
}

// checkMigration migrates src to a new PostgreSQL database and the store
// at storeURL, then serves every image from there. With reruns it also
// runs the migration again (nothing to copy) and once more after damaging
// one image's copy (that one copied again): what a rerun does depends on
// no store, and each run costs hundreds of requests to an object store.
func checkMigration(t *testing.T, src *testServer, want map[string][]byte, storeURL string, reruns bool) {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	n := len(want) - 1 // the images uploaded, besides the imported one
	dst, err := blob.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyStore(t, dst) })
	if code, out := runMigrate(src, pg, storeURL); code != 0 || !strings.Contains(out, fmt.Sprintf("%d copied", n+1)) ||
		!strings.Contains(out, fmt.Sprintf("table images: %d rows added", n+2)) {
		t.Fatalf("first run: %d\n%s", code, out)
	}
	if reruns {
		checkReruns(t, src, want, pg, storeURL, dst)
	}
	ts := startServer(t, Config{Database: pg, Stores: []StoreConfig{{ID: defaultStoreID, URL: storeURL, Default: true}}})
	checkMigrated(t, ts, want, n)
}

// checkReruns runs a migration already done again, then once more after
// damaging one image's copy in dst.
func checkReruns(t *testing.T, src *testServer, want map[string][]byte, pg, storeURL string, dst blob.Store) {
	n := len(want) - 1
	if code, out := runMigrate(src, pg, storeURL); code != 0 || !strings.Contains(out, fmt.Sprintf("0 copied (0 bytes), %d already there", n+1)) ||
		!strings.Contains(out, "table images: 0 rows added") {
		t.Fatalf("second run: %d\n%s", code, out)
	}
	var damaged string
	for damaged = range want {
		break
	}
	bad := bytes.Repeat([]byte("X"), len(want[damaged]))
	if _, err := dst.Put(context.Background(), damaged, bytes.NewReader(bad), int64(len(bad))); err != nil {
		t.Fatal(err)
	}
	if code, out := runMigrate(src, pg, storeURL); code != 0 || !strings.Contains(out, "1 copied") {
		t.Fatalf("run after damage: %d\n%s", code, out)
	}
}

// inParallel runs fn on each key, eight at a time.
func inParallel(keys []string, fn func(string)) {
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for k := range work {
				fn(k)
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
}

// emptyStore removes every blob of bs.
func emptyStore(t *testing.T, bs blob.Store) {
	keys, err := bs.List(context.Background())
	if err != nil {
		t.Logf("cleanup: %v", err)
	}
	inParallel(keys, func(k string) {
		if err := bs.Delete(context.Background(), k); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
}

// checkMigrated checks what a migration brought to ts: every image's data,
// tags, members and tasks.
func checkMigrated(t *testing.T, ts *testServer, want map[string][]byte, n int) {
	ctx := context.Background()
	inParallel(slices.Collect(maps.Keys(want)), func(id string) {
		res, err := http.Get(ts.URL + "/v2/images/" + id + "/file")
		if err != nil {
			t.Errorf("image %s after migration: %v", id, err)
			return
		}
		defer res.Body.Close()
		if got, err := io.ReadAll(res.Body); err != nil || res.StatusCode != 200 || !bytes.Equal(got, want[id]) {
			t.Errorf("image %s after migration: %d, %d bytes, want %d (%v)", id, res.StatusCode, len(got), len(want[id]), err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	all, err := ts.meta.ListImages(ctx, store.ListQuery{Admin: true, Visibility: "all", Limit: 1000})
	if err != nil || len(all) != n+2 {
		t.Fatalf("images: %d, %v", len(all), err)
	}
	imgs, err := ts.meta.ListImages(ctx, store.ListQuery{Admin: true, Visibility: "all", Tags: []string{"t3"}, Limit: 1000})
	if err != nil || len(imgs) != (n+3)/7 {
		t.Fatalf("images tagged t3: %d, %v", len(imgs), err)
	}
	shared := 0
	for _, im := range all {
		if m, err := ts.meta.GetMember(ctx, im.ID, "other"); err == nil && m.Status == "pending" {
			shared++
		}
	}
	if shared != (n+49)/50 {
		t.Fatalf("images shared with other: %d", shared)
	}
	if tasks, _ := ts.meta.ListTasks(ctx, ""); len(tasks) != 1 {
		t.Fatalf("tasks: %d, want 1", len(tasks))
	}
}

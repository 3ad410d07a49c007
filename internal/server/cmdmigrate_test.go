package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
// glanced on SQLite and files to PostgreSQL and a new file store, then
// serves them from there; a second run copies nothing; a run after the
// destination's copy of one image was damaged copies that one again; a
// source image with bad data stops the metadata from moving.
func TestMigrateDeployment(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	src := startServer(t, Config{DataDir: t.TempDir()})
	const n = 300
	want := map[string][]byte{}
	var shared []string // images with a member
	for i := range n {
		id := src.create(t, map[string]any{"name": fmt.Sprintf("img-%03d", i), "disk_format": "raw", "container_format": "bare",
			"visibility": "shared", "tags": []string{"t" + fmt.Sprint(i%7)}})
		data := bytes.Repeat([]byte(fmt.Sprintf("image %d ", i)), 1+i%50)
		wantCode(t, "upload", do(t, "PUT", src.URL+"/v2/images/"+id+"/file", data), 204)
		want[id] = data
		if i%50 == 0 {
			wantCode(t, "member", do(t, "POST", src.URL+"/v2/images/"+id+"/members", map[string]any{"member": "other"}), 200)
			shared = append(shared, id)
		}
	}
	queued := src.create(t, map[string]any{"name": "no data"})
	gd := src.create(t, map[string]any{"name": "imported", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "stage", do(t, "PUT", src.URL+"/v2/images/"+gd+"/stage", []byte("staged")), 204)
	wantCode(t, "import", do(t, "POST", src.URL+"/v2/images/"+gd+"/import",
		map[string]any{"method": map[string]any{"name": "glance-direct"}}), 202)
	waitStatus(t, src, gd, "active")
	want[gd] = []byte("staged")
	srcTasks, err := src.meta.ListTasks(ctx, "")
	if err != nil || len(srcTasks) != 1 {
		t.Fatalf("source tasks: %d, %v", len(srcTasks), err)
	}
	src.cancel()
	src.done <- <-src.done // left for startServer's cleanup, which waits for it too
	src.Close()

	dst := t.TempDir()
	args := []string{"--from", "sqlite://" + filepath.Join(src.cfg.DataDir, "glance.db"),
		"--from-store", filepath.Join(src.cfg.DataDir, "images"), "--to", pg, "--to-store", "local=file://" + dst}
	run := func() (int, string) {
		var out, errb bytes.Buffer
		code := migrateMain(args, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run(); code != 0 || !strings.Contains(out, fmt.Sprintf("%d copied", n+1)) ||
		!strings.Contains(out, fmt.Sprintf("table images: %d rows added", n+2)) {
		t.Fatalf("first run: %d\n%s", code, out)
	}
	if code, out := run(); code != 0 || !strings.Contains(out, fmt.Sprintf("0 copied (0 bytes), %d already there", n+1)) ||
		!strings.Contains(out, "table images: 0 rows added") {
		t.Fatalf("second run: %d\n%s", code, out)
	}
	var damaged string
	for id := range want {
		damaged = id
		break
	}
	os.WriteFile(filepath.Join(dst, damaged), bytes.Repeat([]byte("X"), len(want[damaged])), 0o600)
	if code, out := run(); code != 0 || !strings.Contains(out, "1 copied") {
		t.Fatalf("run after damage: %d\n%s", code, out)
	}

	ts := startServer(t, Config{Database: pg, Stores: []StoreConfig{{ID: defaultStoreID, URL: dst, Default: true}}})
	for id, data := range want {
		if got := do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil); got.code != 200 || !bytes.Equal(got.body, data) {
			t.Fatalf("image %s on PostgreSQL: %d, %d bytes, want %d", id, got.code, len(got.body), len(data))
		}
	}
	if im := ts.image(t, queued); im["status"] != "queued" {
		t.Fatalf("queued image: %v", im)
	}
	imgs, err := ts.meta.ListImages(ctx, store.ListQuery{Admin: true, Visibility: "all", Tags: []string{"t3"}})
	if err != nil || len(imgs) != (n+3)/7 {
		t.Fatalf("images tagged t3: %d, %v", len(imgs), err)
	}
	for _, id := range shared {
		if m, err := ts.meta.GetMember(ctx, id, "other"); err != nil || m.Status != "pending" {
			t.Fatalf("member of %s: %+v, %v", id, m, err)
		}
	}
	if ts2, _ := ts.meta.ListTasks(ctx, ""); len(ts2) != len(srcTasks) {
		t.Fatalf("tasks: %d, want %d", len(ts2), len(srcTasks))
	}

	// Bad data at the source: nothing of the metadata moves.
	bad := filepath.Join(src.cfg.DataDir, "images", damaged)
	os.WriteFile(bad, bytes.Repeat([]byte("Y"), len(want[damaged])), 0o600)
	pg2 := testenv.Postgres(t)
	args[5] = pg2
	args[7] = "local=" + t.TempDir()
	if code, out := run(); code != 1 || !strings.Contains(out, damaged) || !strings.Contains(out, "metadata was not copied") {
		t.Fatalf("run with bad source data: %d\n%s", code, out)
	}
	m, err := store.Open(ctx, pg2)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if imgs, err := m.ListImages(ctx, store.ListQuery{Admin: true, Visibility: "all"}); err != nil || len(imgs) != 0 {
		t.Fatalf("images at the destination after a failed run: %d, %v", len(imgs), err)
	}
}

package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/testenv"
)

// nodes starts glanced nodes named by ids on one database and one store
// directory: PostgreSQL, or one SQLite file, by engine.
func nodes(t *testing.T, engine string, cc ClusterConfig, ids ...string) []*testServer {
	t.Helper()
	shared := t.TempDir()
	db := "sqlite://" + filepath.Join(shared, "glance.db")
	if engine == "postgres" {
		db = testenv.Postgres(t)
	}
	var out []*testServer
	for _, id := range ids {
		out = append(out, startNode(t, shared, db, id, cc))
	}
	return out
}

func startNode(t *testing.T, shared, db, id string, cc ClusterConfig) *testServer {
	cc.NodeID = id
	return startServer(t, Config{DataDir: filepath.Join(shared, id), Database: db, Cluster: cc,
		Stores:  []StoreConfig{{ID: defaultStoreID, URL: filepath.Join(shared, "images"), Default: true}},
		Staging: filepath.Join(shared, "staging")})
}

func forEngines(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range []string{"sqlite", "postgres"} {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

// slowUpload starts an upload of the first part of data to node ts and
// returns a function that sends the rest and gives the answer's status,
// and the channel that status comes on (0: no answer).
func slowUpload(t *testing.T, ts *testServer, id string, data []byte) (finish func(fail bool) int, codes <-chan int) {
	pr, pw := io.Pipe()
	code := putAsync(ts, id, pr)
	if _, err := pw.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	return func(fail bool) int {
		if fail {
			pw.CloseWithError(io.ErrUnexpectedEOF)
		} else {
			pw.Write(data[len(data)/2:])
			pw.Close()
		}
		return <-code
	}, code
}

// putAsync uploads body to image id on ts; the answer's status comes on
// the channel returned (0: no answer).
func putAsync(ts *testServer, id string, body io.Reader) <-chan int {
	code := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", ts.URL+"/v2/images/"+id+"/file", body)
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			code <- 0
			return
		}
		res.Body.Close()
		code <- res.StatusCode
	}()
	return code
}

// TestLiveUploadSurvivesOtherNodes: while node a uploads for longer than
// the lease lasts, node b's janitor runs many times and a third node
// starts (its start-up recovery too): neither touches a's upload, which
// ends active with its data.
func TestLiveUploadSurvivesOtherNodes(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		cc := ClusterConfig{LeaseTTL: 600 * time.Millisecond, JanitorInterval: 50 * time.Millisecond, OrphanGrace: time.Nanosecond}
		ns := nodes(t, engine, cc, "a", "b")
		a, b := ns[0], ns[1]
		id := a.create(t, map[string]any{"name": "live", "disk_format": "raw", "container_format": "bare"})
		data := bytes.Repeat([]byte("live upload "), 50000)
		finish, _ := slowUpload(t, a, id, data)
		waitStatus(t, b, id, "saving")
		time.Sleep(3 * cc.LeaseTTL) // b's janitor runs a few dozen times
		c := startNode(t, filepath.Dir(a.cfg.DataDir), a.cfg.Database, "c", cc)
		if im := c.image(t, id); im["status"] != "saving" {
			t.Fatalf("a restarted node reset a live upload: %v", im["status"])
		}
		if code := finish(false); code != 204 {
			t.Fatalf("upload on the live node: %d", code)
		}
		if got := do(t, "GET", b.URL+"/v2/images/"+id+"/file", nil); got.code != 200 || !bytes.Equal(got.body, data) {
			t.Fatalf("download from b: %d, %d bytes", got.code, len(got.body))
		}
	})
}

// TestDeadNodeUploadReset: node a stops renewing its leases in the middle
// of an upload (as a dead or cut-off node does). Once the lease expires,
// node b puts the image back to queued and removes what the write left;
// when a's upload then ends after all, it cannot make the image active.
func TestDeadNodeUploadReset(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		cc := ClusterConfig{LeaseTTL: 300 * time.Millisecond, JanitorInterval: 50 * time.Millisecond, OrphanGrace: time.Hour}
		ns := nodes(t, engine, cc, "a", "b")
		a, b := ns[0], ns[1]
		id := a.create(t, map[string]any{"name": "orphaned write", "disk_format": "raw", "container_format": "bare"})
		finish, _ := slowUpload(t, a, id, bytes.Repeat([]byte("x"), 1<<20))
		waitStatus(t, b, id, "saving")
		a.stopCluster()
		waitStatus(t, b, id, "queued")
		if keys, _ := b.stores.byID[defaultStoreID].List(context.Background()); len(keys) != 0 {
			t.Fatalf("data left after the reset: %v", keys)
		}
		// What a's write stores now is an orphan for the sweep: a no longer
		// knows whether the key is its own.
		if code := finish(false); code != 409 {
			t.Fatalf("the dead node's upload ended with %d, want 409", code)
		}
		// The image takes a new upload, on b.
		wantCode(t, "upload again", do(t, "PUT", b.URL+"/v2/images/"+id+"/file", []byte("second try")), 204)
		if got := do(t, "GET", a.URL+"/v2/images/"+id+"/file", nil); string(got.body) != "second try" {
			t.Fatalf("data = %q", got.body)
		}
	})
}

// TestDeadNodeImportTask: node a's web-download import hangs on a slow
// source when a stops renewing; node b fails its task and resets the image.
func TestDeadNodeImportTask(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		cc := ClusterConfig{LeaseTTL: 300 * time.Millisecond, JanitorInterval: 50 * time.Millisecond, OrphanGrace: time.Hour}
		ns := nodes(t, engine, cc, "a", "b")
		a, b := ns[0], ns[1]
		release := make(chan struct{})
		src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("first bytes"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(src.Close)
		defer close(release)
		id := a.create(t, map[string]any{"name": "import", "disk_format": "raw", "container_format": "bare"})
		wantCode(t, "import", do(t, "POST", a.URL+"/v2/images/"+id+"/import",
			map[string]any{"method": map[string]any{"name": "web-download", "uri": src.URL + "/img"}}), 202)
		waitStatus(t, b, id, "importing")
		a.stopCluster()
		waitStatus(t, b, id, "queued")
		deadline := time.Now().Add(5 * time.Second)
		for {
			ts, err := b.meta.ListTasks(context.Background(), id)
			if err != nil || len(ts) != 1 {
				t.Fatalf("tasks: %v, %v", ts, err)
			}
			if ts[0].Status == "failure" && strings.Contains(ts[0].Message, "Interrupted") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("task of the dead node: %+v", ts[0])
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestOrphanSweepAndPurge: data no record refers to goes once older than
// the grace period, data of live images and of a running upload stays,
// and expired tasks are purged.
func TestOrphanSweepAndPurge(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		cc := ClusterConfig{LeaseTTL: 5 * time.Second, JanitorInterval: 50 * time.Millisecond, OrphanGrace: 400 * time.Millisecond}
		ns := nodes(t, engine, cc, "a", "b")
		a, b := ns[0], ns[1]
		ctx := context.Background()
		live := a.create(t, map[string]any{"name": "live", "disk_format": "raw", "container_format": "bare"})
		wantCode(t, "upload", do(t, "PUT", a.URL+"/v2/images/"+live+"/file", []byte("kept")), 204)
		busy := a.create(t, map[string]any{"name": "busy", "disk_format": "raw", "container_format": "bare"})
		finish, _ := slowUpload(t, a, busy, bytes.Repeat([]byte("y"), 1<<20))
		waitStatus(t, b, busy, "saving")
		dir := filepath.Join(filepath.Dir(a.cfg.DataDir), "images")
		if err := os.WriteFile(filepath.Join(dir, "orphan"), []byte("nobody's"), 0o600); err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Minute)
		if err := a.meta.CreateTask(ctx, &store.Task{ID: "expired", Type: "import", Status: "success", CreatedAt: past,
			UpdatedAt: past, ExpiresAt: &past}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(cc.OrphanGrace / 2)
		if _, err := os.Stat(filepath.Join(dir, "orphan")); err != nil {
			t.Fatalf("an orphan younger than the grace period went: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := os.Stat(filepath.Join(dir, "orphan"))
			if os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the orphan stayed")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := b.meta.GetTask(ctx, "expired"); err == nil {
			t.Fatal("the expired task stayed")
		}
		if code := finish(false); code != 204 {
			t.Fatalf("upload during sweeps: %d", code)
		}
		for _, id := range []string{live, busy} {
			if got := do(t, "GET", b.URL+"/v2/images/"+id+"/file", nil); got.code != 200 || len(got.body) == 0 {
				t.Fatalf("image %s after sweeps: %d", id, got.code)
			}
		}
	})
}

// TestOrphanGraceByModTime: the sweep judges an orphan's age by its write
// time, through the metrics layer around every store: an orphan written
// long before goes at the first sweep, a fresh one stays for the grace
// period (a sweep that could not see the write time would keep both).
func TestOrphanGraceByModTime(t *testing.T) {
	cc := ClusterConfig{LeaseTTL: 5 * time.Second, JanitorInterval: 50 * time.Millisecond, OrphanGrace: time.Hour}
	a := nodes(t, "sqlite", cc, "a")[0]
	if _, ok := a.stores.byID[defaultStoreID].(*countingBlob); !ok {
		t.Fatal("the store is not wrapped for metrics: this test would not test the unwrapping")
	}
	dir := filepath.Join(filepath.Dir(a.cfg.DataDir), "images")
	for _, name := range []string{"old-orphan", "new-orphan"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("nobody's"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "old-orphan"), past, past); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "old-orphan")); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an orphan older than the grace period stayed: its write time was not seen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "new-orphan")); err != nil {
		t.Fatalf("an orphan younger than the grace period went: %v", err)
	}
}

package imagecache

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sum(b []byte) string { h := sha512.Sum512(b); return hex.EncodeToString(h[:]) }

func open(t *testing.T, dir string, max int64) *Cache {
	t.Helper()
	c, err := Open(Options{Dir: dir, MaxSize: max, QueueDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func read(t *testing.T, c *Cache, id string, size int64) []byte {
	t.Helper()
	f, err := c.Open(id, size)
	if err != nil {
		t.Fatalf("Open %s: %v", id, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFillOpenAndVerify(t *testing.T) {
	c := open(t, t.TempDir(), 1<<20)
	data := []byte("some image data")
	ctx := context.Background()
	if err := c.Fill(ctx, "img-1", int64(len(data)), sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c, "img-1", int64(len(data))); !bytes.Equal(got, data) {
		t.Fatalf("read %q", got)
	}
	if l := c.List(); len(l) != 1 || l[0].Hits != 1 || l[0].Size != int64(len(data)) {
		t.Fatalf("list %+v", l)
	}
	// Wrong digest or size: nothing cached.
	if err := c.Fill(ctx, "img-2", int64(len(data)), sum([]byte("other")), bytes.NewReader(data)); !errors.Is(err, ErrMismatch) {
		t.Fatalf("bad sum: %v", err)
	}
	if err := c.Fill(ctx, "img-3", 3, "", bytes.NewReader(data)); !errors.Is(err, ErrMismatch) {
		t.Fatalf("bad size: %v", err)
	}
	if c.Cached("img-2") || c.Cached("img-3") {
		t.Fatal("a failed fill is cached")
	}
	// A stale entry (the image's size changed) is dropped, not served.
	if _, err := c.Open("img-1", 99); !errors.Is(err, ErrNotCached) || c.Cached("img-1") {
		t.Fatalf("stale entry: %v", err)
	}
	if err := c.Fill(ctx, "big", 2<<20, "", bytes.NewReader(nil)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	assertNoPartials(t, c)
}

func assertNoPartials(t *testing.T, c *Cache) {
	t.Helper()
	ents, _ := os.ReadDir(c.opts.Dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".part-") {
			t.Errorf("partial file %s left", e.Name())
		}
	}
}

func TestPruneLRU(t *testing.T) {
	c := open(t, t.TempDir(), 30)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if err := c.Fill(ctx, id, 10, "", bytes.NewReader(make([]byte, 10))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	read(t, c, "a", 10) // a is now the most recent
	// Filling d makes room by dropping the least recently used: b.
	if err := c.Fill(ctx, "d", 10, "", bytes.NewReader(make([]byte, 10))); err != nil {
		t.Fatal(err)
	}
	if c.Cached("b") || !c.Cached("a") || !c.Cached("c") || !c.Cached("d") {
		t.Fatalf("after prune: %+v", c.List())
	}
	c.opts.MaxSize = 15
	files, bytes, err := c.Prune()
	if err != nil || files != 2 || bytes != 20 || c.Size() != 10 {
		t.Fatalf("prune: %d files %d bytes %v, size %d", files, bytes, err, c.Size())
	}
}

func TestTee(t *testing.T) {
	c := open(t, t.TempDir(), 1<<30)
	data := bytes.Repeat([]byte("0123456789"), 100000)
	tee := c.Tee("t1", int64(len(data)), sum(data), bytes.NewReader(data))
	got, err := io.ReadAll(tee)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("tee read: %v", err)
	}
	if err := tee.Close(); err != nil {
		t.Fatalf("tee close: %v", err)
	}
	if err := tee.Wait(); err != nil {
		t.Fatalf("tee fill: %v", err)
	}
	if !c.Cached("t1") {
		t.Fatal("a complete download did not fill the cache")
	}
	// A client that stops half-way leaves nothing cached.
	tee = c.Tee("t2", int64(len(data)), sum(data), bytes.NewReader(data))
	if _, err := io.ReadFull(tee, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := tee.Close(); err == nil || c.Cached("t2") {
		t.Fatalf("partial read cached: %v", err)
	}
	// While one fill of an image runs, no second one starts.
	tee = c.Tee("t3", int64(len(data)), "", bytes.NewReader(data))
	if c.Tee("t3", int64(len(data)), "", bytes.NewReader(data)) != nil {
		t.Fatal("two fills of one image")
	}
	tee.Close()
	assertNoPartials(t, c)
}

func TestQueueAndWorker(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 1<<20)
	for _, id := range []string{"q1", "q2", "q1"} {
		if err := c.Queue(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Queue("../x"); err == nil {
		t.Fatal("a path-like ID was queued")
	}
	// The queue survives a restart, in order.
	c = open(t, dir, 1<<20)
	if q := c.Queued(); len(q) != 2 || q[0] != "q1" || q[1] != "q2" {
		t.Fatalf("queue after reopen %v", q)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := []byte("prefetched")
	go c.Run(ctx, func(_ context.Context, id string) (io.ReadCloser, int64, string, error) {
		if id == "q2" {
			return nil, 0, "", errors.New("store down")
		}
		return io.NopCloser(bytes.NewReader(data)), int64(len(data)), sum(data), nil
	})
	deadline := time.Now().Add(5 * time.Second)
	for len(c.Queued()) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !c.Cached("q1") || c.Cached("q2") || len(c.Queued()) != 0 {
		t.Fatalf("after the worker: cached %+v, queued %v", c.List(), c.Queued())
	}

	if n, err := c.ClearQueue(); n != 0 || err != nil {
		t.Fatalf("clear queue %d %v", n, err)
	}
	if n, err := c.Clear(); n != 1 || err != nil || c.Cached("q1") {
		t.Fatalf("clear %d %v", n, err)
	}
}

// A queued image waits QueueDelay before the worker reads it, so that one
// dropped from the queue meanwhile is never read.
func TestQueueDelay(t *testing.T) {
	c, err := Open(Options{Dir: t.TempDir(), QueueDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	reads := 0
	go func() {
		defer close(done)
		c.Run(ctx, func(context.Context, string) (io.ReadCloser, int64, string, error) {
			reads++
			return nil, 0, "", errors.New("unexpected")
		})
	}()
	c.Queue("q")
	time.Sleep(50 * time.Millisecond)
	if q := c.Queued(); len(q) != 1 {
		t.Fatalf("queued %v", q)
	}
	c.Dequeue("q")
	cancel()
	<-done
	if reads != 0 {
		t.Fatalf("%d reads of an image dropped from the queue before its delay", reads)
	}
}

func TestCleanRemovesStalePartials(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 1<<20)
	p := filepath.Join(dir, ".img.part-abc")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.opts.StallTime = time.Hour
	if n, _ := c.Clean(); n != 0 {
		t.Fatal("a fresh partial file was removed")
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(p, old, old)
	if n, _ := c.Clean(); n != 1 {
		t.Fatal("a stale partial file stayed")
	}
	// Open removes them all: no fill survives a restart.
	os.WriteFile(p, []byte("x"), 0o600)
	open(t, dir, 1<<20)
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Open left a partial file")
	}
}

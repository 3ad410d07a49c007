package blob_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/blob/blobtest"
)

func TestFileStore(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		dir := t.TempDir()
		f, err := blob.OpenFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		// Whatever a subtest did, no temporary file may stay behind.
		t.Cleanup(func() { noTempFiles(t, dir) })
		return f
	})
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left in %s: %s", dir, e.Name())
		}
	}
}

type failAfter struct{ n int }

func (r *failAfter) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("reset")
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

// TestFileFailedPutLeavesNoFile checks the directory itself after failed
// Puts, and that a temporary file a crash left is removed on open.
func TestFileFailedPutLeavesNoFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := blob.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Put(ctx, "old", strings.NewReader("old data"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Put(ctx, "old", &failAfter{n: 3 << 20}, -1); err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	if _, err := f.Put(ctx, "new", strings.NewReader("abc"), 4); !errors.Is(err, blob.ErrSizeMismatch) {
		t.Fatalf("Put of a short body: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "old" {
		t.Fatalf("dir after failed puts: %v", ents)
	}
	stray := filepath.Join(dir, ".tmp-x-123")
	if err := os.WriteFile(stray, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if keys, _ := f.List(ctx); len(keys) != 1 {
		t.Fatalf("List shows a temporary file: %v", keys)
	}
	if _, err := blob.OpenFile(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatalf("stray temp file survived: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old")); err != nil {
		t.Fatalf("a blob went with the stray files: %v", err)
	}
}

func TestOpenByURL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rel, err := os.MkdirTemp(".", "rel-store-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rel) })
	rel = filepath.Base(rel)
	for _, tc := range []struct{ url, dir string }{
		{"file://" + dir + "/a", dir + "/a"},
		{"FILE://localhost" + dir + "/b", dir + "/b"},
		{dir + "/c", dir + "/c"},                 // a bare path
		{dir + "/d%41", dir + "/d%41"},           // taken literally
		{"file://" + dir + "/e%41", dir + "/eA"}, // a URL is decoded
		{rel + "/f", rel + "/f"},                 // a relative path
		{"file:" + rel + "/g", rel + "/g"},       // a relative file URL
	} {
		s, err := blob.Open(ctx, tc.url)
		if err != nil {
			t.Errorf("Open(%q): %v", tc.url, err)
			continue
		}
		if _, err := s.Put(ctx, "k", strings.NewReader("v"), 1); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join(tc.dir, "k")); err != nil || string(got) != "v" {
			t.Errorf("Open(%q) did not store in %s: %q, %v", tc.url, tc.dir, got, err)
		}
	}
	for _, bad := range []string{"", "nosuch://x/y", "file://otherhost/x", "file:///x?sync=0", "file://"} {
		if _, err := blob.Open(ctx, bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	_, err = blob.Open(ctx, "nosuch://user:secret@host/x")
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "file") {
		t.Errorf("unknown scheme: %v; want an error naming the known schemes without the password", err)
	}
}

// TestRegister checks that a backend registered for a scheme is what Open
// uses for URLs of that scheme, as the object stores will be.
func TestRegister(t *testing.T) {
	dir := t.TempDir()
	var seen *url.URL
	blob.Register("Test-Reg", func(_ context.Context, u *url.URL) (blob.Store, error) {
		seen = u
		return blob.OpenFile(dir)
	})
	if !slices.Contains(blob.Schemes(), "test-reg") || !slices.Contains(blob.Schemes(), "file") {
		t.Fatalf("Schemes() = %v", blob.Schemes())
	}
	s, err := blob.Open(context.Background(), "test-reg://account@container/prefix?region=one")
	if err != nil {
		t.Fatal(err)
	}
	if seen == nil || seen.Host != "container" || seen.Path != "/prefix" || seen.Query().Get("region") != "one" {
		t.Fatalf("opener got %v", seen)
	}
	if _, err := s.Put(context.Background(), "k", strings.NewReader("v"), 1); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a scheme twice did not panic")
		}
	}()
	blob.Register("test-reg", nil)
}

func TestLocation(t *testing.T) {
	wd, _ := os.Getwd()
	same := []string{"/srv/a", "file:///srv/a", "file://localhost/srv/a/", "/srv/./a", "FILE:///srv//a"}
	for _, raw := range same {
		if got, err := blob.Location(raw); err != nil || got != "file:///srv/a" {
			t.Errorf("Location(%q) = %q, %v", raw, got, err)
		}
	}
	if got, _ := blob.Location("rel"); got != "file://"+filepath.Join(wd, "rel") {
		t.Errorf("Location(rel) = %q", got)
	}
	if got, _ := blob.Location("swift://user:pw@cloud/container"); got != "swift://cloud/container" {
		t.Errorf("Location of an object store = %q", got)
	}
}

func BenchmarkFilePut(b *testing.B) {
	f, err := blob.OpenFile(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Put(context.Background(), "bench", bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

package glance_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-glance/glance"
)

// TestDownloadPrefer checks that DownloadOptions.Prefer reaches every data
// request as python-glanceclient sends it (prefer=a%2Cb, empty names left
// out), and that without it the URL has no query.
func TestDownloadPrefer(t *testing.T) {
	data := payload(1 << 20)
	m, s := digests(data)
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/file") {
			writeJSON(w, map[string]any{"id": imageID, "status": "active", "size": len(data),
				"checksum": m, "os_hash_algo": "sha512", "os_hash_value": s})
			return
		}
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		w.Write(data)
	}))
	defer srv.Close()
	c, err := glance.New(srv.URL+"/v2", &glance.Options{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prefer := []string{" fast", "", "cheap "}
	d, err := c.Download(ctx, imageID, &glance.DownloadOptions{Prefer: prefer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, d); err != nil {
		t.Fatal(err)
	}
	d.Close()
	dir := t.TempDir()
	if _, err := c.DownloadToFile(ctx, imageID, filepath.Join(dir, "a"), &glance.DownloadOptions{Prefer: prefer}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DownloadToFile(ctx, imageID, filepath.Join(dir, "b"), &glance.DownloadOptions{Prefer: []string{"", " "}}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"prefer=fast%2Ccheap", "prefer=fast%2Ccheap", ""}
	if !slices.Equal(queries, want) {
		t.Fatalf("data requests' queries %q, want %q", queries, want)
	}

	rs, rc := newRangeServer(t, payload(9<<20))
	if _, err := rc.DownloadToFile(ctx, imageID, filepath.Join(dir, "c"), &glance.DownloadOptions{Parallel: 2, Prefer: []string{"x"}}, nil); err != nil {
		t.Fatal(err)
	}
	if len(rs.queries) != 2 || rs.queries[0] != "prefer=x" || rs.queries[1] != "prefer=x" {
		t.Fatalf("parallel range requests' queries %q, want prefer=x on both", rs.queries)
	}
}

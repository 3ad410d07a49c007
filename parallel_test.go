package glance_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-glance/glance"
)

// rangeServer serves an image's record and its data by ranges, with a
// fault for the range that starts at faultAt: "fail" (500), "short" (the
// connection drops half way), "whole" (200 with everything).
type rangeServer struct {
	data    []byte
	record  map[string]any
	faultAt int
	fault   string
	mu      sync.Mutex
	ranges  []string
	queries []string // of the data requests
}

func newRangeServer(t *testing.T, data []byte) (*rangeServer, *glance.Client) {
	m, s := digests(data)
	rs := &rangeServer{data: data, faultAt: -1, record: map[string]any{"id": imageID, "status": "active",
		"size": len(data), "checksum": m, "os_hash_algo": "sha512", "os_hash_value": s}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/file") {
			writeJSON(w, rs.record)
			return
		}
		from, to := 0, len(rs.data)-1
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &from, &to) // bytes=N- leaves to at the end
		rs.mu.Lock()
		rs.ranges = append(rs.ranges, r.Header.Get("Range"))
		rs.queries = append(rs.queries, r.URL.RawQuery)
		rs.mu.Unlock()
		part := rs.data[from : to+1]
		if from == rs.faultAt {
			switch rs.fault {
			case "fail":
				http.Error(w, "store unavailable", http.StatusInternalServerError)
				return
			case "whole":
				w.Write(rs.data)
				return
			case "short":
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(rs.data)))
				w.Header().Set("Content-Length", fmt.Sprint(len(part)))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(part[:len(part)/2])
				w.(http.Flusher).Flush()
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(rs.data)))
		w.Header().Set("Content-Length", fmt.Sprint(len(part)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(part)
	}))
	t.Cleanup(srv.Close)
	c, err := glance.New(srv.URL+"/v2", &glance.Options{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return rs, c
}

func TestParallelDownload(t *testing.T) {
	data := payload(17<<20 + 123)
	rs, c := newRangeServer(t, data)
	path := filepath.Join(t.TempDir(), "img")
	var counted int64
	var mu sync.Mutex
	progress := func(d *glance.Download, w io.Writer) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			counted += int64(len(p))
			mu.Unlock()
			return w.Write(p)
		})
	}
	res, err := c.DownloadToFile(context.Background(), imageID, path, &glance.DownloadOptions{Parallel: 4}, progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.ranges) != 4 || res.Algorithm != "sha512" || res.Size != int64(len(data)) || counted != int64(len(data)) {
		t.Fatalf("ranges %q, result %+v, progress counted %d", rs.ranges, res, counted)
	}
	if got, _ := os.ReadFile(path); string(got) != string(data) {
		t.Fatal("the file differs from the image")
	}
}

func TestParallelDownloadFaults(t *testing.T) {
	data := payload(16 << 20)
	for _, fault := range []string{"fail", "short", "whole"} {
		t.Run(fault, func(t *testing.T) {
			rs, c := newRangeServer(t, data)
			rs.faultAt, rs.fault = 8<<20, fault // the third of four ranges
			dir := t.TempDir()
			_, err := c.DownloadToFile(context.Background(), imageID, filepath.Join(dir, "img"), &glance.DownloadOptions{Parallel: 4}, nil)
			switch {
			case err == nil:
				t.Fatal("the download succeeded")
			case fault == "fail" && !strings.Contains(err.Error(), "HTTP 500"):
				t.Fatalf("want the server's 500, got %v", err)
			case fault == "short" && !errors.Is(err, io.ErrUnexpectedEOF):
				t.Fatalf("want unexpected EOF, got %v", err)
			case fault == "whole" && !errors.Is(err, glance.ErrNoRanges):
				t.Fatalf("want ErrNoRanges, got %v", err)
			}
			assertEmptyDir(t, dir)
		})
	}
}

func TestParallelDownloadWrongHash(t *testing.T) {
	data := payload(12 << 20)
	rs, c := newRangeServer(t, data)
	rs.record["os_hash_value"] = strings.Repeat("ab", 64)
	dir := t.TempDir()
	_, err := c.DownloadToFile(context.Background(), imageID, filepath.Join(dir, "img"), &glance.DownloadOptions{Parallel: 3}, nil)
	if !errors.Is(err, glance.ErrChecksumMismatch) {
		t.Fatalf("want a checksum mismatch, got %v", err)
	}
	assertEmptyDir(t, dir)
}

// TestParallelResumeKeepsPrefix: a parallel download with Resume that fails
// keeps only the image's first bytes, up to where the first unfinished
// range stopped (later ranges may have more, which is cut), and the next
// call continues from there.
func TestParallelResumeKeepsPrefix(t *testing.T) {
	data := payload(16 << 20)
	rs, c := newRangeServer(t, data)
	rs.faultAt, rs.fault = 4<<20, "short" // the second range stops half way
	dir := t.TempDir()
	path := filepath.Join(dir, "img")
	opts := &glance.DownloadOptions{Parallel: 4, Resume: true}
	if _, err := c.DownloadToFile(context.Background(), imageID, path, opts, nil); err == nil {
		t.Fatal("the download succeeded")
	}
	part, err := os.ReadFile(partName(path))
	// The first range may have been stopped too when the second failed:
	// the part ends before the second range's end, wherever that was.
	if err != nil || len(part) >= 8<<20 || string(part) != string(data[:len(part)]) {
		t.Fatalf("kept part: %v, %d bytes: want a prefix of the image, short of the second range's end", err, len(part))
	}
	rs.faultAt = -1
	res, err := c.DownloadToFile(context.Background(), imageID, path, opts, nil)
	if err != nil || res.Resumed != int64(len(part)) {
		t.Fatalf("resume: %v, %+v", err, res)
	}
	if got, _ := os.ReadFile(path); string(got) != string(data) {
		t.Fatal("the file differs from the image")
	}
}

package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchServer is a noauth glanced with n images, driven through its handler.
func benchServer(b *testing.B, n int) (*Server, []string) {
	b.Helper()
	s, err := New(context.Background(), Config{DataDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	h := s.Handler()
	var ids []string
	for i := 0; i < n; i++ {
		req := httptest.NewRequest("POST", "/v2/images", strings.NewReader(fmt.Sprintf(
			`{"name": "bench-%d", "disk_format": "raw", "container_format": "bare", "os_distro": "debian", "tags": ["a", "b"]}`, i)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 201 {
			b.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		body := rec.Body.String()
		i := strings.Index(body, `"id": "`)
		ids = append(ids, body[i+7:i+43])
	}
	return s, ids
}

func benchGet(b *testing.B, h http.Handler, path string) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != 200 {
				b.Fatalf("GET %s: %d", path, rec.Code)
			}
		}
	})
}

func BenchmarkImageShow(b *testing.B) {
	s, ids := benchServer(b, 100)
	b.ResetTimer()
	benchGet(b, s.Handler(), "/v2/images/"+ids[50])
}

func BenchmarkImageList(b *testing.B) {
	s, _ := benchServer(b, 100)
	b.ResetTimer()
	benchGet(b, s.Handler(), "/v2/images") // one default page of 25
}

func BenchmarkImageListFiltered(b *testing.B) {
	s, _ := benchServer(b, 100)
	b.ResetTimer()
	benchGet(b, s.Handler(), "/v2/images?limit=10&sort=name:asc&os_distro=debian&tag=a")
}

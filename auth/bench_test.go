package auth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// BenchmarkPeerOpen logs in to the real Keystone every time.
func BenchmarkPeerOpen(b *testing.B) {
	o := adminOptions(b)
	for b.Loop() {
		if _, err := Open(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeerOpenCached opens sessions that find their token in the cache.
func BenchmarkPeerOpenCached(b *testing.B) {
	o := adminOptions(b)
	o.Cache = &TokenCache{Dir: filepath.Join(b.TempDir(), "tokens")}
	if _, err := Open(context.Background(), o); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Open(context.Background(), o)
		if err != nil || !s.Cached() {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenTransport measures what the token layer adds to a request.
func BenchmarkTokenTransport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"none", Options{AuthType: "none", Endpoint: srv.URL}},
		{"token", Options{Token: "t", Endpoint: srv.URL}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := Open(context.Background(), tc.o)
			if err != nil {
				b.Fatal(err)
			}
			c := s.Client()
			for b.Loop() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

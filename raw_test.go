package glance_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/go-glance/glance"
)

// Do resolves a relative URL against the versioned endpoint, sends the
// client's User-Agent, repeats reads that met a 503 and maps failures to
// *Error, leaving the caller's request untouched.
func TestDo(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/image/v2/extension" && r.Header.Get("User-Agent") == "ua-test":
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		default:
			http.Error(w, "no such thing", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	c, err := glance.New(srv.URL+"/image/v2", &glance.Options{UserAgent: "ua-test"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "extension", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if calls.Load() != 2 || req.URL.String() != "extension" || req.Header.Get("User-Agent") != "" {
		t.Errorf("calls %d, caller's request now %s %v", calls.Load(), req.URL, req.Header)
	}
	req, _ = http.NewRequest(http.MethodDelete, srv.URL+"/image/v1/images/x", nil)
	_, err = c.Do(req)
	var ge *glance.Error
	if !errors.As(err, &ge) || !errors.Is(err, glance.ErrNotFound) || ge.Message != "no such thing" {
		t.Errorf("err = %v", err)
	}
}

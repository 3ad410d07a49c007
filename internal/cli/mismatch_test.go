package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// Fault injection: a server that records other digests than the data sent
// (corruption in transit or in the store). The upload must fail, and the
// image Glance made active must not stay usable.
func TestUploadMismatchDeactivates(t *testing.T) {
	const id = "6a1c1b2e-0000-4000-8000-000000000001"
	var deactivated atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v2/images":
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"` + id + `","name":"x","status":"queued"}`))
		case r.Method == http.MethodPut && r.URL.Path == "/v2/images/"+id+"/file":
			io.Copy(io.Discard, r.Body) // as Glance does; it also lets 100-continue go on
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodGet && r.URL.Path == "/v2/images/"+id:
			w.Write([]byte(`{"id":"` + id + `","name":"x","status":"active","size":5,` +
				`"checksum":"00000000000000000000000000000000","os_hash_algo":"sha512","os_hash_value":null}`))
		case r.Method == http.MethodPost && r.URL.Path == "/v2/images/"+id+"/actions/deactivate":
			deactivated.Store(true)
			w.WriteHeader(http.StatusNoContent)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(file, []byte("hello"), 0o644)
	env := map[string]string{"OS_IMAGE_URL": srv.URL, "OS_AUTH_TOKEN": "t", "OS_IMAGE_API_VERSION": "2", "OS_TOKEN_CACHE": "false"}
	code, _, stderr := run(t, env, "image-create", "--name", "x", "--disk-format", "raw", "--container-format", "bare", "--file", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
	}
	if !deactivated.Load() {
		t.Fatalf("the mismatched image was not deactivated; stderr %q", stderr)
	}
	if !strings.Contains(stderr, "md5") || !strings.Contains(stderr, "deactivated") {
		t.Fatalf("error does not say what happened: %q", stderr)
	}
}

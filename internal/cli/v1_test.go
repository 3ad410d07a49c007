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

func TestAPIVersionChoice(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "2"},
		{[]string{"--os-image-api-version", "1", "image-list"}, nil, "1"},
		{[]string{"--os_image_api_version=1", "image-list"}, nil, "1"},
		{[]string{"image-list", "--os-image-api-version", "v1"}, nil, "1"},
		{nil, map[string]string{"OS_IMAGE_API_VERSION": "1"}, "1"},
		{[]string{"--os-image-api-version", "2"}, map[string]string{"OS_IMAGE_API_VERSION": "1"}, "2"},
		// A version at the end of the image URL counts when none is given.
		{[]string{"--os-image-url", "http://h:9292/v1"}, nil, "1"},
		{nil, map[string]string{"OS_IMAGE_URL": "http://h/image/v1/"}, "1"},
		{nil, map[string]string{"OS_IMAGE_URL": "http://h:9292/v2.0"}, "2"},
		{[]string{"--os-image-url=http://h/v1", "--os-image-api-version", "2.0"}, nil, "2"},
		{[]string{"--", "--os-image-api-version", "1"}, nil, "2"},
	} {
		got, err := apiVersion(tc.args, func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("args %q env %v: %q, %v; want %q", tc.args, tc.env, got, err, tc.want)
		}
	}
	if _, err := apiVersion([]string{"--os-image-api-version", "3"}, func(string) string { return "" }); err == nil {
		t.Error("version 3 accepted")
	}
}

// v2 help points to v1 help where python-glanceclient's does, and lists
// --version; v1 help has no pointer.
func TestHelpPointsToV1(t *testing.T) {
	const pointer = "Run `glance --os-image-api-version 1 help"
	for _, tc := range []struct {
		args []string
		want string // "" for no pointer
	}{
		{[]string{"help"}, pointer + "` for v1 help"},
		{[]string{"help", "image-create"}, pointer + " image-create` for v1 help"},
		{[]string{"help", "member-list"}, pointer + " member-list` for v1 help"},
		{[]string{"help", "bash-completion"}, pointer + " bash-completion` for v1 help"},
		{[]string{"help", "image-upload"}, ""},
		{[]string{"--os-image-api-version", "1", "help"}, ""},
		{[]string{"--os-image-api-version", "1", "help", "image-create"}, ""},
	} {
		code, out, _ := run(t, nil, tc.args...)
		if code != 0 {
			t.Errorf("%q: exit %d", tc.args, code)
		}
		if tc.want == "" && strings.Contains(out, pointer) || tc.want != "" && !strings.HasSuffix(out, "\n\n"+tc.want+"\n") {
			t.Errorf("%q: help ends %q, want pointer %q", tc.args, out[max(0, len(out)-120):], tc.want)
		}
	}
	for _, v := range []string{"1", "2"} {
		_, out, _ := run(t, nil, "--os-image-api-version", v, "help")
		if !strings.Contains(out, "\nOptions:\n  --version ") {
			t.Errorf("v%s help does not list --version first:\n%s", v, out)
		}
	}
	_, out, _ := run(t, nil, "--os-image-api-version", "1", "help")
	for _, c := range v1Commands {
		if !strings.Contains(out, "    "+c+" ") {
			t.Errorf("v1 help lacks %s", c)
		}
	}
	if strings.Contains(out, "image-upload") {
		t.Error("v1 help lists the v2 command image-upload")
	}
}

// Fault injection: the server records other data than was sent. v1 can
// neither replace nor deactivate an active image's data, so the image the
// command made is deleted.
func TestV1UploadMismatchDeletes(t *testing.T) {
	const id = "6a1c1b2e-0000-4000-8000-000000000002"
	var deleted atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/images":
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"image": {"id": "`+id+`", "status": "active", "size": 5, "checksum": "00000000000000000000000000000000", "properties": {}}}`)
		case r.Method == http.MethodDelete && r.URL.Path == "/v1/images/"+id:
			deleted.Store(true)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(file, []byte("hello"), 0o644)
	env := map[string]string{"OS_IMAGE_URL": srv.URL, "OS_AUTH_TOKEN": "t", "OS_IMAGE_API_VERSION": "1", "OS_TOKEN_CACHE": "false"}
	code, _, stderr := run(t, env, "image-create", "--name", "x", "--disk-format", "raw", "--container-format", "bare", "--file", file)
	if code != 1 || !deleted.Load() {
		t.Fatalf("exit %d, deleted %v; stderr %q", code, deleted.Load(), stderr)
	}
	if !strings.Contains(stderr, "md5") || !strings.Contains(stderr, "was deleted") {
		t.Errorf("the error does not say what happened: %q", stderr)
	}
}

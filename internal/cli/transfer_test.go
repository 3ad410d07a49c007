package cli_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// stallServer serves one image whose data stops after half, then hangs
// until the client goes, unless whole is set; it answers Range requests.
// It is a fault injector, not a stand-in for Glance.
type stallServer struct {
	data    []byte
	whole   atomic.Bool
	started chan struct{}
	once    sync.Once
	files   atomic.Int32 // data requests
	mu      sync.Mutex
	ranges  []string
}

const stallID = "11111111-2222-4333-8444-555555555555"

func newStallServer(t *testing.T) (*stallServer, string) {
	s := &stallServer{data: bytes.Repeat([]byte("0123456789abcdef"), 1<<16), started: make(chan struct{})}
	sum := sha512.Sum512(s.data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/images/" + stallID:
			fmt.Fprintf(w, `{"id": %q, "name": "slow", "status": "active", "size": %d, "os_hash_algo": "sha512", "os_hash_value": %q}`,
				stallID, len(s.data), hex.EncodeToString(sum[:]))
		case "/v2/images/" + stallID + "/file":
			s.files.Add(1)
			s.mu.Lock()
			s.ranges = append(s.ranges, r.Header.Get("Range"))
			s.mu.Unlock()
			data, from := s.data, 0
			if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &from); err == nil {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(data)-1, len(data)))
				w.Header().Set("Content-Length", fmt.Sprint(len(data)-from))
				w.WriteHeader(http.StatusPartialContent)
				data = data[from:]
			} else {
				w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			}
			if s.whole.Load() {
				w.Write(data)
				return
			}
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			s.once.Do(func() { close(s.started) })
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func glanceCmd(bin, dir, url string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(bin, append([]string{"--os-image-url", url + "/v2", "--os-auth-token", "fake-token"}, args...)...)
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// TestTimeoutEndsStalledDownload: --timeout bounds a pause in the body,
// with one request (no retries), and leaves no file.
func TestTimeoutEndsStalledDownload(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/glance")
	s, url := newStallServer(t)
	dir := t.TempDir()
	cmd, stderr := glanceCmd(bin, dir, url, "--timeout", "0.5", "image-download", stallID, "--file", filepath.Join(dir, "img"))
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d (%v), want 1; stderr: %s", code, err, stderr)
	}
	if !strings.Contains(stderr.String(), "no progress for 500ms: timed out") {
		t.Errorf("stderr: %s", stderr)
	}
	if n := s.files.Load(); n != 1 {
		t.Errorf("%d data requests, want 1", n)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != ".cache" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestResumeAfterInterrupt: a download with --resume that is interrupted
// keeps its partial file, and the next run asks only for the rest.
func TestResumeAfterInterrupt(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/glance")
	s, url := newStallServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "image.raw")
	cmd, stderr := glanceCmd(bin, dir, url, "image-download", stallID, "--file", out, "--resume")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.started:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("download did not start; stderr: %s", stderr)
	}
	// The data sent before the stall may still be on its way to the file:
	// the interrupt comes once it is all there, so the test knows how much
	// the next run must skip.
	part := filepath.Join(dir, ".image.raw.part")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(part); err == nil && fi.Size() == int64(len(s.data)/2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first half never reached the partial file")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130; stderr: %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("%s exists after an interrupted download", out)
	}

	s.whole.Store(true)
	cmd, stderr = glanceCmd(bin, dir, url, "image-download", stallID, "--file", out, "--resume")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, s.data) {
		t.Fatal("the resumed file differs from the image")
	}
	want := fmt.Sprintf("bytes=%d-", len(s.data)/2)
	if len(s.ranges) != 2 || s.ranges[0] != "" || s.ranges[1] != want {
		t.Fatalf("Range headers %q, want none then %q", s.ranges, want)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Fatal("the partial file is left after the download")
	}
}

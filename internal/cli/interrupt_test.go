package cli_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// TestInterruptedDownload sends Ctrl-C (SIGINT) during a slow download:
// the exit status is 130 and no file that looks complete is left. The
// server is a fault injector (a body that stalls), not a stand-in for Glance.
func TestInterruptedDownload(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/glance")
	const id = "11111111-2222-4333-8444-555555555555"
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/images/" + id:
			fmt.Fprintf(w, `{"id": %q, "name": "slow", "status": "active", "size": 1048576, "checksum": "00000000000000000000000000000000"}`, id)
		case "/v2/images/" + id + "/file":
			w.Header().Set("Content-Length", "1048576")
			w.Write(bytes.Repeat([]byte("x"), 4096))
			w.(http.Flusher).Flush()
			close(started)
			<-r.Context().Done() // stall until the client goes away
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	out := filepath.Join(dir, "image.raw")
	cmd := exec.Command(bin, "--os-image-url", srv.URL+"/v2", "--os-auth-token", "fake-token", "image-download", id, "--file", out)
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("download did not start; stderr: %s", stderr.String())
	}
	time.Sleep(50 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d (%v), want 130; stderr: %s", code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "terminating glance client") {
		t.Errorf("stderr: %s", stderr.String())
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != ".glanceclient" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

package server

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// buildGlanced builds cmd/glanced once per test process.
func buildGlanced(t *testing.T, _ string) string {
	t.Helper()
	return testenv.BuildBinary(t, "./cmd/glanced")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startGlanced runs the binary and waits for its health check.
func startGlanced(t *testing.T, bin, addr, dataDir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--listen", addr, "--data-dir", dataDir, "--log-level", "warn")
	logf, _ := os.OpenFile(filepath.Join(filepath.Dir(dataDir), "glanced.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthcheck")
		if err == nil {
			res.Body.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("glanced did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// endlessBody feeds an upload until the server dies.
type endlessBody struct{ chunk []byte }

func (b endlessBody) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return copy(p, b.chunk), nil
}

// checkConsistent verifies the invariants a crash must not break: every
// active image has its data with the recorded size and checksum, no other
// image has data, and no temporary file is left.
func checkConsistent(t *testing.T, url, dataDir string) (active, other int) {
	t.Helper()
	r := do(t, "GET", url+"/v2/images?limit=1000&visibility=all", nil)
	if r.code != 200 {
		t.Fatalf("list: %d %s", r.code, r.body)
	}
	withData := map[string]bool{}
	for _, x := range r.json(t)["images"].([]any) {
		im := x.(map[string]any)
		id := im["id"].(string)
		switch im["status"] {
		case "active":
			active++
			withData[id] = true
			b, err := os.ReadFile(filepath.Join(dataDir, "images", id))
			if err != nil {
				t.Errorf("active image %s without data: %v", id, err)
				continue
			}
			sum := md5.Sum(b)
			if float64(len(b)) != im["size"] || hex.EncodeToString(sum[:]) != im["checksum"] {
				t.Errorf("active image %s: data %d bytes md5 %x, recorded %v %v", id, len(b), sum, im["size"], im["checksum"])
			}
		case "saving", "importing":
			t.Errorf("image %s still %v after restart", id, im["status"])
		default:
			other++
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dataDir, "images"))
	for _, e := range ents {
		if !withData[e.Name()] {
			t.Errorf("orphaned file after restart: images/%s", e.Name())
		}
	}
	return active, other
}

// TestKill9DuringUploads kills a real glanced process with SIGKILL while
// uploads run, restarts it on the same data and checks nothing is active
// with missing or wrong data and no file is orphaned.
func TestKill9DuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: kill -9 test builds and runs glanced; not in -short")
	}
	dir := t.TempDir()
	bin := buildGlanced(t, dir)
	dataDir := filepath.Join(dir, "data")
	addr := freeAddr(t)
	url := "http://" + addr
	cmd := startGlanced(t, bin, addr, dataDir)
	ts := &testServer{URL: url}

	good := bytes.Repeat([]byte("survives the crash "), 10000)
	keep := ts.create(t, map[string]any{"name": "keep", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload keep", do(t, "PUT", url+"/v2/images/"+keep+"/file", good), 204)

	// Round 1: uploads that never end, killed mid-stream.
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, ts.create(t, map[string]any{"name": fmt.Sprint("inflight-", i), "disk_format": "raw", "container_format": "bare"}))
	}
	staged := ts.create(t, map[string]any{"name": "staging", "disk_format": "raw", "container_format": "bare"})
	var wg sync.WaitGroup
	send := func(path string) {
		defer wg.Done()
		req, _ := http.NewRequest("PUT", url+path, endlessBody{bytes.Repeat([]byte("z"), 64<<10)})
		req.Header.Set("Content-Type", "application/octet-stream")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	for _, id := range ids {
		wg.Add(1)
		go send("/v2/images/" + id + "/file")
	}
	wg.Add(1)
	go send("/v2/images/" + staged + "/stage")
	for _, id := range ids {
		waitStatus(t, ts, id, "saving")
	}
	waitStatus(t, ts, staged, "uploading")
	time.Sleep(200 * time.Millisecond) // let data reach the disk
	if tmp, _ := filepath.Glob(filepath.Join(dataDir, "images", ".tmp-*")); len(tmp) == 0 {
		t.Fatal("no upload in progress on disk before the kill")
	}
	cmd.Process.Kill()
	cmd.Wait()
	wg.Wait()

	cur := startGlanced(t, bin, addr, dataDir)
	for _, id := range ids {
		if st := ts.image(t, id)["status"]; st != "queued" {
			t.Errorf("interrupted upload %s is %v after restart, want queued", id, st)
		}
	}
	if st := ts.image(t, staged)["status"]; st != "queued" {
		t.Errorf("interrupted stage is %v after restart, want queued", st)
	}
	if ents, _ := os.ReadDir(filepath.Join(dataDir, "staging")); len(ents) != 0 {
		t.Errorf("staging files left: %v", ents)
	}
	if r := do(t, "GET", url+"/v2/images/"+keep+"/file", nil); r.code != 200 || !bytes.Equal(r.body, good) {
		t.Errorf("completed image damaged by the crash: %d, %d bytes", r.code, len(r.body))
	}
	checkConsistent(t, url, dataDir)
	wantCode(t, "re-upload after crash", do(t, "PUT", url+"/v2/images/"+ids[0]+"/file", []byte("again")), 204)

	// Round 2: many short uploads, killed at an arbitrary moment, so some
	// are caught between the data rename and the metadata commit.
	for round := 0; round < 3; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if !createAndUpload(url, fmt.Sprintf("r%d-w%d-%d", round, w, i), bytes.Repeat([]byte{byte(i)}, 200<<10)) {
						return
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(150+round*70) * time.Millisecond)
		cur.Process.Kill()
		cur.Wait()
		close(stop)
		wg.Wait()
		cur = startGlanced(t, bin, addr, dataDir)
		active, other := checkConsistent(t, url, dataDir)
		t.Logf("round %d: %d active, %d not active after kill -9", round, active, other)
	}
}

// createAndUpload reports whether the server was still there.
func createAndUpload(url, name string, data []byte) bool {
	res, err := http.Post(url+"/v2/images", "application/json",
		strings.NewReader(`{"name": "`+name+`", "disk_format": "raw", "container_format": "bare"}`))
	if err != nil {
		return false
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	i := strings.Index(string(b), `"id": "`)
	if res.StatusCode != 201 || i < 0 {
		return false
	}
	req, _ := http.NewRequest("PUT", url+"/v2/images/"+string(b[i+7:i+43])+"/file", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return true
}

// TestSIGTERMFinishesUpload sends SIGTERM to a built glanced in the middle of
// an upload: the upload completes, then the process exits 0.
func TestSIGTERMFinishesUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: builds and runs glanced; not in -short")
	}
	dir := t.TempDir()
	bin := buildGlanced(t, dir)
	addr := freeAddr(t)
	url := "http://" + addr
	cmd := startGlanced(t, bin, addr, filepath.Join(dir, "data"))
	ts := &testServer{URL: url}
	id := ts.create(t, map[string]any{"name": "term", "disk_format": "raw", "container_format": "bare"})
	body := &slowBody{first: []byte("before SIGTERM,"), rest: []byte(" after SIGTERM"), sent: make(chan struct{}), release: make(chan struct{})}
	got := make(chan resp, 1)
	go func() {
		req, _ := http.NewRequest("PUT", url+"/v2/images/"+id+"/file", body)
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- resp{code: -1, body: []byte(err.Error())}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- resp{code: res.StatusCode, body: b}
	}()
	<-body.sent
	waitStatus(t, ts, id, "saving")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	close(body.release)
	if r := <-got; r.code != 204 {
		t.Fatalf("upload across SIGTERM: %d %s", r.code, r.body)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("glanced exit after SIGTERM: %v", err)
	}
	startGlanced(t, bin, addr, filepath.Join(dir, "data"))
	im := ts.image(t, id)
	if im["status"] != "active" || im["size"] != float64(len("before SIGTERM, after SIGTERM")) {
		t.Fatalf("image after SIGTERM and restart: %v", im)
	}
}

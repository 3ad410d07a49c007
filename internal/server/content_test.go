package server

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
)

// qcow2Header is a minimal qcow2 image: a header of the given version
// presenting vsize bytes.
func qcow2Header(vsize int64, version uint32) []byte {
	b := make([]byte, 1024)
	copy(b, "QFI\xfb")
	binary.BigEndian.PutUint32(b[4:], version)
	binary.BigEndian.PutUint32(b[20:], 16) // cluster bits
	binary.BigEndian.PutUint64(b[24:], uint64(vsize))
	return b
}

// qemuImage makes an image with qemu-img and returns its bytes and the
// virtual size qemu-img reports; the test is skipped, loudly, without it.
func qemuImage(t *testing.T, format, opts, size string) ([]byte, int64) {
	t.Helper()
	qemu, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("SKIPPED: qemu-img is not installed (Debian package qemu-utils)")
	}
	name := filepath.Join(t.TempDir(), "img")
	args := []string{"create", "-f", format}
	if opts != "" {
		args = append(args, "-o", opts)
	}
	args = append(args, name)
	if size != "" {
		args = append(args, size)
	}
	if out, err := exec.Command(qemu, args...).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img %v: %v: %s", args, err, out)
	}
	out, err := exec.Command(qemu, "info", "-f", format, "--output=json", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	json.Unmarshal(out, &info)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data, info.VirtualSize
}

// noData fails the test if the default store holds data for id.
func noData(t *testing.T, ts *testServer, id string) {
	t.Helper()
	if _, err := ts.stores.byID[ts.stores.def].Size(context.Background(), id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("image %s: refused data left in the store (%v)", id, err)
	}
	if _, err := ts.staging.Size(context.Background(), id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("image %s: refused data left in staging (%v)", id, err)
	}
}

func TestUploadSizeHeader(t *testing.T) {
	ts := startServer(t, Config{MaxImageSize: 1 << 20})
	u := ts.URL + "/v2/images/"
	data := []byte(strings.Repeat("0123456789", 100))
	newImage := func() string {
		return ts.create(t, map[string]any{"name": "sized", "disk_format": "raw", "container_format": "bare"})
	}
	for _, c := range []struct {
		what, path, size string
		code             int
		msg              string
	}{
		{"upload, fewer bytes than declared", "/file", "1001", 400, "Size mismatch: expected 1001 bytes, got 1000 bytes"},
		{"upload, more bytes than declared", "/file", "999", 400, "Size exceeds: expected 999 bytes, got 1000 bytes"},
		{"upload, malformed size", "/file", "12abc", 400, "Invalid or missing image size in request headers."},
		{"upload, negative size", "/file", "-1", 400, "Invalid or missing image size in request headers."},
		{"upload, declared past the cap", "/file", "1048577", 413, "larger than 1048576 bytes"},
		{"stage, fewer bytes than declared", "/stage", "5000", 400, "Size mismatch: expected 5000 bytes, got 1000 bytes"},
		{"stage, more bytes than declared", "/stage", "10", 400, "Size exceeds: expected 10 bytes, got 11 bytes"},
		{"stage, declared past the cap", "/stage", "99999999999", 413, "storage quota"},
	} {
		id := newImage()
		r := do(t, "PUT", u+id+c.path, data, sizeHeader, c.size)
		wantCode(t, c.what, r, c.code)
		if !strings.Contains(string(r.body), c.msg) {
			t.Errorf("%s: message %s, want %q", c.what, r.body, c.msg)
		}
		if im := ts.image(t, id); im["status"] != "queued" || im["size"] != nil {
			t.Errorf("%s: left status %v size %v", c.what, im["status"], im["size"])
		}
		noData(t, ts, id)
	}
	for _, size := range []string{"1000", "0"} { // 0 declares nothing, as in glance_store
		for _, path := range []string{"/file", "/stage"} {
			id := newImage()
			wantCode(t, path+" of the declared size "+size, do(t, "PUT", u+id+path, data, sizeHeader, size), 204)
			if im := ts.image(t, id); im["size"] != float64(1000) {
				t.Errorf("%s: size %v", path, im["size"])
			}
		}
	}

	// A size past the cap is refused before the body is read: this body
	// never ends, yet the answer comes.
	id := newImage()
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "PUT", u+id+"/file", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(sizeHeader, "2000000")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("declared past the cap: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("declared past the cap, body pending: %d", res.StatusCode)
	}
}

// TestContentChecks uploads and imports images of qemu-img whose content
// does or does not match their disk_format, as Glance 30 checks them.
func TestContentChecks(t *testing.T) {
	qcow, qcowV := qemuImage(t, "qcow2", "", "10M")
	vhdx, vhdxV := qemuImage(t, "vhdx", "", "9M")
	vmdk, vmdkV := qemuImage(t, "vmdk", "subformat=streamOptimized", "5M")
	base := filepath.Join(t.TempDir(), "base.qcow2")
	exec.Command("qemu-img", "create", "-f", "qcow2", base, "1M").Run()
	backed, _ := qemuImage(t, "qcow2", "backing_file="+base+",backing_fmt=qcow2", "")
	dataFile, _ := qemuImage(t, "qcow2", "data_file="+filepath.Join(t.TempDir(), "d.raw"), "2M")
	flat, _ := qemuImage(t, "vmdk", "subformat=monolithicFlat", "1M")
	random := []byte(strings.Repeat("not a disk header ", 1000))

	enforce := startServer(t, Config{})
	warn := startServer(t, Config{Content: ContentChecks{Mode: ContentWarn}})
	off := startServer(t, Config{Content: ContentChecks{Mode: ContentOff}})
	for _, c := range []struct {
		what       string
		ts         *testServer
		disk, cont string
		data       []byte
		code       int
		vsize      any
	}{
		{"qcow2", enforce, "qcow2", "bare", qcow, 204, float64(qcowV)},
		{"vhdx", enforce, "vhdx", "bare", vhdx, 204, float64(vhdxV)},
		{"streamOptimized vmdk", enforce, "vmdk", "bare", vmdk, 204, float64(vmdkV)},
		{"raw holding qcow2", enforce, "raw", "bare", qcow, 204, float64(len(qcow))},
		{"ami holding no known format", enforce, "ami", "bare", random, 204, nil},
		{"qcow2 holding text", enforce, "qcow2", "bare", random, 415, nil},
		{"vmdk holding qcow2", enforce, "vmdk", "bare", qcow, 415, nil},
		{"ami holding qcow2", enforce, "ami", "bare", qcow, 415, nil},
		{"qcow2 with a backing file", enforce, "qcow2", "bare", backed, 415, nil},
		{"raw holding qcow2 with a backing file", enforce, "raw", "bare", backed, 415, nil},
		{"qcow2 with a data file", enforce, "qcow2", "bare", dataFile, 415, nil},
		{"monolithicFlat vmdk descriptor", enforce, "vmdk", "bare", flat, 415, nil},
		{"qcow2 holding text in ovf", enforce, "qcow2", "ovf", random, 204, nil},
		{"warn: qcow2 holding text", warn, "qcow2", "bare", random, 204, nil},
		{"warn: qcow2 with a backing file", warn, "qcow2", "bare", backed, 415, nil},
		{"off: qcow2 with a backing file", off, "qcow2", "bare", backed, 204, float64(1 << 20)},
	} {
		u := c.ts.URL + "/v2/images/"
		id := c.ts.create(t, map[string]any{"name": c.what, "disk_format": c.disk, "container_format": c.cont})
		r := do(t, "PUT", u+id+"/file", c.data)
		wantCode(t, c.what, r, c.code)
		im := c.ts.image(t, id)
		if c.code != 204 {
			if im["status"] != "queued" {
				t.Errorf("%s: refused upload left status %v", c.what, im["status"])
			}
			noData(t, c.ts, id)
			continue
		}
		if im["status"] != "active" || im["virtual_size"] != c.vsize {
			t.Errorf("%s: status %v virtual_size %v, want active %v", c.what, im["status"], im["virtual_size"], c.vsize)
		}
	}
	if r := do(t, "PUT", enforce.URL+"/v2/images/"+enforce.create(t, map[string]any{"disk_format": "qcow2", "container_format": "bare"})+"/file", backed); !strings.Contains(string(r.body), "Image failed safety checks") {
		t.Errorf("safety refusal says %s", r.body)
	}

	// Imports are checked as they store the data: a failed task, the
	// image back where it was, nothing stored.
	u := enforce.URL + "/v2/images/"
	gd := enforce.create(t, map[string]any{"name": "gd", "disk_format": "vmdk", "container_format": "bare"})
	wantCode(t, "stage", do(t, "PUT", u+gd+"/stage", qcow), 204)
	wantCode(t, "import", do(t, "POST", u+gd+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}}), 202)
	if im := waitTask(t, enforce, gd); im["status"] != "uploading" || im["os_glance_failed_import"] != defaultStoreID {
		t.Errorf("refused glance-direct import left %v", im)
	}
	tasks := do(t, "GET", u+gd+"/tasks", nil).json(t)["tasks"].([]any)
	if task := tasks[0].(map[string]any); task["status"] != "failure" || !strings.Contains(task["message"].(string), "does not match") {
		t.Errorf("task %v", task)
	}
	src := enforce.create(t, map[string]any{"name": "src", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "raw upload", do(t, "PUT", u+src+"/file", backed), 415)
	off.create(t, map[string]any{})
	offSrc := off.create(t, map[string]any{"name": "src", "disk_format": "raw", "container_format": "bare"})
	wantCode(t, "upload to the server without checks", do(t, "PUT", off.URL+"/v2/images/"+offSrc+"/file", backed), 204)
	wd := enforce.create(t, map[string]any{"name": "wd", "disk_format": "qcow2", "container_format": "bare"})
	wantCode(t, "web-download", do(t, "POST", u+wd+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": off.URL + "/v2/images/" + offSrc + "/file"}}), 202)
	if im := waitTask(t, enforce, wd); im["status"] != "queued" {
		t.Errorf("refused web-download left %v", im)
	}
	noData(t, enforce, wd)
}

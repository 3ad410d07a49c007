package server

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pyV1Doc is the v1 example of python-glanceclient's documentation, run
// unchanged but for the endpoint: an image created by name (queued), its
// data uploaded by an update (active), a custom property, the data read in
// chunks, the image deleted.
const pyV1Doc = `
import sys, io, hashlib
from glanceclient import Client
glance = Client('1', endpoint=sys.argv[1], token=sys.argv[2])
image = glance.images.create(name="myimage")
assert image.status == 'queued', image.status
data = b'python-glanceclient v1 ' * 5000
image.update(data=io.BytesIO(data), disk_format='raw', container_format='bare')
image = glance.images.get(image.id)
assert image.status == 'active' and image.size == len(data), image
assert image.checksum == hashlib.md5(data).hexdigest()
image.update(properties=dict(my_custom_property='value'), purge_props=False)
image = glance.images.get(image.id)
assert image.properties['my_custom_property'] == 'value', image.properties
back = b''
for chunk in image.data():
    back += chunk
assert back == data
assert image.id in [i.id for i in glance.images.list()]
glance.image_members.create(image, 'other-project', can_share=True)
ms = glance.image_members.list(image=image)
assert [(m.member_id, m.can_share) for m in ms] == [('other-project', True)], ms
glance.image_members.delete(image.id, 'other-project')
image.delete()
try:
    glance.images.get(image.id)
    raise SystemExit('image still there after delete')
except Exception as e:
    assert 'NotFound' in type(e).__name__ or '404' in str(e), repr(e)
print('PYTHON-V1-OK')
`

// TestV1PythonGlanceclient runs Debian's python-glanceclient 4.1, library
// and CLI, with API version 1 against glanced.
func TestV1PythonGlanceclient(t *testing.T) {
	needPython(t, "glanceclient")
	ts := startServer(t, Config{EnableV1: true})
	out, err := exec.Command(debianPython, "-c", pyV1Doc, ts.URL, "unused-in-noauth").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("PYTHON-V1-OK")) {
		t.Fatalf("python-glanceclient v1 flow: %v\n%s", err, out)
	}

	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.raw")
	os.WriteFile(disk, []byte("cli data\n"), 0o600)
	glance := func(args ...string) string {
		t.Helper()
		// stdin closed: python-glanceclient reads image data from any other stdin.
		cmd := exec.Command("sh", append([]string{"-c", `exec "$0" /usr/bin/glance --os-image-api-version 1 "$@" <&-`, debianPython}, args...)...)
		cmd.Env = append(os.Environ(), "OS_IMAGE_URL="+ts.URL, "OS_AUTH_TOKEN=unused", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("glance %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out1 := glance("image-create", "--name", "py-cli", "--property", "distro=cirros")
	if !strings.Contains(out1, "| status ") || !strings.Contains(out1, "queued") || !strings.Contains(out1, "| Property 'distro' | cirros") {
		t.Fatalf("image-create:\n%s", out1)
	}
	var id string
	for _, line := range strings.Split(out1, "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[1] == "id" {
			id = f[3]
		}
	}
	out1 = glance("image-update", "--disk-format", "raw", "--container-format", "bare", "--file", disk, "py-cli")
	if !strings.Contains(out1, "active") || !strings.Contains(out1, md5Hex([]byte("cli data\n"))) {
		t.Fatalf("image-update with data:\n%s", out1)
	}
	if out1 = glance("image-list", "--property-filter", "distro=cirros"); !strings.Contains(out1, "py-cli") {
		t.Fatalf("image-list:\n%s", out1)
	}
	glance("image-download", "--file", filepath.Join(dir, "out"), "py-cli")
	if b, _ := os.ReadFile(filepath.Join(dir, "out")); string(b) != "cli data\n" {
		t.Fatalf("image-download wrote %q", b)
	}
	glance("member-create", "--can-share", "py-cli", "beta")
	if out1 = glance("member-list", "--image-id", id); !strings.Contains(out1, "beta") || !strings.Contains(out1, "True") {
		t.Fatalf("member-list:\n%s", out1)
	}
	glance("member-delete", id, "beta")
	if out1 = glance("image-show", "py-cli"); !strings.Contains(out1, "| Property 'distro' | cirros") ||
		!strings.Contains(out1, "| is_public ") || !strings.Contains(out1, md5Hex([]byte("cli data\n"))) {
		t.Fatalf("image-show:\n%s", out1)
	}
	if r := do(t, "GET", ts.URL+"/v1/images/"+id+"/members", nil); strings.Contains(string(r.body), "beta") {
		t.Fatalf("member-delete left %s", r.body)
	}
	glance("image-delete", "py-cli")
	if r := do(t, "HEAD", ts.URL+"/v1/images/"+id, nil); r.code != 404 {
		t.Fatalf("HEAD after image-delete: %d", r.code)
	}
}

// TestV1MixedWithV2 uses one image through both APIs: what one writes the
// other reads, with statuses, visibility, properties, checksums and data
// mapped as Glance did.
func TestV1MixedWithV2(t *testing.T) {
	ts := startServer(t, Config{EnableV1: true})
	data := []byte("mixed v1 and v2")
	im := ts.v1Create(t, data, "x-image-meta-name", "mixed", "x-image-meta-disk_format", "raw",
		"x-image-meta-container_format", "bare", "x-image-meta-property-foo", "bar")
	id := im["id"].(string)
	v2 := ts.image(t, id)
	if v2["status"] != "active" || v2["visibility"] != "shared" || v2["foo"] != "bar" || v2["checksum"] != md5Hex(data) ||
		v2["os_hash_algo"] != "sha512" || v2["size"] != float64(len(data)) || v2["owner"] != NoAuthProject {
		t.Fatalf("v1 image through v2: %v", v2)
	}
	if r := do(t, "GET", ts.URL+"/v2/images/"+id+"/file", nil); string(r.body) != string(data) {
		t.Fatalf("v2 download of v1 data: %q", r.body)
	}
	wantCode(t, "v1 public", do(t, "PUT", ts.URL+"/v1/images/"+id, nil, "x-image-meta-is_public", "True",
		"x-glance-registry-purge-props", "false"), 200)
	if v := ts.image(t, id)["visibility"]; v != "public" {
		t.Errorf("is_public true shows in v2 as %v", v)
	}
	wantCode(t, "v2 community", do(t, "PATCH", ts.URL+"/v2/images/"+id,
		[]map[string]any{{"op": "replace", "path": "/visibility", "value": "community"}},
		"Content-Type", "application/openstack-images-v2.1-json-patch"), 200)
	if r := do(t, "HEAD", ts.URL+"/v1/images/"+id, nil); r.h.Get("X-Image-Meta-Is_public") != "False" {
		t.Errorf("a community image in v1: is_public %q", r.h.Get("X-Image-Meta-Is_public"))
	}

	id2 := ts.create(t, map[string]any{"name": "from-v2", "disk_format": "raw", "container_format": "bare",
		"visibility": "private", "x": "y"})
	r := do(t, "HEAD", ts.URL+"/v1/images/"+id2, nil)
	if r.h.Get("X-Image-Meta-Status") != "queued" || r.h.Get("X-Image-Meta-Property-X") != "y" || r.h.Get("X-Image-Meta-Is_public") != "False" {
		t.Errorf("v2 image through v1: %v", r.h)
	}
	qcow := append([]byte("QFI\xfb"), make([]byte, 60)...)
	wantCode(t, "v1 upload to a v2 image", do(t, "PUT", ts.URL+"/v1/images/"+id2, qcow), 200)
	if v2 := ts.image(t, id2); v2["status"] != "active" || v2["checksum"] != md5Hex(qcow) || v2["x"] != "y" || v2["visibility"] != "private" {
		t.Errorf("after a v1 upload, v2 shows %v", v2)
	}
	wantCode(t, "v2 deactivate", do(t, "POST", ts.URL+"/v2/images/"+id2+"/actions/deactivate", nil), 204)
	wantCode(t, "v1 data of a deactivated image", do(t, "GET", ts.URL+"/v1/images/"+id2, nil), 403)
	if r := do(t, "HEAD", ts.URL+"/v1/images/"+id2, nil); r.h.Get("X-Image-Meta-Status") != "deactivated" {
		t.Errorf("deactivated in v1: %v", r.h)
	}

	id3 := ts.v1Create(t, nil, "x-image-meta-name", "shared")["id"].(string)
	wantCode(t, "v1 member", do(t, "PUT", ts.URL+"/v1/images/"+id3+"/members/beta", nil), 204)
	r = do(t, "GET", ts.URL+"/v2/images/"+id3+"/members", nil)
	if !strings.Contains(string(r.body), `"member_id": "beta"`) || !strings.Contains(string(r.body), `"status": "pending"`) {
		t.Errorf("a v1 member through v2: %s", r.body)
	}
	wantCode(t, "v2 delete", do(t, "DELETE", ts.URL+"/v2/images/"+id3, nil), 204)
	wantCode(t, "v1 HEAD of a v2-deleted image", do(t, "HEAD", ts.URL+"/v1/images/"+id3, nil), 404)
}

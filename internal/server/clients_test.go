package server

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

const debianPython = "/usr/bin/python3"

// pyFlow drives python-glanceclient's library through a whole image life.
const pyFlow = `
import sys, io, hashlib
from glanceclient import Client
gc = Client('2', endpoint=sys.argv[1], token=sys.argv[2])
img = gc.images.create(name='py-flow', disk_format='raw', container_format='bare', foo='bar')
assert img['status'] == 'queued', img
data = b'python-glanceclient data ' * 1000
gc.images.upload(img['id'], io.BytesIO(data), image_size=len(data))
got = gc.images.get(img['id'])
assert got['status'] == 'active', got['status']
assert got['checksum'] == hashlib.md5(data).hexdigest(), got
assert got['os_hash_value'] == hashlib.sha512(data).hexdigest(), got
assert got['size'] == len(data)
assert img['id'] in [i['id'] for i in gc.images.list()]
gc.images.update(img['id'], name='py-flow-renamed', extra='x', remove_props=['foo'])
got = gc.images.get(img['id'])
assert got['name'] == 'py-flow-renamed' and got['extra'] == 'x' and 'foo' not in got, got
assert b''.join(gc.images.data(img['id'])) == data
gc.image_tags.update(img['id'], 'tag1')
assert 'tag1' in gc.images.get(img['id'])['tags']
gc.images.delete(img['id'])
try:
    gc.images.get(img['id'])
    raise SystemExit('image still there after delete')
except Exception as e:
    assert '404' in str(e) or 'NotFound' in type(e).__name__, repr(e)
print('PYTHON-FLOW-OK')
`

func needPython(t *testing.T, module string) {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("SKIP: %s not installed; the Python client flow cannot run", debianPython)
	}
	if out, err := exec.Command(debianPython, "-c", "import "+module).CombinedOutput(); err != nil {
		t.Skipf("SKIP: Python module %s missing (%v): %s", module, err, out)
	}
}

func runPyFlow(t *testing.T, endpoint, token string) {
	t.Helper()
	out, err := exec.Command(debianPython, "-c", pyFlow, endpoint, token).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("PYTHON-FLOW-OK")) {
		t.Fatalf("python-glanceclient flow failed: %v\n%s", err, out)
	}
}

func TestPythonGlanceclientFlow(t *testing.T) {
	needPython(t, "glanceclient")
	ts := startServer(t, Config{})
	runPyFlow(t, ts.URL, "unused-in-noauth")
}

// TestOpenstackClientFlow runs "openstack image ..." unchanged against glanced.
func TestOpenstackClientFlow(t *testing.T) {
	osc, err := exec.LookPath("openstack")
	if err != nil {
		t.Skip("SKIP: the openstack command is not installed")
	}
	ts := startServer(t, Config{})
	dir := t.TempDir()
	src := filepath.Join(dir, "disk.img")
	os.WriteFile(src, bytes.Repeat([]byte("openstackclient "), 4096), 0o600)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(osc, append([]string{"--os-auth-type", "none", "--os-endpoint", ts.URL}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	id := run("image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", src, "osc-image", "-f", "value", "-c", "id")
	if !strings.Contains(run("image", "list", "-f", "value", "-c", "ID", "-c", "Status"), id+" active") {
		t.Fatal("uploaded image not listed as active")
	}
	run("image", "set", "--name", "osc-renamed", "--property", "k=v", id)
	if show := run("image", "show", id, "-f", "value", "-c", "name"); show != "osc-renamed" {
		t.Fatalf("show after set: %q", show)
	}
	dst := filepath.Join(dir, "out.img")
	run("image", "save", "--file", dst, id)
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(dst)
	if !bytes.Equal(a, b) {
		t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(b), len(a))
	}
	run("image", "delete", id)
	if list := run("image", "list", "-f", "value", "-c", "ID"); strings.Contains(list, id) {
		t.Fatal("deleted image still listed")
	}
}

// TestKeystoneMode validates real tokens against the peer's Keystone and
// applies Glance's default policies, then runs the Python flow as a member.
func TestKeystoneMode(t *testing.T) {
	peer := testenv.Peer(t)
	ts := startServer(t, Config{Auth: "keystone", Keystone: KeystoneConfig{
		AuthURL: peer.KeystoneURL, Username: peer.Glance.Name, Password: peer.Glance.Password,
		ProjectName: peer.Glance.Project, UserDomainName: peer.Glance.Domain, ProjectDomainName: peer.Glance.Domain,
	}})
	alpha := peer.Auth(t, peer.AlphaMember)
	reader := peer.Token(t, peer.AlphaReader)
	beta := peer.Auth(t, peer.BetaMember)

	r := do(t, "GET", ts.URL+"/v2/images", nil)
	if r.code != 401 || !strings.HasPrefix(r.h.Get("WWW-Authenticate"), "Keystone uri=") {
		t.Fatalf("no token: %d %q", r.code, r.h.Get("WWW-Authenticate"))
	}
	wantCode(t, "bad token", do(t, "GET", ts.URL+"/v2/images", nil, "X-Auth-Token", "bogus"), 401)
	wantCode(t, "versions need no token", do(t, "GET", ts.URL+"/", nil), 300)

	r = do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "ks", "disk_format": "raw", "container_format": "bare"}, "X-Auth-Token", alpha.Token)
	wantCode(t, "member creates", r, 201)
	id := r.json(t)["id"].(string)
	if owner := r.json(t)["owner"]; owner != alpha.ProjectID {
		t.Fatalf("owner %v, want %s", owner, alpha.ProjectID)
	}
	u := ts.URL + "/v2/images/" + id
	wantCode(t, "reader creates", do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "r"}, "X-Auth-Token", reader), 403)
	wantCode(t, "reader reads", do(t, "GET", u, nil, "X-Auth-Token", reader), 200)
	wantCode(t, "reader patches", do(t, "PATCH", u, []map[string]any{{"op": "replace", "path": "/name", "value": "x"}}, "X-Auth-Token", reader, "Content-Type", patchV21), 403)
	wantCode(t, "reader uploads", do(t, "PUT", u+"/file", []byte("x"), "X-Auth-Token", reader), 403)
	wantCode(t, "member creates public", do(t, "POST", ts.URL+"/v2/images", map[string]any{"visibility": "public"}, "X-Auth-Token", alpha.Token), 403)
	wantCode(t, "member creates for another project", do(t, "POST", ts.URL+"/v2/images", map[string]any{"owner": beta.ProjectID}, "X-Auth-Token", alpha.Token), 403)
	wantCode(t, "other project cannot see", do(t, "GET", u, nil, "X-Auth-Token", beta.Token), 404)

	wantCode(t, "share", do(t, "POST", u+"/members", map[string]any{"member": beta.ProjectID}, "X-Auth-Token", alpha.Token), 200)
	wantCode(t, "member sees shared", do(t, "GET", u, nil, "X-Auth-Token", beta.Token), 200)
	wantCode(t, "member cannot modify", do(t, "DELETE", u, nil, "X-Auth-Token", beta.Token), 403)
	wantCode(t, "owner cannot accept", do(t, "PUT", u+"/members/"+beta.ProjectID, map[string]any{"status": "accepted"}, "X-Auth-Token", alpha.Token), 403)
	inList := func() bool {
		r := do(t, "GET", ts.URL+"/v2/images", nil, "X-Auth-Token", beta.Token)
		return strings.Contains(string(r.body), id)
	}
	if inList() {
		t.Fatal("pending shared image in the member's default list")
	}
	wantCode(t, "member accepts", do(t, "PUT", u+"/members/"+beta.ProjectID, map[string]any{"status": "accepted"}, "X-Auth-Token", beta.Token), 200)
	if !inList() {
		t.Fatal("accepted shared image missing from the member's list")
	}
	wantCode(t, "admin deletes", do(t, "DELETE", u, nil, "X-Auth-Token", peer.Token(t, peer.Admin)), 204)

	needPython(t, "glanceclient")
	runPyFlow(t, ts.URL, alpha.Token)
}

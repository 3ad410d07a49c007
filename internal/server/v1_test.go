package server

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
	"github.com/go-glance/glance/internal/webfetch"
)

// v1Create creates an image through v1 with the headers given (name, value,
// ...) and data when not nil, and returns the image record.
func (ts *testServer) v1Create(t testing.TB, data []byte, hdr ...string) map[string]any {
	t.Helper()
	var body any
	if data != nil {
		body = data
	}
	r := do(t, "POST", ts.URL+"/v1/images", body, hdr...)
	if r.code != 201 {
		t.Fatalf("v1 create: %d %s", r.code, r.body)
	}
	return r.json(t)["image"].(map[string]any)
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestV1Setting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "glanced.yaml")
	os.WriteFile(file, []byte("enable-v1: true\n"), 0o600)
	for _, c := range []struct {
		args []string
		env  string
		want bool
	}{{nil, "", false}, {[]string{"--enable-v1=true"}, "", true}, {nil, "1", true},
		{[]string{"--config", file}, "", true}, {[]string{"--config", file, "--enable-v1=false"}, "", false}} {
		cfg, err := LoadConfig(c.args, func(k string) string { return map[string]string{"GLANCED_ENABLE_V1": c.env}[k] }, io.Discard)
		if err != nil || cfg.EnableV1 != c.want {
			t.Errorf("%v with GLANCED_ENABLE_V1=%q: EnableV1 %v, %v; want %v", c.args, c.env, cfg.EnableV1, err, c.want)
		}
	}
	if _, err := LoadConfig([]string{"--enable-v1=maybe"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("--enable-v1=maybe accepted")
	}
}

func TestV1Disabled(t *testing.T) {
	ts := startServer(t, Config{})
	r := do(t, "GET", ts.URL+"/v1/images", nil)
	wantCode(t, "v1 when disabled", r, 300)
	if strings.Contains(string(r.body), "v1") {
		t.Errorf("versions document lists v1 when disabled: %s", r.body)
	}
	on := startServer(t, Config{EnableV1: true})
	r = do(t, "GET", on.URL+"/versions", nil)
	for _, want := range []string{`{"id": "v1.1", "status": "DEPRECATED", "links": [{"rel": "self", "href": "` + on.URL + `/v1/"}]}`,
		`"id": "v1.0", "status": "DEPRECATED"`, `"id": "v2.0", "status": "SUPPORTED"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("versions document misses %s: %s", want, r.body)
		}
	}
	wantCode(t, "/v1.1/images", do(t, "GET", on.URL+"/v1.1/images", nil), 200)
	wantCode(t, "v1 by Accept", do(t, "GET", on.URL+"/images/detail", nil, "Accept", "application/vnd.openstack.images-v1"), 200)
	wantCode(t, "HEAD detail", do(t, "HEAD", on.URL+"/v1/images/detail", nil), 405)
	wantCode(t, "DELETE detail", do(t, "DELETE", on.URL+"/v1/images/detail", nil), 405)
}

// TestV1Headers checks the header scheme of the v1 section of the
// reference spec: names with '-' or '_', percent-decoded values in,
// percent-encoded values out where they need it, unknown fields refused.
func TestV1Headers(t *testing.T) {
	ts := startServer(t, Config{EnableV1: true})
	im := ts.v1Create(t, nil, "x-image-meta-name", "caf%C3%A9%20100%25", "X-Image-Meta-Disk-Format", "raw", "x-image-meta-store", "file",
		"x-image-meta-container_format", "bare", "x-image-meta-property-os-distro", "Fedora%209",
		"x-image-meta-property-plain_key", "50%", "x-image-meta-min-ram", "64")
	id := im["id"].(string)
	if im["name"] != "café 100%" || im["disk_format"] != "raw" || im["container_format"] != "bare" ||
		im["min_ram"] != float64(64) || im["is_public"] != false || im["status"] != "queued" {
		t.Fatalf("created %v", im)
	}
	props := im["properties"].(map[string]any)
	if props["os_distro"] != "Fedora 9" || props["plain_key"] != "50%" {
		t.Errorf("properties %v", props)
	}
	r := do(t, "HEAD", ts.URL+"/v1/images/"+id, nil)
	wantCode(t, "HEAD", r, 200)
	for k, want := range map[string]string{"X-Image-Meta-Name": "caf%C3%A9 100%25", "X-Image-Meta-Is_public": "False",
		"X-Image-Meta-Status": "queued", "X-Image-Meta-Property-Os_distro": "Fedora 9",
		"X-Image-Meta-Property-Plain_key": "50%25", "X-Image-Meta-Deleted": "False", "X-Image-Meta-Min_ram": "64"} {
		if got := r.h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if r.h.Get("X-Image-Meta-Size") != "" || r.h.Get("X-Image-Meta-Checksum") != "" || r.h.Get("ETag") != "" {
		t.Errorf("a queued image shows size or checksum: %v", r.h)
	}
	if _, err := time.Parse(v1TimeFormat, r.h.Get("X-Image-Meta-Created_at")); err != nil {
		t.Errorf("created_at: %v", err)
	}
	for _, bad := range [][]string{{"x-image-meta-colour", "red"}, {"x-image-meta-size", "-1"}, {"x-image-meta-min_disk", "x"},
		{"x-image-meta-disk_format", "floppy"}, {"x-image-meta-disk_format", "aki", "x-image-meta-container_format", "bare"},
		{"x-image-meta-location", "http://example.com/x.img"}, {"x-glance-api-copy-from", "http://user:pw@example.com/x"},
		{"x-image-meta-property-visibility", "public"}, {"x-image-meta-store", "swift"},
		{"x-image-meta-property-", "nameless"}, {"x-image-meta-property-" + strings.Repeat("k", 300), "v"}} {
		r := do(t, "POST", ts.URL+"/v1/images", nil, bad...)
		if r.code != 400 && r.code != 403 {
			t.Errorf("create with %v: %d %s", bad, r.code, r.body)
		}
		if strings.Contains(string(r.body), "pw@") {
			t.Errorf("error shows credentials: %s", r.body)
		}
	}
	wantCode(t, "HEAD of nothing", do(t, "HEAD", ts.URL+"/v1/images/"+newUUID(), nil), 404)
}

// TestV1Updates covers purge-props, data only to queued images (409), the
// data of an image without data (404), immutable fields and protected
// images (403), and the checksum of an upload (400).
func TestV1Updates(t *testing.T) {
	ts := startServer(t, Config{EnableV1: true})
	id := ts.v1Create(t, nil, "x-image-meta-name", "upd", "x-image-meta-property-a", "1", "x-image-meta-property-b", "2")["id"].(string)
	url := ts.URL + "/v1/images/" + id
	props := func(r resp) map[string]any {
		t.Helper()
		wantCode(t, "update", r, 200)
		return r.json(t)["image"].(map[string]any)["properties"].(map[string]any)
	}
	if p := props(do(t, "PUT", url, nil, "x-glance-registry-purge-props", "false", "x-image-meta-property-c", "3")); len(p) != 3 {
		t.Errorf("purge false: %v", p)
	}
	if p := props(do(t, "PUT", url, nil, "x-image-meta-property-c", "4")); len(p) != 1 || p["c"] != "4" {
		t.Errorf("no purge header purges as Glance did: %v", p)
	}
	wantCode(t, "data of a queued image", do(t, "GET", url, nil), 404)
	data := []byte("v1 image data")
	r := do(t, "PUT", url, data, "x-image-meta-disk_format", "raw", "x-image-meta-container_format", "bare",
		"x-image-meta-property-d", "5", "x-glance-registry-purge-props", "true")
	im := r.json(t)["image"].(map[string]any)
	if p := im["properties"].(map[string]any); im["status"] != "active" || im["checksum"] != md5Hex(data) || p["c"] != "4" || p["d"] != "5" {
		t.Errorf("upload by update (never purges): %v", im)
	}
	if r.h.Get("ETag") != md5Hex(data) {
		t.Errorf("ETag %q", r.h.Get("ETag"))
	}
	wantCode(t, "data to an active image", do(t, "PUT", url, data), 409)
	wantCode(t, "status change", do(t, "PUT", url, nil, "x-image-meta-status", "queued"), 403)
	wantCode(t, "size change", do(t, "PUT", url, nil, "x-image-meta-size", "3"), 403)
	r = do(t, "GET", url, nil)
	if r.code != 200 || string(r.body) != string(data) || r.h.Get("X-Image-Meta-Checksum") != md5Hex(data) ||
		r.h.Get("Content-Length") != fmt.Sprint(len(data)) {
		t.Errorf("GET data: %d %q %v", r.code, r.body, r.h)
	}
	wantCode(t, "protect", do(t, "PUT", url, nil, "x-image-meta-protected", "True", "x-glance-registry-purge-props", "false"), 200)
	wantCode(t, "delete a protected image", do(t, "DELETE", url, nil), 403)
	wantCode(t, "unprotect", do(t, "PUT", url, nil, "x-image-meta-protected", "False", "x-glance-registry-purge-props", "false"), 200)
	r = do(t, "DELETE", url, nil)
	if r.code != 200 || len(r.body) != 0 {
		t.Errorf("delete: %d %q", r.code, r.body)
	}
	wantCode(t, "HEAD after delete", do(t, "HEAD", url, nil), 404)

	r = do(t, "POST", ts.URL+"/v1/images", data, "x-image-meta-name", "badsum", "x-image-meta-disk_format", "raw",
		"x-image-meta-container_format", "bare", "x-image-meta-checksum", md5Hex([]byte("other")))
	wantCode(t, "checksum mismatch", r, 400)
	r = do(t, "POST", ts.URL+"/v1/images", data, "x-image-meta-name", "noformat")
	wantCode(t, "data without formats", r, 400)
	r = do(t, "GET", ts.URL+"/v1/images/detail?name=badsum", nil)
	if !strings.Contains(string(r.body), `"status": "queued"`) || strings.Contains(string(r.body), `"checksum": "`) {
		t.Errorf("an image whose data was refused: %s", r.body)
	}
}

func TestV1ListFiltersAndPaging(t *testing.T) {
	ts := startServer(t, Config{EnableV1: true})
	var ids []string
	for i, name := range []string{"l-a", "l-b", "l-c", "l-d"} {
		im := ts.v1Create(t, []byte(strings.Repeat("x", 10*(i+1))), "x-image-meta-name", name, "x-image-meta-disk_format", "raw",
			"x-image-meta-container_format", "bare", "x-image-meta-property-group", map[bool]string{true: "even", false: "odd"}[i%2 == 0])
		ids = append(ids, im["id"].(string))
	}
	ts.v1Create(t, nil, "x-image-meta-name", "l-queued")
	names := func(q string) string {
		t.Helper()
		r := do(t, "GET", ts.URL+"/v1/images/detail?"+q, nil)
		wantCode(t, q, r, 200)
		var out []string
		for _, im := range r.json(t)["images"].([]any) {
			out = append(out, im.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{
		"sort_key=name&sort_dir=asc&status=active": "l-a,l-b,l-c,l-d",
		"": "l-queued,l-d,l-c,l-b,l-a",
		"property-group=even&sort_key=name&sort_dir=asc":                    "l-a,l-c",
		"size_min=20&size_max=30&sort_key=size":                             "l-c,l-b",
		"name=l-b":                                                          "l-b",
		"status=queued":                                                     "l-queued",
		"sort_key=name&sort_dir=asc&limit=2&status=active":                  "l-a,l-b",
		"sort_key=name&sort_dir=asc&status=active&marker=" + ids[1]:         "l-c,l-d",
		"sort_key=name&sort_dir=asc&status=active&limit=1&marker=" + ids[2]: "l-d",
		"is_public=true":                                                    "",
	} {
		if got := names(q); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	r := do(t, "GET", ts.URL+"/v1/images?name=l-a", nil)
	brief := r.json(t)["images"].([]any)[0].(map[string]any)
	if len(brief) != 6 || brief["size"] != float64(10) || brief["checksum"] != md5Hex([]byte(strings.Repeat("x", 10))) {
		t.Errorf("brief list entry %v", brief)
	}
	for _, q := range []string{"sort_key=owner", "sort_dir=up", "marker=nope", "marker=" + newUUID(), "size_min=-1",
		"protected=maybe", "changes-since=yesterday", "limit=x"} {
		wantCode(t, q, do(t, "GET", ts.URL+"/v1/images/detail?"+q, nil), 400)
	}
	// Deleted images appear in lists with changes-since, as in Glance's v1.
	since := time.Now().UTC().Add(-time.Minute).Format(v1TimeFormat)
	wantCode(t, "delete", do(t, "DELETE", ts.URL+"/v1/images/"+ids[0], nil), 200)
	r = do(t, "GET", ts.URL+"/v1/images/detail?name=l-a&changes-since="+since, nil)
	list := r.json(t)["images"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["deleted"] != true || list[0].(map[string]any)["status"] != "deleted" ||
		list[0].(map[string]any)["deleted_at"] == nil {
		t.Errorf("deleted image with changes-since: %s", r.body)
	}
	if names("name=l-a") != "" {
		t.Error("a deleted image is listed without changes-since")
	}
}

// TestV1Policy shows v1 calls go through the policy engine under Glance's
// rule names.
func TestV1Policy(t *testing.T) {
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(pol, []byte("publicize_image: '!'\ndownload_image: '!'\nget_images: '!'\n"), 0o600)
	ts := startServer(t, Config{EnableV1: true, PolicyFile: pol})
	wantCode(t, "create public", do(t, "POST", ts.URL+"/v1/images", nil, "x-image-meta-is_public", "true"), 403)
	id := ts.v1Create(t, []byte("data"), "x-image-meta-disk_format", "raw", "x-image-meta-container_format", "bare")["id"].(string)
	wantCode(t, "download", do(t, "GET", ts.URL+"/v1/images/"+id, nil), 403)
	wantCode(t, "HEAD", do(t, "HEAD", ts.URL+"/v1/images/"+id, nil), 200)
	wantCode(t, "list", do(t, "GET", ts.URL+"/v1/images/detail", nil), 403)
	wantCode(t, "make public", do(t, "PUT", ts.URL+"/v1/images/"+id, nil, "x-image-meta-is_public", "true"), 403)
}

// TestV1CopyFrom copies data from a real HTTP server through web-download's
// fetcher; a source its filter refuses is a 400 before any fetch.
func TestV1CopyFrom(t *testing.T) {
	data := []byte(strings.Repeat("copied from a web server ", 1000))
	var fetched atomic.Int32
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Write(data)
	}))
	defer src.Close()
	ts := startServer(t, Config{EnableV1: true})
	im := ts.v1Create(t, nil, "x-image-meta-name", "copied", "x-image-meta-disk_format", "raw",
		"x-image-meta-container_format", "bare", "x-glance-api-copy-from", src.URL+"/disk.raw")
	id := im["id"].(string)
	if im["status"] != "saving" {
		t.Errorf("status after a copy-from create: %v", im["status"])
	}
	waitStatus(t, ts, id, "active")
	if r := do(t, "GET", ts.URL+"/v1/images/"+id, nil); string(r.body) != string(data) || r.h.Get("X-Image-Meta-Checksum") != md5Hex(data) {
		t.Errorf("copied data: %d bytes, checksum %s", len(r.body), r.h.Get("X-Image-Meta-Checksum"))
	}
	wantCode(t, "copy-from to an active image", do(t, "PUT", ts.URL+"/v1/images/"+id, nil, "x-glance-api-copy-from", src.URL), 409)
	wantCode(t, "copy-from with data", do(t, "POST", ts.URL+"/v1/images", []byte("x"), "x-image-meta-disk_format", "raw",
		"x-image-meta-container_format", "bare", "x-glance-api-copy-from", src.URL), 400)

	def := webfetch.DefaultFilter()
	strict := startServer(t, Config{EnableV1: true, WebDownload: webfetch.Options{Filter: &def}})
	before := fetched.Load()
	r := do(t, "POST", strict.URL+"/v1/images", nil, "x-image-meta-disk_format", "raw", "x-image-meta-container_format", "bare",
		"x-glance-api-copy-from", src.URL+"/disk.raw")
	wantCode(t, "copy-from a loopback source", r, 400)
	if !strings.Contains(string(r.body), "does not pass filtering") || fetched.Load() != before {
		t.Errorf("refused copy-from: %s (fetched %d times)", r.body, fetched.Load()-before)
	}
}

// TestV1KeystoneMode applies Glance's default policies to v1 calls with real
// tokens of the peer's Keystone: owner, reader, another project, a member.
func TestV1KeystoneMode(t *testing.T) {
	peer := testenv.Peer(t)
	ts := startServer(t, Config{EnableV1: true, Auth: "keystone", Keystone: KeystoneConfig{
		AuthURL: peer.KeystoneURL, Username: peer.Glance.Name, Password: peer.Glance.Password,
		ProjectName: peer.Glance.Project, UserDomainName: peer.Glance.Domain, ProjectDomainName: peer.Glance.Domain,
	}})
	alpha := peer.Auth(t, peer.AlphaMember)
	reader := peer.Token(t, peer.AlphaReader)
	beta := peer.Auth(t, peer.BetaMember)
	wantCode(t, "no token", do(t, "GET", ts.URL+"/v1/images/detail", nil), 401)
	im := ts.v1Create(t, nil, "X-Auth-Token", alpha.Token, "x-image-meta-name", "ks-v1", "x-image-meta-owner", beta.ProjectID)
	id := im["id"].(string)
	if im["owner"] != alpha.ProjectID {
		t.Errorf("owner %v, want the token's project %s (a member cannot choose it)", im["owner"], alpha.ProjectID)
	}
	u := ts.URL + "/v1/images/" + id
	wantCode(t, "reader creates", do(t, "POST", ts.URL+"/v1/images", nil, "X-Auth-Token", reader), 403)
	wantCode(t, "reader reads", do(t, "HEAD", u, nil, "X-Auth-Token", reader), 200)
	wantCode(t, "reader updates", do(t, "PUT", u, nil, "X-Auth-Token", reader, "x-image-meta-name", "x"), 403)
	wantCode(t, "member makes public", do(t, "PUT", u, nil, "X-Auth-Token", alpha.Token, "x-image-meta-is_public", "true"), 403)
	wantCode(t, "other project", do(t, "HEAD", u, nil, "X-Auth-Token", beta.Token), 404)
	wantCode(t, "reader shares", do(t, "PUT", u+"/members/"+beta.ProjectID, nil, "X-Auth-Token", reader), 403)
	wantCode(t, "owner shares", do(t, "PUT", u+"/members/"+beta.ProjectID, nil, "X-Auth-Token", alpha.Token), 204)
	wantCode(t, "member sees", do(t, "HEAD", u, nil, "X-Auth-Token", beta.Token), 200)
	if r := do(t, "GET", ts.URL+"/v1/images/detail", nil, "X-Auth-Token", beta.Token); !strings.Contains(string(r.body), id) {
		t.Error("v1 lists a pending shared image to its member, as Glance's v1 did; this one did not")
	}
	wantCode(t, "member deletes", do(t, "DELETE", u, nil, "X-Auth-Token", beta.Token), 403)
	wantCode(t, "member shares further", do(t, "PUT", u+"/members/other", nil, "X-Auth-Token", beta.Token), 403)
	wantCode(t, "owner lets it share", do(t, "PUT", u+"/members/"+beta.ProjectID, map[string]any{"member": map[string]any{"can_share": true}},
		"X-Auth-Token", alpha.Token), 204)
	wantCode(t, "member shares further", do(t, "PUT", u+"/members/other", nil, "X-Auth-Token", beta.Token), 204)
	r := do(t, "GET", ts.URL+"/v1/shared-images/"+beta.ProjectID, nil, "X-Auth-Token", alpha.Token)
	if !strings.Contains(string(r.body), `{"image_id": "`+id+`", "can_share": true}`) {
		t.Errorf("shared images: %s", r.body)
	}
	wantCode(t, "owner deletes", do(t, "DELETE", u, nil, "X-Auth-Token", alpha.Token), 200)

	needPython(t, "glanceclient")
	out, err := exec.Command(debianPython, "-c", pyV1Doc, ts.URL, alpha.Token).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PYTHON-V1-OK") {
		t.Fatalf("python-glanceclient v1 flow with a Keystone token: %v\n%s", err, out)
	}
}

func TestV1Members(t *testing.T) {
	ts := startServer(t, Config{EnableV1: true})
	id := ts.v1Create(t, nil, "x-image-meta-name", "members")["id"].(string)
	u := ts.URL + "/v1/images/" + id + "/members"
	list := func() string {
		t.Helper()
		r := do(t, "GET", u, nil)
		wantCode(t, "list members", r, 200)
		return string(r.body)
	}
	wantCode(t, "add a", do(t, "PUT", u+"/a", nil), 204)
	wantCode(t, "add b", do(t, "PUT", u+"/b", map[string]any{"member": map[string]any{"can_share": true}}), 204)
	wantCode(t, "bad body", do(t, "PUT", u+"/b", map[string]any{"can_share": true}), 400)
	if got := list(); got != `{"members": [{"member_id": "a", "can_share": false}, {"member_id": "b", "can_share": true}]}` {
		t.Errorf("members: %s", got)
	}
	wantCode(t, "replace", do(t, "PUT", u, map[string]any{"memberships": []map[string]any{{"member_id": "b"}, {"member_id": "c"}}}), 204)
	if got := list(); got != `{"members": [{"member_id": "b", "can_share": true}, {"member_id": "c", "can_share": false}]}` {
		t.Errorf("after replacing (b keeps can_share): %s", got)
	}
	wantCode(t, "replace without a list", do(t, "PUT", u, map[string]any{"members": []string{"x"}}), 400)
	r := do(t, "GET", ts.URL+"/v1/shared-images/c", nil)
	if string(r.body) != `{"shared_images": [{"image_id": "`+id+`", "can_share": false}]}` {
		t.Errorf("shared images of c: %s", r.body)
	}
	wantCode(t, "delete c", do(t, "DELETE", u+"/c", nil), 204)
	wantCode(t, "delete c again", do(t, "DELETE", u+"/c", nil), 404)
	wantCode(t, "GET one member", do(t, "GET", u+"/b", nil), 405)
	private := ts.create(t, map[string]any{"name": "private", "visibility": "private"})
	wantCode(t, "member of a private image", do(t, "PUT", ts.URL+"/v1/images/"+private+"/members/a", nil), 403)
	wantCode(t, "members of nothing", do(t, "GET", ts.URL+"/v1/images/"+newUUID()+"/members", nil), 404)
}

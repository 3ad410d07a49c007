package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/testenv"
)

// keystoneAdmin calls Keystone's API with a system-scoped admin token.
type keystoneAdmin struct {
	t     *testing.T
	url   string
	token string
}

func (k *keystoneAdmin) call(method, path string, body any, want int) map[string]any {
	k.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, k.url+path, rd)
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", k.token)
	req.Header.Set("Content-Type", "application/json")
	req.Close = true // Keystone under uwsgi drops kept-alive connections
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		k.t.Fatalf("keystone %s %s: %d %s", method, path, res.StatusCode, b)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// sqlCatalogKeystone starts a second Keystone server on the peer's own
// database and keys, with the SQL catalog: the peer's Keystone serves a
// templated catalog, with which Keystone cannot store unified limits (they
// refer to the catalog's SQL tables). Tokens of either server are good on
// both. It is stopped when the test ends.
func sqlCatalogKeystone(t *testing.T, peer *testenv.Cloud) string {
	t.Helper()
	uwsgi, err := exec.LookPath("uwsgi")
	conf := filepath.Join(peer.Dir, "keystone.conf")
	if _, serr := os.Stat(conf); err != nil || serr != nil {
		t.Skipf("INTEGRATION TEST SKIPPED: no uwsgi (%v) or no %s (%v) to serve the peer's Keystone with the SQL catalog", err, conf, serr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(t.TempDir(), "keystone.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(uwsgi, "--plugins", "python3", "--http-socket", addr, "--wsgi-file", "/usr/bin/keystone-wsgi-public",
		"--master", "--processes", "1", "--lazy-apps", "--die-on-term", "--buffer-size", "65535",
		"--add-header", "Connection: close", "--env", "OS_KEYSTONE_CONFIG_FILES="+conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	url := "http://" + addr + "/v3"
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("keystone on %s did not start: %s", addr, b)
		}
	}
}

// TestKeystoneQuotas registers Glance's limits in the peer's Keystone for
// an image service and region of its own, starts glanced on them, and
// checks each quota where Glance enforces it. Everything it registers is
// removed at the end.
func TestKeystoneQuotas(t *testing.T) {
	peer := testenv.Peer(t)
	ksURL := sqlCatalogKeystone(t, peer)
	ka := &keystoneAdmin{t: t, url: ksURL, token: peer.SystemAuth(t, peer.Admin).Token}
	suffix := newUUID()[:8]
	region := "RegionQuota-" + suffix
	ka.call("POST", "/regions", map[string]any{"region": map[string]any{"id": region}}, 201)
	t.Cleanup(func() { ka.call("DELETE", "/regions/"+region, nil, 204) })
	svc := ka.call("POST", "/services", map[string]any{"service": map[string]any{"type": "image", "name": "glance-quota-" + suffix}}, 201)["service"].(map[string]any)["id"].(string)
	t.Cleanup(func() { ka.call("DELETE", "/services/"+svc, nil, 204) })
	ep := ka.call("POST", "/endpoints", map[string]any{"endpoint": map[string]any{"service_id": svc, "region_id": region,
		"interface": "public", "url": "http://127.0.0.1:1"}}, 201)["endpoint"].(map[string]any)["id"].(string)
	t.Cleanup(func() { ka.call("DELETE", "/endpoints/"+ep, nil, 204) })
	t.Cleanup(func() { // runs first
		for _, kind := range []string{"limits", "registered_limits"} {
			for _, l := range ka.call("GET", "/"+kind+"?service_id="+svc, nil, 200)[kind].([]any) {
				ka.call("DELETE", "/"+kind+"/"+l.(map[string]any)["id"].(string), nil, 204)
			}
		}
	})
	var reg []map[string]any
	for name, v := range map[string]int{quotaImageSize: 1, quotaImageStage: 2, quotaImageCount: 5, quotaImageUploading: 1} {
		reg = append(reg, map[string]any{"service_id": svc, "region_id": region, "resource_name": name, "default_limit": v})
	}
	ka.call("POST", "/registered_limits", map[string]any{"registered_limits": reg}, 201)
	alpha := peer.Auth(t, peer.AlphaMember)
	ka.call("POST", "/limits", map[string]any{"limits": []map[string]any{{"service_id": svc, "region_id": region,
		"project_id": alpha.ProjectID, "resource_name": quotaImageCount, "resource_limit": 3}}}, 201)

	cfg := keystoneConfig(peer)
	cfg.Keystone.AuthURL = ksURL
	cfg.Quota = QuotaConfig{UseKeystoneLimits: true, EndpointServiceName: "glance-quota-" + suffix, EndpointRegionName: region,
		CacheTTL: 50 * time.Millisecond,
		// The peer's glance user has no role on the system; its admin has.
		Auth: LimitsAuth{Username: peer.Admin.Name, Password: peer.Admin.Password, UserDomainName: peer.Admin.Domain, SystemScope: true}}
	ts := startServer(t, cfg)
	tok := []string{"X-Auth-Token", alpha.Token}
	u := ts.URL + "/v2/images/"
	usage := func(want string) {
		t.Helper()
		r := do(t, "GET", ts.URL+"/v2/info/usage", nil, tok...)
		if r.code != 200 || string(r.body) != want {
			t.Errorf("usage: %d %s\nwant %s", r.code, r.body, want)
		}
	}
	usage(`{"usage": {"image_size_total": {"usage": 0, "limit": 1}, "image_stage_total": {"usage": 0, "limit": 2}, ` +
		`"image_count_total": {"usage": 0, "limit": 3}, "image_count_uploading": {"usage": 0, "limit": 1}}}`)
	create := func() resp {
		return do(t, "POST", ts.URL+"/v2/images", map[string]any{"disk_format": "raw", "container_format": "bare"}, tok...)
	}
	var ids []string
	for range 3 {
		r := create()
		wantCode(t, "create within image_count_total", r, 201)
		ids = append(ids, r.json(t)["id"].(string))
	}
	r := create()
	wantCode(t, "create past image_count_total", r, 413)
	if !strings.Contains(string(r.body), "Resource image_count_total is over limit of 3 due to current usage 3 and delta 1") {
		t.Errorf("refusal says %s", r.body)
	}
	a, b, c := ids[0], ids[1], ids[2]
	mib := bytes.Repeat([]byte("x"), 3<<19) // 1.5 MiB: counts as 1
	wantCode(t, "upload within image_size_total", do(t, "PUT", u+a+"/file", mib, tok...), 204)
	wantCode(t, "upload past image_size_total", do(t, "PUT", u+b+"/file", mib, tok...), 413)
	if im := do(t, "GET", u+b, nil, tok...).json(t); im["status"] != "queued" {
		t.Errorf("refused upload left %v", im["status"])
	}
	wantCode(t, "stage declared past image_stage_total", do(t, "PUT", u+b+"/stage", []byte("x"), append(tok, sizeHeader, fmt.Sprint(3<<20))...), 413)
	wantCode(t, "stage within image_stage_total", do(t, "PUT", u+b+"/stage", mib, tok...), 204)
	wantCode(t, "upload past image_count_uploading", do(t, "PUT", u+c+"/file", []byte("x"), tok...), 413)
	if im := do(t, "GET", u+c, nil, tok...).json(t); im["status"] != "queued" {
		t.Errorf("refused upload left %v", im["status"])
	}
	usage(`{"usage": {"image_size_total": {"usage": 1, "limit": 1}, "image_stage_total": {"usage": 1, "limit": 2}, ` +
		`"image_count_total": {"usage": 3, "limit": 3}, "image_count_uploading": {"usage": 1, "limit": 1}}}`)

	// The import task adds the staged size to image_size_total and fails.
	wantCode(t, "glance-direct import", do(t, "POST", u+b+"/import", map[string]any{"method": map[string]any{"name": "glance-direct"}}, tok...), 202)
	var task map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tasks := do(t, "GET", u+b+"/tasks", nil, tok...).json(t)["tasks"].([]any)
		if len(tasks) > 0 {
			if task = tasks[0].(map[string]any); task["status"] == "failure" || task["status"] == "success" || time.Now().After(deadline) {
				break
			}
		}
	}
	if task["status"] != "failure" || !strings.Contains(fmt.Sprint(task["message"]), "image_size_total is over limit of 1 due to current usage 1 and delta 1") {
		t.Errorf("import task %v", task)
	}

	// A project limit changed in Keystone applies once the cache expires:
	// over image_size_total, imports are refused up front; -1 is unlimited.
	ka.call("POST", "/limits", map[string]any{"limits": []map[string]any{{"service_id": svc, "region_id": region,
		"project_id": alpha.ProjectID, "resource_name": quotaImageSize, "resource_limit": 0}}}, 201)
	countID := ""
	for _, l := range ka.call("GET", "/limits?service_id="+svc+"&project_id="+alpha.ProjectID+"&resource_name="+quotaImageCount, nil, 200)["limits"].([]any) {
		countID = l.(map[string]any)["id"].(string)
	}
	ka.call("PATCH", "/limits/"+countID, map[string]any{"limit": map[string]any{"resource_limit": -1}}, 200)
	time.Sleep(100 * time.Millisecond)
	wantCode(t, "import past image_size_total", do(t, "POST", u+c+"/import", map[string]any{"method": map[string]any{"name": "web-download", "uri": "http://127.0.0.1/x"}}, tok...), 413)
	wantCode(t, "create with image_count_total unlimited", create(), 201)

	// The endpoint can also be named by its ID (oslo.limit's endpoint_id).
	l, err := newLimiter(QuotaConfig{UseKeystoneLimits: true, EndpointID: ep}, ts.auth)
	if err != nil {
		t.Fatal(err)
	}
	if gotSvc, gotRegion, err := l.endpoint(t.Context()); err != nil || gotSvc != svc || gotRegion != region {
		t.Errorf("endpoint by ID: %q %q %v", gotSvc, gotRegion, err)
	}
}

// TestQuotasNeedKeystone: Keystone limits without Keystone auth are a
// configuration error, and quotas off report an empty usage.
func TestQuotasNeedKeystone(t *testing.T) {
	if _, err := New(t.Context(), Config{DataDir: t.TempDir(), Quota: QuotaConfig{UseKeystoneLimits: true}}); err == nil {
		t.Error("keystone limits accepted with noauth")
	}
	ts := startServer(t, Config{})
	if r := do(t, "GET", ts.URL+"/v2/info/usage", nil); r.code != 200 || string(r.body) != `{"usage": {}}` {
		t.Errorf("usage without limits: %d %s", r.code, r.body)
	}
}

// TestUsageCounts: the database's totals (store.UsageCounter) and the
// count by listing agree, on images in every status, copying or not,
// in one store or two, of two projects.
func TestUsageCounts(t *testing.T) {
	ts := startServer(t, Config{})
	uc, ok := metaAs[store.UsageCounter](ts.meta)
	if !ok {
		t.Fatal("the SQLite store does not count usage")
	}
	statuses := []string{store.StatusQueued, store.StatusSaving, store.StatusActive, store.StatusKilled,
		store.StatusDeactivated, store.StatusUploading, store.StatusImporting}
	n := 0
	for _, owner := range []string{"p1", "p2"} {
		for _, st := range statuses {
			for _, copying := range []string{"", "local"} {
				for stores := range 3 {
					n++
					size := int64(n) << 19
					o := owner
					im := &store.Image{ID: newUUID(), Status: st, Visibility: "private", Owner: &o, Size: &size,
						CreatedAt: time.Now(), UpdatedAt: time.Now(), Tags: []string{},
						Properties: map[string]string{"os_glance_importing_to_stores": copying}}
					im.Stores = []string{"local", "other"}[:stores]
					if n%5 == 0 {
						im.Size = nil
					}
					if err := ts.meta.CreateImage(t.Context(), im); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	deleted := ts.create(t, map[string]any{"name": "gone"})
	wantCode(t, "delete", do(t, "DELETE", ts.URL+"/v2/images/"+deleted, nil), 204)
	for _, owner := range []string{"p1", "p2", NoAuthProject} { // NoAuthProject has one deleted image
		db, err := uc.ProjectUsage(t.Context(), owner)
		if err != nil {
			t.Fatal(err)
		}
		listed, err := ts.usageByList(t.Context(), owner)
		if err != nil {
			t.Fatal(err)
		}
		if db != listed {
			t.Errorf("%s: database counts %+v, listing %+v", owner, db, listed)
		}
		if owner == NoAuthProject && db != (store.Usage{}) {
			t.Errorf("a deleted image counts: %+v", db)
		}
		if owner != NoAuthProject && (db.Images != 36 || db.Uploading == 0 || db.Staged == 0 || db.Size == 0) {
			t.Errorf("%s: usage %+v", owner, db)
		}
	}
}

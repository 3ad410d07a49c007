package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetadefsLoad loads a definition file at start, twice (the second
// start keeps what is there), and reads it back as Glance answers it.
func TestMetadefsLoad(t *testing.T) {
	dir := t.TempDir()
	for _, run := range []string{"first", "again"} {
		t.Run(run, func(t *testing.T) {
			checkSampleLoaded(t, startServer(t, Config{DataDir: dir, MetadefsDir: "testdata/metadefs"}))
		})
	}
}

func checkSampleLoaded(t *testing.T, ts *testServer) {
	{
		r := do(t, "GET", ts.URL+"/v2/metadefs/namespaces/Test::Sample", nil)
		wantCode(t, "show", r, 200)
		body := string(r.body)
		for _, want := range []string{
			`"visibility": "private", "protected": true, "owner": "admin", "created_at": "`,
			`"resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "s_", "created_at": "`,
			`"properties": {"alpha": {"type": "string", "title": "Alpha", "operators": ["<or>"], "enum": ["a", "b"]}, ` +
				`"zeta": {"type": "integer", "title": "Zeta", "default": "8", "readonly": false, "minimum": 1}}`,
			`"objects": [{"name": "First", "required": [], "properties": {}, "created_at": "`,
			`"tags": [{"name": "t2"}, {"name": "t1"}]`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("namespace lacks %s:\n%s", want, body)
			}
		}
		if strings.Contains(body, "updated_at") {
			t.Errorf("a loaded namespace has updated_at: %s", body)
		}
		r = do(t, "GET", ts.URL+"/v2/metadefs/namespaces?visibility=private", nil)
		if bytes.Contains(r.body, []byte("Test::Sample")) {
			t.Errorf("a namespace loaded without visibility matches visibility=private: %s", r.body)
		}
		r = do(t, "GET", ts.URL+"/v2/metadefs/resource_types", nil)
		if !bytes.Contains(r.body, []byte(`"Test::Thing"`)) {
			t.Errorf("resource types: %s", r.body)
		}
	}
}

// TestMetadefsLoadCommand runs `glanced metadefs load` twice on one
// database: the second run loads nothing.
func TestMetadefsLoadCommand(t *testing.T) {
	dir := t.TempDir()
	for _, want := range []string{"1 namespaces loaded, 0 already present", "0 namespaces loaded, 1 already present"} {
		var out, errs bytes.Buffer
		if code := metadefsMain([]string{"load", "testdata/metadefs", "--data-dir", dir}, &out, &errs); code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
		if got := strings.TrimSpace(out.String()); got != want {
			t.Errorf("output %q, want %q", got, want)
		}
	}
	var out, errs bytes.Buffer
	if code := metadefsMain([]string{"load", t.TempDir(), "--data-dir", dir}, &out, &errs); code != 1 ||
		!strings.Contains(errs.String(), "no .json file") {
		t.Errorf("empty folder: exit %d, %q", code, errs.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"namespace": "X", "properties": {"p": {"type": "string"}}}`), 0o600)
	if code := metadefsMain([]string{"load", bad, "--data-dir", dir}, &out, &errs); code != 1 ||
		!strings.Contains(errs.String(), "'title' is a required property") {
		t.Errorf("bad file: exit %d, %q", code, errs.String())
	}
	if code := metadefsMain([]string{"load"}, &out, &errs); code != 2 {
		t.Errorf("no folder: exit %d", code)
	}
}

// TestMetadefsDebian loads the definitions Debian's Glance ships, where
// they are installed (they come with the peer).
func TestMetadefsDebian(t *testing.T) {
	const debian = "/etc/glance/metadefs"
	if _, err := os.Stat(debian); err != nil {
		t.Skipf("SKIP: %s is not installed (Debian's glance-common): %v", debian, err)
	}
	ts := startServer(t, Config{MetadefsDir: debian})
	r := do(t, "GET", ts.URL+"/v2/metadefs/namespaces?limit=1000", nil)
	wantCode(t, "list", r, 200)
	for _, ns := range []string{"OS::Compute::Watchdog", "OS::Software::DBMS", "CIM::ProcessorAllocationSettingData", "OS::Glance::CommonImageProperties"} {
		if !bytes.Contains(r.body, []byte(`"namespace": "`+ns+`"`)) {
			t.Errorf("%s not loaded", ns)
		}
	}
	r = do(t, "GET", ts.URL+"/v2/metadefs/namespaces/OS::Compute::Libvirt?resource_type=OS::Glance::Image", nil)
	if !bytes.Contains(r.body, []byte(`"hw_boot_menu": {"type": "string", "title": "Boot Menu"`)) {
		t.Errorf("Libvirt properties for images: %s", r.body)
	}
}

package auth

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const cloudsYAML = `
clouds:
  devstack:
    auth:
      auth_url: http://10.0.0.1/identity
      username: demo
      project_name: demo
      user_domain_id: default
      project_domain_id: default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
    image_endpoint_override: http://10.0.0.1:9292
    image_api_version: 2
  appcred:
    auth_type: v3applicationcredential
    auth: {auth_url: "https://keystone.example:5000/v3", application_credential_id: ID}
    regions:
      - name: East
        values: {}
      - West
    verify: false
    api_timeout: 2.5
  legacy:
    auth: {auth_url: "http://k/v2.0", username: u, password: clear, tenant_name: t, tenant_id: tid}
    endpoint_type: internalURL
    regions: [North, South]
    insecure: true
    cacert: /etc/ca.pem
    cert: /etc/c.pem
    key: /etc/k.pem
  pathverify:
    auth: {auth_url: "http://k/v3"}
    verify: /etc/bundle.pem
`

const secureYAML = `
clouds:
  devstack:
    auth:
      password: s3cret
  appcred:
    auth:
      application_credential_secret: SECRET
  legacy:
    auth:
      password: from-secure
`

// cloudEnv points the search at a temporary home with clouds.yaml and
// secure.yaml in ~/.config/openstack.
func cloudEnv(t *testing.T) map[string]string {
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".config/openstack/clouds.yaml"), cloudsYAML)
	writeFile(t, filepath.Join(home, ".config/openstack/secure.yaml"), secureYAML)
	return map[string]string{"HOME": home}
}

func TestLoadCloud(t *testing.T) {
	env := cloudEnv(t)
	for _, tc := range []struct {
		name string
		want Options
	}{
		{"devstack", Options{Cloud: "devstack", AuthURL: "http://10.0.0.1/identity", Username: "demo", Password: "s3cret",
			ProjectName: "demo", UserDomainID: "default", ProjectDomainID: "default", RegionName: "RegionOne",
			Interface: "public", IdentityAPIVersion: "3", Endpoint: "http://10.0.0.1:9292", ImageAPIVersion: "2"}},
		{"appcred", Options{Cloud: "appcred", AuthType: "v3applicationcredential", AuthURL: "https://keystone.example:5000/v3",
			ApplicationCredentialID: "ID", ApplicationCredentialSecret: "SECRET", RegionName: "East", Insecure: true,
			Timeout: 2500 * time.Millisecond}},
		{"legacy", Options{Cloud: "legacy", AuthURL: "http://k/v2.0", Username: "u", Password: "from-secure", ProjectName: "t",
			ProjectID: "tid", Interface: "internalURL", RegionName: "North", Insecure: true, CACert: "/etc/ca.pem",
			Cert: "/etc/c.pem", Key: "/etc/k.pem"}},
		{"pathverify", Options{Cloud: "pathverify", AuthURL: "http://k/v3", CACert: "/etc/bundle.pem"}},
	} {
		got, err := LoadCloud(tc.name, envOf(env))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tc.name, got, tc.want)
		}
	}

	env["OS_CLOUD"] = "devstack"
	if got, err := LoadCloud("", envOf(env)); err != nil || got.Cloud != "devstack" {
		t.Errorf("OS_CLOUD: %+v %v", got, err)
	}
	delete(env, "OS_CLOUD")
	if got, err := LoadCloud("", envOf(env)); err != nil || !reflect.DeepEqual(got, Options{}) {
		t.Errorf("no cloud: %+v %v", got, err)
	}
}

func TestLoadCloudSearchOrder(t *testing.T) {
	home, xdg, explicit := t.TempDir(), t.TempDir(), t.TempDir()
	one := func(url string) string { return "clouds:\n  c:\n    auth: {auth_url: " + url + "}\n" }
	writeFile(t, filepath.Join(home, ".config/openstack/clouds.yaml"), one("home"))
	env := map[string]string{"HOME": home}
	check := func(want string) {
		t.Helper()
		o, err := LoadCloud("c", envOf(env))
		if err != nil || o.AuthURL != want {
			t.Errorf("got %q %v, want %q", o.AuthURL, err, want)
		}
	}
	check("home")
	writeFile(t, filepath.Join(xdg, "openstack/clouds.yml"), one("xdg"))
	env["XDG_CONFIG_HOME"] = xdg
	check("xdg")
	env["OS_CLIENT_CONFIG_FILE"] = writeFile(t, filepath.Join(explicit, "my.yaml"), one("explicit"))
	check("explicit")

	// secure.yaml is found on its own path and overrides field by field.
	env["OS_CLIENT_SECURE_FILE"] = writeFile(t, filepath.Join(explicit, "sec.yaml"), "clouds:\n  c:\n    auth: {password: pw}\n    region_name: R\n")
	o, err := LoadCloud("c", envOf(env))
	if err != nil || o.AuthURL != "explicit" || o.Password != "pw" || o.RegionName != "R" {
		t.Errorf("with secure file: %+v %v", o, err)
	}
}

func TestLoadCloudErrors(t *testing.T) {
	env := cloudEnv(t)
	_, err := LoadCloud("nope", envOf(env))
	var nf *CloudNotFoundError
	if !errors.As(err, &nf) || !slices.Equal(nf.Clouds, []string{"appcred", "devstack", "legacy", "pathverify"}) || len(nf.Files) != 2 {
		t.Fatalf("unknown cloud: %v", err)
	}
	for _, want := range []string{`cloud "nope" not found`, "clouds.yaml", "secure.yaml", "appcred, devstack, legacy, pathverify"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}

	if _, err := os.Stat("/etc/openstack/clouds.yaml"); err == nil {
		t.Log("/etc/openstack/clouds.yaml exists: not testing the no-file case")
	} else {
		empty := map[string]string{"HOME": t.TempDir(), "OS_CLIENT_CONFIG_FILE": "/nonexistent/c.yaml"}
		_, err = LoadCloud("x", envOf(empty))
		if !errors.As(err, &nf) || len(nf.Files) != 0 || nf.Searched[0] != "/nonexistent/c.yaml" ||
			!strings.Contains(err.Error(), "no clouds.yaml (looked for /nonexistent/c.yaml, clouds.yaml") {
			t.Errorf("no file: %v", err)
		}
	}

	bad := map[string]string{"OS_CLIENT_CONFIG_FILE": writeFile(t, filepath.Join(t.TempDir(), "bad.yaml"), "clouds: [\n")}
	if _, err := LoadCloud("x", envOf(bad)); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("syntax error: %v", err)
	}
	bad["OS_CLIENT_CONFIG_FILE"] = writeFile(t, filepath.Join(t.TempDir(), "c.yaml"), "clouds:\n  x:\n    api_timeout: soon\n")
	if _, err := LoadCloud("x", envOf(bad)); err == nil || !strings.Contains(err.Error(), "api_timeout") {
		t.Errorf("bad timeout: %v", err)
	}
}

func TestLoadCloudProfile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "openstack/clouds-public.yaml"), `
public-clouds:
  vendor:
    auth: {auth_url: "https://vendor/v3", user_domain_name: Default}
    region_name: VendorRegion
    identity_api_version: 3
`)
	writeFile(t, filepath.Join(dir, "openstack/clouds.yaml"), `
clouds:
  mine:
    profile: vendor
    auth: {username: me, project_name: p}
    region_name: Mine
  old:
    cloud: vendor
  lost:
    profile: nowhere
`)
	env := map[string]string{"XDG_CONFIG_HOME": dir}
	o, err := LoadCloud("mine", envOf(env))
	want := Options{Cloud: "mine", AuthURL: "https://vendor/v3", UserDomainName: "Default", Username: "me", ProjectName: "p",
		RegionName: "Mine", IdentityAPIVersion: "3"}
	if err != nil || !reflect.DeepEqual(o, want) {
		t.Errorf("profile:\ngot  %+v %v\nwant %+v", o, err, want)
	}
	if o, err := LoadCloud("old", envOf(env)); err != nil || o.RegionName != "VendorRegion" {
		t.Errorf("cloud: as profile: %+v %v", o, err)
	}
	if _, err := LoadCloud("lost", envOf(env)); err == nil || !strings.Contains(err.Error(), `profile "nowhere" not found`) {
		t.Errorf("missing profile: %v", err)
	}
}

func TestResolvePrecedence(t *testing.T) {
	env := cloudEnv(t)
	env["OS_CLOUD"] = "devstack"
	env["OS_USERNAME"] = "env-user"
	env["OS_REGION_NAME"] = "EnvRegion"
	o, err := Resolve(Options{RegionName: "FlagRegion"}, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if o.Username != "env-user" || o.RegionName != "FlagRegion" || o.Password != "s3cret" || o.AuthURL != "http://10.0.0.1/identity" {
		t.Errorf("got %+v", o)
	}
	o, err = Resolve(Options{Cloud: "legacy"}, envOf(env))
	if err != nil || o.Cloud != "legacy" || o.AuthURL != "http://k/v2.0" || o.Username != "env-user" {
		t.Errorf("flag cloud over OS_CLOUD: %+v %v", o, err)
	}
	if _, err := Resolve(Options{Cloud: "nope"}, envOf(env)); err == nil {
		t.Error("unknown cloud accepted")
	}
	env["OS_INSECURE"] = "maybe"
	if _, err := Resolve(Options{}, envOf(env)); !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "OS_INSECURE") {
		t.Errorf("OS_INSECURE=maybe: %v", err)
	}
}

package testenv

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseEnv(t *testing.T) {
	in := `# comment
export OS_AUTH_URL=http://127.0.0.1:15000/v3

PLAIN=a=b
DOUBLE="x y z"
SINGLE='q'
EMPTY=
`
	got, err := parseEnv(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"OS_AUTH_URL": "http://127.0.0.1:15000/v3",
		"PLAIN":       "a=b",
		"DOUBLE":      "x y z",
		"SINGLE":      "q",
		"EMPTY":       "",
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}

	for _, bad := range []string{"no equals sign", "=value", `K="unbalanced`, "two words=x"} {
		if _, err := parseEnv(strings.NewReader(bad + "\n")); err == nil {
			t.Errorf("parseEnv(%q): no error", bad)
		}
	}
}

const catalog = `catalog.RegionOne.identity.publicURL = http://127.0.0.1:15000/v3
catalog.RegionOne.image.publicURL = http://127.0.0.1:19292
catalog.RegionOne.image.internalURL = http://127.0.0.1:19292
catalog.RegionPrefix.image.publicURL = http://127.0.0.1:19293/image/
catalog.RegionTwo.image.publicURL = http://127.0.0.2:19292
catalog.RegionOne.image.name = glance
`

const adminEnv = `export OS_AUTH_URL=http://127.0.0.1:15000/v3
export OS_USERNAME=admin
export OS_REGION_NAME=RegionOne
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	// A folder as openstack-up.sh writes it: users.env names every user.
	dir := writeFiles(t, map[string]string{
		"env":               adminEnv,
		"catalog.templates": catalog,
		"users.env": `# name password project domain role
PEER_USER_ADMIN="root root-pw admin Default admin"
PEER_USER_ALPHA_READER="ar ar-pw alpha Other reader"
OTHER=ignored
`,
	})
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("KeystoneURL", c.KeystoneURL, "http://127.0.0.1:15000/v3")
	check("GlanceURL", c.GlanceURL, "http://127.0.0.1:19292")
	check("PrefixURL", c.PrefixURL, "http://127.0.0.1:19293/image")
	check("DeadURL", c.DeadURL, "http://127.0.0.2:19292")
	check("Region", c.Region, "RegionOne")
	check("PrefixRegion", c.PrefixRegion, "RegionPrefix")
	check("DeadRegion", c.DeadRegion, "RegionTwo")
	if want := (User{"root", "root-pw", "admin", "Default", "admin"}); c.Admin != want {
		t.Errorf("Admin = %+v, want %+v", c.Admin, want)
	}
	if want := (User{"ar", "ar-pw", "alpha", "Other", "reader"}); c.AlphaReader != want {
		t.Errorf("AlphaReader = %+v, want %+v", c.AlphaReader, want)
	}
	// Users the file leaves out keep the standard names.
	if c.BetaMember != defaultUsers["BETA_MEMBER"] || c.Glance.Name != "glance" {
		t.Errorf("BetaMember = %+v, Glance = %+v", c.BetaMember, c.Glance)
	}
	if n := len(c.Users()); n != 6 {
		t.Errorf("Users() has %d users, want 6", n)
	}

	env := strings.Join(c.OSEnv(c.AlphaReader), "\n")
	for _, want := range []string{"OS_USERNAME=ar", "OS_PASSWORD=ar-pw", "OS_PROJECT_NAME=alpha",
		"OS_USER_DOMAIN_NAME=Other", "OS_AUTH_URL=http://127.0.0.1:15000/v3", "OS_REGION_NAME=RegionOne"} {
		if !strings.Contains(env+"\n", want+"\n") {
			t.Errorf("OSEnv lacks %s:\n%s", want, env)
		}
	}
}

func TestLoadExtraRegion(t *testing.T) {
	// A folder of today's openstack-up.sh: RegionExtra in the catalog and the
	// settings in peer.env. Without peer.env, the region is found by its name.
	extra := catalog + "catalog.RegionExtra.image.publicURL = http://127.0.0.1:19400\n"
	for _, peerEnv := range []string{"PEER_EXTRA_REGION=RegionExtra\nPEER_GLANCE_ENFORCE_SCOPE=true\n", ""} {
		files := map[string]string{"env": adminEnv, "catalog.templates": extra}
		if peerEnv != "" {
			files["peer.env"] = peerEnv
		}
		c, err := Load(writeFiles(t, files))
		if err != nil {
			t.Fatal(err)
		}
		if c.ExtraRegion != "RegionExtra" || c.ExtraURL != "http://127.0.0.1:19400" {
			t.Errorf("extra region %q at %q", c.ExtraRegion, c.ExtraURL)
		}
		if c.DeadRegion != "RegionTwo" || c.DeadURL != "http://127.0.0.2:19292" {
			t.Errorf("dead region %q at %q", c.DeadRegion, c.DeadURL)
		}
		if c.EnforceScope != (peerEnv != "") {
			t.Errorf("with peer.env %q: EnforceScope %v", peerEnv, c.EnforceScope)
		}
		if got := strings.Join(c.ImageRegions(), " "); got != "RegionExtra RegionOne RegionPrefix RegionTwo" {
			t.Errorf("ImageRegions() = %s", got)
		}
	}
	// An older folder: no RegionExtra.
	c, err := Load(writeFiles(t, map[string]string{"env": adminEnv, "catalog.templates": catalog}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ExtraRegion != "" || c.ExtraURL != "" || c.EnforceScope || len(c.ImageRegions()) != 3 {
		t.Errorf("extra %q %q, scope %v, regions %v", c.ExtraRegion, c.ExtraURL, c.EnforceScope, c.ImageRegions())
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("OS_CLOUD", "elsewhere")
	t.Setenv("OS_USERNAME", "someone")
	t.Setenv("KEEP_ME", "1")
	c := &Cloud{KeystoneURL: "http://k/v3", Region: "R"}
	env := "\n" + strings.Join(c.Environ(User{Name: "u", Password: "p", Project: "x", Domain: "D"}), "\n") + "\n"
	for _, want := range []string{"\nKEEP_ME=1\n", "\nOS_USERNAME=u\n", "\nOS_AUTH_URL=http://k/v3\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("Environ lacks %q", strings.TrimSpace(want))
		}
	}
	for _, unwanted := range []string{"OS_CLOUD", "OS_USERNAME=someone"} {
		if strings.Contains(env, unwanted) {
			t.Errorf("Environ keeps %s", unwanted)
		}
	}
}

func TestLoadWithoutUsersFile(t *testing.T) {
	// An older layout: no users.env, or one with comments only. An auth URL
	// without /v3 gets it.
	for _, users := range []string{"", "# admin: admin / admin-secret\n"} {
		files := map[string]string{
			"env":               strings.Replace(adminEnv, "/v3", "/", 1),
			"catalog.templates": catalog,
		}
		if users != "" {
			files["users.env"] = users
		}
		c, err := Load(writeFiles(t, files))
		if err != nil {
			t.Fatal(err)
		}
		if c.KeystoneURL != "http://127.0.0.1:15000/v3" {
			t.Errorf("KeystoneURL = %q", c.KeystoneURL)
		}
		if c.AlphaMember != defaultUsers["ALPHA_MEMBER"] || c.Admin.Password != "admin-secret" {
			t.Errorf("AlphaMember = %+v, Admin = %+v", c.AlphaMember, c.Admin)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]map[string]string{
		"no env file":    {"catalog.templates": catalog},
		"no catalog":     {"env": adminEnv},
		"no auth url":    {"env": "export OS_REGION_NAME=RegionOne\n", "catalog.templates": catalog},
		"bad users line": {"env": adminEnv, "catalog.templates": catalog, "users.env": "PEER_USER_ADMIN=\"a b c\"\n"},
		"no region one":  {"env": strings.Replace(adminEnv, "RegionOne", "RegionNine", 1), "catalog.templates": catalog},
		"two regions only": {"env": adminEnv, "catalog.templates": strings.Replace(catalog,
			"catalog.RegionTwo.image.publicURL", "#", 1)},
	}
	for name, files := range cases {
		if c, err := Load(writeFiles(t, files)); err == nil {
			t.Errorf("%s: no error, loaded %+v", name, c)
		}
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty folder: %v, want a not-exist error", err)
	}
}

func TestFindPeerNone(t *testing.T) {
	t.Setenv("GLANCE_PEER_ENV", "none")
	if _, err := findPeer(); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("findPeer with GLANCE_PEER_ENV=none: %v", err)
	}
	t.Setenv("GLANCE_PEER_ENV", t.TempDir())
	if _, err := findPeer(); err == nil {
		t.Error("findPeer on an empty folder: no error")
	}
	// A peer whose Keystone is not running.
	t.Setenv("GLANCE_PEER_ENV", writeFiles(t, map[string]string{
		"env":               strings.Replace(adminEnv, "127.0.0.1:15000", "127.0.0.1:1", 1),
		"catalog.templates": catalog,
	}))
	if _, err := findPeer(); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("findPeer with Keystone down: %v", err)
	}
}

func TestBuildBinary(t *testing.T) {
	bin := BuildBinary(t, "./internal/testenv/testdata/hello")
	if again := BuildBinary(t, "./internal/testenv/testdata/hello"); again != bin {
		t.Errorf("second build at %s, first at %s", again, bin)
	}
	out, err := exec.Command(bin, "a", "b").Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "hello 2\n" {
		t.Errorf("output %q", out)
	}
	if _, err := goBuild("./internal/testenv/testdata/missing"); err == nil {
		t.Error("building a missing package: no error")
	}
}

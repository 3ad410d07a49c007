// Package testenv gives integration tests the real Keystone and Glance that
// scripts/openstack-up.sh starts: their URLs, regions and users, tokens for
// those users, and the project's binaries built once per test process.
//
// The peer is found through GLANCE_PEER_ENV (or GLANCE_PEER_DIR), the folder
// that openstack-up.sh wrote, and else /tmp/peer when Keystone answers there.
// Without a peer, tests skip loudly; with GLANCE_REQUIRE_PEER=1 they fail.
//
//	func TestImageList(t *testing.T) {
//		peer := testenv.Peer(t)
//		token := peer.Token(t, peer.AlphaMember) // for requests of your own
//		cmd := exec.Command(testenv.BuildBinary(t, "./cmd/glance"), "image-list")
//		cmd.Env = peer.Environ(peer.AlphaReader)
//		...
//	}
package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultDir is where a developer's peer is looked for when no variable names one.
const DefaultDir = "/tmp/peer"

// A User is one Keystone user of the peer, with a role on one project.
type User struct {
	Name     string
	Password string
	Project  string
	Domain   string // the name of the domain of both the user and the project
	Role     string // admin, member or reader
}

// A Cloud describes a running peer.
type Cloud struct {
	Dir         string // the folder openstack-up.sh wrote
	KeystoneURL string // the Identity v3 endpoint, ending in /v3
	GlanceURL   string // Glance in Region, with no path
	PrefixURL   string // the same Glance behind nginx under /image, in PrefixRegion
	DeadURL     string // where DeadRegion's catalog entry points: nothing listens
	// ExtraURL is ExtraRegion's image endpoint, where nothing listens until
	// another image service is started there (scripts/glanced-up.sh); empty
	// for peers started before the catalog had that region.
	ExtraURL string

	Region       string // RegionOne
	PrefixRegion string // RegionPrefix
	DeadRegion   string // RegionTwo
	ExtraRegion  string // RegionExtra

	// EnforceScope says that Glance runs with oslo.policy's enforce_scope
	// (GLANCE_ENFORCE_SCOPE): system-scoped tokens are refused on images.
	EnforceScope bool

	Admin       User // admin in project admin
	AlphaMember User // member in project alpha
	AlphaReader User // reader in project alpha
	BetaMember  User // member in project beta
	BetaReader  User // reader in project beta
	Glance      User // Glance's own service user, admin in project service
}

// Users returns every user of the peer.
func (c *Cloud) Users() []User {
	return []User{c.Admin, c.AlphaMember, c.AlphaReader, c.BetaMember, c.BetaReader, c.Glance}
}

// OSEnv returns the OS_* variables that log u in to the peer, in the form
// exec.Cmd.Env takes, for running a command-line client as u.
func (c *Cloud) OSEnv(u User) []string {
	return []string{
		"OS_AUTH_URL=" + c.KeystoneURL,
		"OS_IDENTITY_API_VERSION=3",
		"OS_USERNAME=" + u.Name,
		"OS_PASSWORD=" + u.Password,
		"OS_PROJECT_NAME=" + u.Project,
		"OS_USER_DOMAIN_NAME=" + u.Domain,
		"OS_PROJECT_DOMAIN_NAME=" + u.Domain,
		"OS_REGION_NAME=" + c.Region,
		"OS_INTERFACE=public",
	}
}

// Environ returns this process's environment with its OS_* variables replaced by
// OSEnv(u), for a command that must see u's credentials and no one else's.
func (c *Cloud) Environ(u User) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	return append(env, c.OSEnv(u)...)
}

// The users of every peer the start scripts make. DIR/users.env may override them.
var defaultUsers = map[string]User{
	"ADMIN":        {"admin", "admin-secret", "admin", "Default", "admin"},
	"GLANCE":       {"glance", "glance-secret", "service", "Default", "admin"},
	"ALPHA_MEMBER": {"alpha-user", "alpha-secret", "alpha", "Default", "member"},
	"ALPHA_READER": {"alpha-reader", "alpha-reader-secret", "alpha", "Default", "reader"},
	"BETA_MEMBER":  {"beta-user", "beta-secret", "beta", "Default", "member"},
	"BETA_READER":  {"beta-reader", "beta-reader-secret", "beta", "Default", "reader"},
}

// ImageRegions returns the regions that have an image endpoint in the
// peer's catalog, sorted.
func (c *Cloud) ImageRegions() []string {
	var rs []string
	for _, r := range []string{c.Region, c.PrefixRegion, c.DeadRegion, c.ExtraRegion} {
		if r != "" {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	return rs
}

// defaultExtraRegion names the region for another image service when
// peer.env does not.
const defaultExtraRegion = "RegionExtra"

// Load reads the description of the peer in dir, without checking that it runs:
// DIR/env (admin's OS_* variables), DIR/catalog.templates (Keystone's catalog,
// for the Glance endpoints) and, when present, DIR/users.env and DIR/peer.env
// (the settings the peer was started with).
func Load(dir string) (*Cloud, error) {
	env, err := readEnvFile(filepath.Join(dir, "env"))
	if err != nil {
		return nil, err
	}
	c := &Cloud{Dir: dir, KeystoneURL: strings.TrimSuffix(env["OS_AUTH_URL"], "/"), Region: env["OS_REGION_NAME"]}
	if c.KeystoneURL == "" || c.Region == "" {
		return nil, fmt.Errorf("%s/env: OS_AUTH_URL and OS_REGION_NAME must be set", dir)
	}
	if !strings.HasSuffix(c.KeystoneURL, "/v3") {
		c.KeystoneURL += "/v3"
	}

	users := make(map[string]User, len(defaultUsers))
	for k, u := range defaultUsers {
		users[k] = u
	}
	ue, err := readEnvFile(filepath.Join(dir, "users.env"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for k, v := range ue {
		key, ok := strings.CutPrefix(k, "PEER_USER_")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 5 {
			return nil, fmt.Errorf("%s/users.env: %s: want 5 fields (name password project domain role), have %d", dir, k, len(f))
		}
		users[key] = User{Name: f[0], Password: f[1], Project: f[2], Domain: f[3], Role: f[4]}
	}
	c.Admin, c.Glance = users["ADMIN"], users["GLANCE"]
	c.AlphaMember, c.AlphaReader = users["ALPHA_MEMBER"], users["ALPHA_READER"]
	c.BetaMember, c.BetaReader = users["BETA_MEMBER"], users["BETA_READER"]

	pe, err := readEnvFile(filepath.Join(dir, "peer.env"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	c.EnforceScope = pe["PEER_GLANCE_ENFORCE_SCOPE"] == "true"
	extra := pe["PEER_EXTRA_REGION"]
	if extra == "" {
		extra = defaultExtraRegion
	}

	f, err := os.Open(filepath.Join(dir, "catalog.templates"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	images, err := parseCatalog(f)
	if err != nil {
		return nil, fmt.Errorf("%s/catalog.templates: %w", dir, err)
	}
	if u, ok := images[extra]; ok {
		c.ExtraRegion, c.ExtraURL = extra, u
		delete(images, extra)
	}
	if err := c.setEndpoints(images); err != nil {
		return nil, fmt.Errorf("%s/catalog.templates: %w", dir, err)
	}
	return c, nil
}

// setEndpoints sorts the image endpoints of the catalog (region to public URL):
// the one in c.Region, one under a path prefix, one more without.
func (c *Cloud) setEndpoints(images map[string]string) error {
	c.GlanceURL = images[c.Region]
	if c.GlanceURL == "" {
		return fmt.Errorf("no image endpoint in region %s", c.Region)
	}
	for region, u := range images {
		if region == c.Region {
			continue
		}
		p, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("region %s: %w", region, err)
		}
		if strings.Trim(p.Path, "/") != "" {
			c.PrefixRegion, c.PrefixURL = region, u
		} else {
			c.DeadRegion, c.DeadURL = region, u
		}
	}
	if c.PrefixURL == "" || c.DeadURL == "" {
		return errors.New("want image endpoints in three regions: the main one, one under a path prefix, one dead")
	}
	return nil
}

// parseCatalog returns the public image endpoint of each region in Keystone's
// templated catalog, lines like "catalog.RegionOne.image.publicURL = http://...".
func parseCatalog(r io.Reader) (map[string]string, error) {
	images := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		parts := strings.Split(strings.TrimSpace(k), ".")
		if len(parts) == 4 && parts[0] == "catalog" && parts[2] == "image" && parts[3] == "publicURL" {
			images[parts[1]] = strings.TrimRight(strings.TrimSpace(v), "/")
		}
	}
	return images, sc.Err()
}

// readEnvFile reads a file of shell assignments: KEY=VALUE, optionally after
// "export ", with the value optionally in single or double quotes. Blank lines
// and lines starting with # are skipped; anything else is an error.
func readEnvFile(name string) (map[string]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := parseEnv(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

func parseEnv(r io.Reader) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("line %d: not KEY=VALUE: %q", n, line)
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
			if v[len(v)-1] != v[0] {
				return nil, fmt.Errorf("line %d: unbalanced quote: %q", n, line)
			}
			v = v[1 : len(v)-1]
		}
		m[k] = v
	}
	return m, sc.Err()
}

var (
	peerOnce  sync.Once
	peerCloud *Cloud
	peerErr   error
)

// Peer returns the running peer. When there is none, it skips the test with a
// loud message, or fails it when GLANCE_REQUIRE_PEER=1 (as scripts/test.sh sets).
// The peer is looked for once per test process.
func Peer(t testing.TB) *Cloud {
	t.Helper()
	peerOnce.Do(func() { peerCloud, peerErr = findPeer() })
	if peerErr != nil {
		msg := "INTEGRATION TEST SKIPPED: no Keystone+Glance peer; run scripts/test.sh (" + peerErr.Error() + ")"
		if os.Getenv("GLANCE_REQUIRE_PEER") == "1" {
			t.Fatal(strings.Replace(msg, "SKIPPED", "FAILED (GLANCE_REQUIRE_PEER=1)", 1))
		}
		t.Skip(msg)
	}
	return peerCloud
}

func findPeer() (*Cloud, error) {
	dir, named := os.Getenv("GLANCE_PEER_ENV"), "GLANCE_PEER_ENV"
	if dir == "" {
		dir, named = os.Getenv("GLANCE_PEER_DIR"), "GLANCE_PEER_DIR"
	}
	switch dir {
	case "none":
		return nil, fmt.Errorf("%s=none", named)
	case "":
		dir, named = DefaultDir, "default "+DefaultDir
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		dir = filepath.Dir(dir) // the env file itself was named
	}
	c, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", named, err)
	}
	if err := ping(c.KeystoneURL); err != nil {
		return nil, fmt.Errorf("%s: Keystone does not answer: %w", named, err)
	}
	return c, nil
}

func ping(u string) error {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

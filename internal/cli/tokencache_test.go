package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

// The token cache tests run the built glance against the real peer, each
// with a cache directory of its own. Keystone is reached through a
// recording proxy that counts logins (POST /v3/auth/tokens), so that a
// test can tell a cached token from a fresh one.

type cacheRig struct {
	t      *testing.T
	bin    string
	peer   *testenv.Cloud
	home   string // HOME and XDG_CACHE_HOME's parent
	dir    string // where the entries live
	auth   string // the proxy's /v3 URL
	logins atomic.Int64
}

func newCacheRig(t *testing.T) *cacheRig {
	t.Helper()
	peer := testenv.Peer(t)
	r := &cacheRig{t: t, bin: testenv.BuildBinary(t, "./cmd/glance"), peer: peer, home: t.TempDir()}
	r.dir = filepath.Join(r.home, ".cache", "glance", "tokens")

	target, err := url.Parse(peer.KeystoneURL)
	if err != nil {
		t.Fatal(err)
	}
	target.Path = ""
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true // Keystone under uwsgi drops idle connections unannounced
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: tr,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && strings.TrimSuffix(req.URL.Path, "/") == "/v3/auth/tokens" {
			r.logins.Add(1)
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.auth = srv.URL + "/v3"

	// Whatever a test did, no file under the cache may hold a password.
	t.Cleanup(func() { r.noSecrets() })
	return r
}

// env is u's environment for glance, with Keystone behind the proxy and
// this test's own home and cache.
func (r *cacheRig) env(u testenv.User, extra ...string) []string {
	env := append(r.peer.Environ(u),
		"OS_AUTH_URL="+r.auth,
		"OS_IMAGE_API_VERSION=2",
		"HOME="+r.home,
		"XDG_CACHE_HOME="+filepath.Join(r.home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(r.home, ".config"),
		"GLANCECLIENT_DEBUG=",
	)
	return append(env, extra...) // the last of duplicate names wins
}

// run runs glance and returns its stdout and stderr, failing the test
// when it does not exit 0.
func (r *cacheRig) run(env []string, args ...string) (string, string) {
	r.t.Helper()
	out, errOut, err := r.exec(env, args...)
	if err != nil {
		r.t.Fatalf("glance %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out, errOut
}

func (r *cacheRig) exec(env []string, args ...string) (string, string, error) {
	cmd := exec.Command(r.bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// wantLogins checks the number of logins Keystone has seen so far.
func (r *cacheRig) wantLogins(want int64, when string) {
	r.t.Helper()
	if got := r.logins.Load(); got != want {
		r.t.Fatalf("%s: Keystone saw %d logins, want %d", when, got, want)
	}
}

// entries lists the cache files.
func (r *cacheRig) entries() []string {
	r.t.Helper()
	files, err := filepath.Glob(filepath.Join(r.dir, "*.json"))
	if err != nil {
		r.t.Fatal(err)
	}
	return files
}

// entry is what a cache file says about its token.
type entry struct {
	Token struct {
		ID     string `json:"token"`
		UserID string `json:"user_id"`
	} `json:"token"`
}

// firstList runs a first image-list, which must log in once and leave one
// entry, and returns that entry.
func (r *cacheRig) firstList(env []string) (string, entry) {
	r.t.Helper()
	r.run(env, "image-list", "--limit", "1")
	r.wantLogins(1, "first command")
	return r.only()
}

func (r *cacheRig) only() (string, entry) {
	r.t.Helper()
	files := r.entries()
	if len(files) != 1 {
		r.t.Fatalf("%d cache entries (%v), want 1", len(files), files)
	}
	return files[0], r.read(files[0])
}

func (r *cacheRig) read(path string) entry {
	r.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		r.t.Fatal(err)
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		r.t.Fatalf("%s: %v", path, err)
	}
	if e.Token.ID == "" {
		r.t.Fatalf("%s holds no token", path)
	}
	return e
}

// noSecrets fails when a file under the test's home (the cache included)
// holds one of the peer's passwords.
func (r *cacheRig) noSecrets() {
	err := filepath.WalkDir(r.home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, u := range r.peer.Users() {
			if bytes.Contains(b, []byte(u.Password)) {
				r.t.Errorf("%s contains the password of %s", path, u.Name)
			}
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		r.t.Error(err)
	}
}

func TestTokenCacheOneLoginForTwoCommands(t *testing.T) {
	t.Parallel()
	r := newCacheRig(t)
	env := r.env(r.peer.AlphaMember)
	path, first := r.firstList(env)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", path, fi.Mode().Perm())
	}
	if fi, err := os.Stat(r.dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v, mode %v; want 0700", err, fi.Mode())
	}
	_, stderr := r.run(env, "--debug", "image-list", "--limit", "1")
	r.wantLogins(1, "second command")
	if !strings.Contains(stderr, "Using a cached token") || strings.Contains(stderr, "auth/tokens") || strings.Contains(stderr, "warning") {
		t.Errorf("second command, --debug: want the cached token named and no login nor warning; stderr:\n%s", stderr)
	}
	if _, second := r.only(); second.Token.ID != first.Token.ID {
		t.Error("the second command replaced the cached token")
	}
}

func TestTokenCacheOff(t *testing.T) {
	t.Parallel()
	r := newCacheRig(t)
	for i, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--no-token-cache", r.env(r.peer.AlphaMember), []string{"--no-token-cache", "image-list", "--limit", "1"}},
		{"OS_TOKEN_CACHE=false", r.env(r.peer.AlphaMember, "OS_TOKEN_CACHE=false"), []string{"image-list", "--limit", "1"}},
		{"OS_TOKEN_CACHE=off", r.env(r.peer.AlphaMember, "OS_TOKEN_CACHE=off"), []string{"image-list", "--limit", "1"}},
	} {
		r.run(c.env, c.args...)
		r.run(c.env, c.args...)
		r.wantLogins(int64(2*(i+1)), c.name+", two commands")
		if files := r.entries(); len(files) != 0 {
			t.Fatalf("%s: the cache was written: %v", c.name, files)
		}
	}

	// A value that is not a boolean is refused, not guessed at.
	_, stderr, err := r.exec(r.env(r.peer.AlphaMember, "OS_TOKEN_CACHE=maybe"), "image-list")
	if err == nil || !strings.Contains(stderr, "OS_TOKEN_CACHE") {
		t.Errorf("OS_TOKEN_CACHE=maybe: err %v, stderr %q; want a failure naming the variable", err, stderr)
	}
}

func TestTokenCacheRevokedToken(t *testing.T) {
	t.Parallel()
	r := newCacheRig(t)
	env := r.env(r.peer.AlphaMember)
	// A first command logs in and caches the token, then fails on an image
	// URL where nothing listens: Glance never sees that token, so its own
	// token cache (keystonemiddleware keeps valid tokens for minutes)
	// cannot hide the revocation.
	if _, stderr, err := r.exec(env, "--os-image-url", r.peer.DeadURL, "image-list"); err == nil {
		t.Fatalf("image-list at %s succeeded; stderr %q", r.peer.DeadURL, stderr)
	}
	r.wantLogins(1, "first command")
	_, old := r.only()

	req, err := http.NewRequest(http.MethodDelete, r.peer.KeystoneURL+"/auth/tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", r.peer.Token(t, r.peer.Admin))
	req.Header.Set("X-Subject-Token", old.Token.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoking the cached token: %s", resp.Status)
	}

	r.run(env, "image-list", "--limit", "1")
	r.wantLogins(2, "command after the revocation")
	if _, cur := r.only(); cur.Token.ID == old.Token.ID {
		t.Error("the cache still holds the revoked token")
	}
	r.run(env, "image-list", "--limit", "1")
	r.wantLogins(2, "next command")
}

func TestTokenCacheUnsafePermissions(t *testing.T) {
	t.Parallel()
	r := newCacheRig(t)
	env := r.env(r.peer.AlphaMember)
	path, first := r.firstList(env)

	warned := func(stderr, what string) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		for _, l := range lines {
			if !strings.HasPrefix(l, "glance: warning: ") {
				t.Errorf("%s: stderr line %q is not a warning", what, l)
			}
		}
		if !strings.Contains(stderr, "open to other users") {
			t.Errorf("%s: no warning about permissions; stderr %q", what, stderr)
		}
	}

	// A file others can read is not used.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr := r.run(env, "image-list", "--limit", "1")
	warned(stderr, "file 0644")
	r.wantLogins(2, "file 0644")
	if _, cur := r.only(); cur.Token.ID == first.Token.ID {
		t.Error("file 0644: the exposed token is still cached")
	}

	// Nor is a directory others can enter, for reading or for writing.
	if err := os.Chmod(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		_, stderr = r.run(env, "image-list", "--limit", "1")
		warned(stderr, "directory 0755")
		r.wantLogins(int64(3+i), "directory 0755")
	}
	if files := r.entries(); len(files) != 0 {
		t.Errorf("directory 0755: entries were written: %v", files)
	}
}

func TestTokenCacheUsersApart(t *testing.T) {
	t.Parallel()
	r := newCacheRig(t)
	alpha, beta := r.env(r.peer.AlphaMember), r.env(r.peer.BetaMember)
	name := "tokencache-" + runID()
	id, _ := r.run(alpha, "image-create", "--name", name, "--visibility", "private",
		"--disk-format", "raw", "--container-format", "bare", "-f", "value", "-c", "id")
	id = strings.TrimSpace(id)
	t.Cleanup(func() { r.exec(alpha, "image-delete", id) })

	// beta twice: the second run uses beta's cached token, which must not
	// be alpha's.
	for range 2 {
		out, _ := r.run(beta, "image-list")
		if strings.Contains(out, id) {
			t.Fatalf("beta sees alpha's private image %s:\n%s", id, out)
		}
	}
	out, _ := r.run(alpha, "image-list")
	if !strings.Contains(out, id) {
		t.Fatalf("alpha does not see its own image %s:\n%s", id, out)
	}
	r.wantLogins(2, "two users, four commands")

	files := r.entries()
	if len(files) != 2 {
		t.Fatalf("%d cache entries (%v), want one per user", len(files), files)
	}
	var users []string
	for _, f := range files {
		users = append(users, r.read(f).Token.UserID)
	}
	want := []string{r.peer.Auth(t, r.peer.AlphaMember).UserID, r.peer.Auth(t, r.peer.BetaMember).UserID}
	slices.Sort(users)
	slices.Sort(want)
	if !slices.Equal(users, want) {
		t.Errorf("entries belong to users %v, want %v", users, want)
	}

	// token-cache-clear says what it removed and removes it.
	out, _ = r.run(alpha, "token-cache-clear")
	for _, f := range files {
		if !strings.Contains(out, "Removed "+f) {
			t.Errorf("token-cache-clear does not name %s:\n%s", f, out)
		}
	}
	if left := r.entries(); len(left) != 0 {
		t.Errorf("entries left after token-cache-clear: %v", left)
	}
	out, _ = r.run(alpha, "token-cache-clear")
	if !strings.Contains(out, "No cached tokens") {
		t.Errorf("token-cache-clear on an empty cache:\n%s", out)
	}
	r.run(alpha, "image-show", id)
	r.wantLogins(3, "command after token-cache-clear")
}

func TestTokenCacheNotForGivenTokens(t *testing.T) {
	t.Parallel()
	r := newCacheRig(t)
	tok := r.peer.Token(t, r.peer.AlphaMember)
	env := r.env(r.peer.AlphaMember)
	r.run(env, "--os-auth-token", tok, "--os-image-url", r.peer.GlanceURL, "image-list", "--limit", "1")
	// A token exchanged at Keystone for one with a catalog is not kept either.
	r.run(r.env(r.peer.AlphaMember, "OS_PASSWORD="), "--os-auth-token", tok, "image-list", "--limit", "1")
	var written []string
	filepath.WalkDir(filepath.Join(r.home, ".cache"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			written = append(written, path)
		}
		return nil
	})
	if len(written) != 0 {
		t.Errorf("a given token was cached: %v", written)
	}
}

package auth

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// warnings collects what a cache reports.
type warnings struct {
	mu   sync.Mutex
	errs []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err.Error())
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.errs, "; ")
}

func newTestCache(t *testing.T) (*TokenCache, *warnings) {
	w := &warnings{}
	return &TokenCache{Dir: filepath.Join(t.TempDir(), "glance", "tokens"), Warn: w.add}, w
}

// cachedFake returns a fake Keystone and options to log in to it with a
// fresh cache.
func cachedFake(t *testing.T) (*fakeKeystone, *TokenCache, *warnings, Options) {
	f := newFakeKeystone(t)
	c, w := newTestCache(t)
	o := f.v2Options()
	o.Cache = c
	return f, c, w, o
}

func cacheFiles(t *testing.T, c *TokenCache) []string {
	t.Helper()
	ents, err := os.ReadDir(c.Dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCacheSavesALogin(t *testing.T) {
	f, c, w, o := cachedFake(t)
	a := openT(t, o)
	b := openT(t, o)
	if f.loginCount() != 1 || a.Cached() || !b.Cached() {
		t.Fatalf("%d logins, cached %v %v", f.loginCount(), a.Cached(), b.Cached())
	}
	if mustToken(t, b) != mustToken(t, a) || b.Endpoint() != a.Endpoint() || b.ProjectID() != fakeTenantID || b.UserID() != fakeUserID {
		t.Errorf("cached session differs: %q %q %q", b.Endpoint(), b.ProjectID(), b.UserID())
	}

	files := cacheFiles(t, c)
	if len(files) != 1 || !strings.HasSuffix(files[0], ".json") || len(files[0]) != 64+5 {
		t.Fatalf("files %v: want one <sha256>.json and no temporary file", files)
	}
	for path, want := range map[string]os.FileMode{c.Dir: 0o700, filepath.Dir(c.Dir): 0o700, filepath.Join(c.Dir, files[0]): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v %v, want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(c.Dir, files[0]))
	if strings.Contains(string(raw), fakePassword) {
		t.Error("the password is in the cache file")
	}
	if w.String() != "" {
		t.Errorf("warnings: %s", w)
	}
}

func TestCacheKeys(t *testing.T) {
	key := func(o Options) string {
		if o.AuthURL == "" {
			o.AuthURL = "http://k/v3"
		}
		p, err := newPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		return fingerprint(p)
	}
	base := Options{Username: "alice", Password: "pw", UserDomainName: "D", ProjectName: "p", ProjectDomainName: "D"}
	k := key(base)
	if key(Merge(base, Options{Password: "other"})) != k {
		t.Error("the password changes the key: it must not be part of it")
	}
	if key(Merge(base, Options{Interface: "publicURL"})) != k {
		t.Error("publicURL and public name different entries")
	}
	seen := map[string]string{k: "base"}
	for name, change := range map[string]Options{
		"user":           {Username: "bob"},
		"user domain":    {UserDomainName: "E"},
		"user id":        {UserID: "alice"},
		"project":        {ProjectName: "q"},
		"project id":     {ProjectID: "p"},
		"project domain": {ProjectDomainName: "E"},
		"region":         {RegionName: "R"},
		"interface":      {Interface: "internal"},
		"auth type":      {AuthType: "v3password"},
		"auth url":       {AuthURL: "http://other/v3"},
		"app cred":       {ApplicationCredentialID: "x", ApplicationCredentialSecret: "s"},
		"joined fields":  {Username: "alice\",\"D", UserDomainName: ","},
	} {
		k2 := key(Merge(base, change))
		if prev, dup := seen[k2]; dup {
			t.Errorf("%s shares an entry with %s", name, prev)
		}
		seen[k2] = name
	}
}

func TestCacheTwoUsers(t *testing.T) {
	f := newFakeKeystone(t)
	c, _ := newTestCache(t)
	alice := f.v2Options()
	alice.Cache = c
	bob := alice
	bob.Username = "bob" // the fake refuses bob: his Open must not take alice's token
	openT(t, alice)
	if _, err := Open(testCtx(t), bob); err == nil {
		t.Fatal("bob got alice's cached token")
	}
	if f.loginCount() != 2 {
		t.Errorf("%d logins, want 2", f.loginCount())
	}
}

func TestCacheExpiry(t *testing.T) {
	f, c, _, o := cachedFake(t)
	openT(t, o)
	// 60 minutes left: reused with the default margin, not with 61 minutes.
	c.Margin = 61 * time.Minute
	s := openT(t, o)
	if s.Cached() || f.loginCount() != 2 {
		t.Errorf("a token short of the margin was reused (%d logins)", f.loginCount())
	}
	c.Margin = 0
	c.now = func() time.Time { return time.Now().Add(56 * time.Minute) }
	if s := openT(t, o); s.Cached() {
		t.Error("a token with 4 minutes left was reused")
	}
	c.now = nil
	if s := openT(t, o); !s.Cached() {
		t.Error("a fresh token was not reused")
	}
}

func TestCacheExplicitTokenNeverStored(t *testing.T) {
	f := newFakeKeystone(t)
	c, _ := newTestCache(t)
	openT(t, Options{AuthURL: f.URL + "/v2.0", Token: fakeGivenToken, ProjectName: fakeTenant, Cache: c})
	openT(t, Options{Token: fakeGivenToken, Endpoint: f.URL + "/public", Cache: c})
	if files := cacheFiles(t, c); len(files) != 0 {
		t.Errorf("cache files %v", files)
	}
}

func TestCacheRefusedTokenIsReplaced(t *testing.T) {
	f, _, w, o := cachedFake(t)
	openT(t, o)
	f.revokeAll()
	s := openT(t, o)
	if !s.Cached() {
		t.Fatal("not from the cache")
	}
	if code, _, err := do(t, s, "GET", s.Endpoint()+"/v2/x", nil); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	s2 := openT(t, o)
	if !s2.Cached() || mustToken(t, s2) != "tok-2" || f.loginCount() != 2 {
		t.Errorf("cache holds %q after %d logins, want tok-2 after 2", mustToken(t, s2), f.loginCount())
	}
	if w.String() != "" {
		t.Errorf("warnings: %s", w)
	}
}

func TestCacheRefusesUnsafeFiles(t *testing.T) {
	f := newFakeKeystone(t)
	o := f.v2Options()
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, c *TokenCache, file string)
		warn  string
	}{
		{"open directory", func(t *testing.T, c *TokenCache, _ string) { os.Chmod(c.Dir, 0o755) }, "open to other users (mode 0755)"},
		{"open file", func(t *testing.T, c *TokenCache, file string) { os.Chmod(file, 0o644) }, "open to other users (mode 0644)"},
		{"symlink", func(t *testing.T, c *TokenCache, file string) {
			target := filepath.Join(t.TempDir(), "planted.json")
			b, _ := os.ReadFile(file)
			os.WriteFile(target, b, 0o600)
			os.Remove(file)
			if err := os.Symlink(target, file); err != nil {
				t.Fatal(err)
			}
		}, "symbolic links"},
		{"other owner", func(t *testing.T, c *TokenCache, file string) {
			if os.Getuid() != 0 {
				t.Skip("SKIPPED: changing a file's owner needs root")
			}
			if err := os.Chown(file, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "belongs to user 65534"},
		{"garbage", func(t *testing.T, c *TokenCache, file string) { os.WriteFile(file, []byte("{"), 0o600) }, "unexpected end of JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newTestCache(t)
			o.Cache = c
			openT(t, o)
			files := cacheFiles(t, c)
			if len(files) != 1 {
				t.Fatalf("files %v", files)
			}
			before := f.loginCount()
			tc.spoil(t, c, filepath.Join(c.Dir, files[0]))
			s := openT(t, o)
			if s.Cached() || f.loginCount() != before+1 {
				t.Errorf("the spoilt entry was used")
			}
			if got := w.String(); !strings.Contains(got, tc.warn) {
				t.Errorf("warning %q, want %q", got, tc.warn)
			}
		})
	}
}

func TestCacheClear(t *testing.T) {
	_, c, _, o := cachedFake(t)
	openT(t, o)
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	if files := cacheFiles(t, c); len(files) != 0 {
		t.Errorf("files %v", files)
	}
	if err := (&TokenCache{Dir: filepath.Join(t.TempDir(), "none")}).Clear(); err != nil {
		t.Errorf("clearing a missing directory: %v", err)
	}
}

func TestDefaultTokenCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	c, err := NewTokenCache("")
	if err != nil || c.Dir != "/x/cache/glance/tokens" {
		t.Errorf("%+v %v", c, err)
	}
}

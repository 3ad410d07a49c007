package auth

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peerEnv returns the admin settings of the real Keystone: the OS_*
// variables when OS_AUTH_URL is set, else the env file written by the
// peer's start script ($GLANCE_PEER_DIR/env, default /tmp/peer/env).
func peerEnv() map[string]string {
	if os.Getenv("OS_AUTH_URL") != "" {
		m := map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OS_") {
				m[k] = v
			}
		}
		return m
	}
	dir := os.Getenv("GLANCE_PEER_DIR")
	if dir == "" {
		dir = "/tmp/peer"
	}
	f, err := os.Open(dir + "/env")
	if err != nil {
		return nil
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "OS_") {
			m[k] = strings.Trim(v, `"'`)
		}
	}
	return m
}

var (
	peerOnce sync.Once
	peerVars map[string]string
	peerErr  string
)

// needPeer skips the test, loudly, when the real Keystone is not running.
func needPeer(t testing.TB) map[string]string {
	t.Helper()
	peerOnce.Do(func() {
		peerVars = peerEnv()
		if peerVars["OS_AUTH_URL"] == "" {
			peerErr = "no OS_AUTH_URL and no peer env file (start it with scripts or /work/shared/peers/openstack-up.sh /tmp/peer)"
			return
		}
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(peerVars["OS_AUTH_URL"])
		if err != nil {
			peerErr = "Keystone at " + peerVars["OS_AUTH_URL"] + " unreachable: " + err.Error()
			return
		}
		resp.Body.Close()
	})
	if peerErr != "" {
		t.Skip("SKIPPED: real OpenStack peer unavailable: " + peerErr)
	}
	return peerVars
}

// adminOptions are the peer's admin credentials, by name.
func adminOptions(t testing.TB) Options {
	v := needPeer(t)
	return Options{
		AuthURL:           v["OS_AUTH_URL"],
		Username:          v["OS_USERNAME"],
		Password:          v["OS_PASSWORD"],
		ProjectName:       v["OS_PROJECT_NAME"],
		UserDomainName:    v["OS_USER_DOMAIN_NAME"],
		ProjectDomainName: v["OS_PROJECT_DOMAIN_NAME"],
		RegionName:        "RegionOne",
	}
}

// userOptions are the credentials of one of the peer's tenant users.
func userOptions(t testing.TB, user, password, project string) Options {
	o := adminOptions(t)
	o.Username, o.Password, o.ProjectName = user, password, project
	return o
}

// recorder counts the requests that pass through it.
type recorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	logins int // POSTs to .../tokens
	all    []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.all = append(r.all, req.Method+" "+req.URL.String())
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/tokens") {
		r.logins++
	}
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper {
	r.next = next
	return r
}

func (r *recorder) loginCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logins
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var uniq atomic.Int64

// uniqueName returns a name no other test run uses.
func uniqueName(prefix string) string {
	return prefix + "-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+uniq.Add(1)%26))
}

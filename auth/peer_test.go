package auth

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// peer returns the running Keystone and Glance, or skips the test loudly.
func peer(t testing.TB) *testenv.Cloud {
	t.Helper()
	return testenv.Peer(t)
}

// optionsFor logs u in to the peer's Keystone by name, in its first region.
func optionsFor(t testing.TB, u testenv.User) Options {
	c := peer(t)
	return Options{
		AuthURL:           c.KeystoneURL,
		Username:          u.Name,
		Password:          u.Password,
		ProjectName:       u.Project,
		UserDomainName:    u.Domain,
		ProjectDomainName: u.Domain,
		RegionName:        c.Region,
	}
}

// adminOptions are the peer's admin credentials.
func adminOptions(t testing.TB) Options { return optionsFor(t, peer(t).Admin) }

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

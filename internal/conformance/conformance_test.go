package conformance

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// peerEnv reads the admin credentials file the peer script writes, so
// the tests find Keystone without a sourced environment.
func peerEnv() map[string]string {
	env := map[string]string{}
	f, err := os.Open("/tmp/peer/env")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
			if ok {
				env[k] = strings.Trim(v, `"'`)
			}
		}
	}
	for _, k := range []string{"OS_AUTH_URL"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	if env["OS_AUTH_URL"] == "" {
		env["OS_AUTH_URL"] = "http://127.0.0.1:15000/v3"
	}
	return env
}

// reachable reports whether something answers HTTP at url.
func reachable(url string) bool {
	c := &http.Client{Timeout: 5 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return false
	}
	r.Body.Close()
	return true
}

func peerTarget(t *testing.T, imageURL string) Target {
	t.Helper()
	authURL := peerEnv()["OS_AUTH_URL"]
	if !reachable(authURL) {
		t.Skipf("SKIPPING: no Keystone answers at %s; start the peer with scripts (openstack-up.sh)", authURL)
	}
	return Target{
		URL:        imageURL,
		Credential: KeystoneCredentials(nil, authURL, PeerUsers),
	}
}

func TestRealGlance(t *testing.T) {
	url := "http://127.0.0.1:19292"
	if v := os.Getenv("CONFORMANCE_GLANCE_URL"); v != "" {
		url = v
	}
	tg := peerTarget(t, url)
	if !reachable(url) {
		t.Skipf("SKIPPING: no Glance answers at %s; start the peer with scripts (openstack-up.sh)", url)
	}
	tg.Stores = []string{"fast", "slow"}
	tg.Cache = true
	Run(t, tg)
}

var _ = context.Background
var _ = net.Listen

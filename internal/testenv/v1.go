package testenv

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// V1Endpoint is an Image API v1 endpoint for integration tests. The real
// Glance removed v1 in Rocky (2018) and the peer's Glance 25.1 does not serve
// it, so the endpoint is glanced's /v1: GLANCE_V1_URL names one (e.g.
// http://127.0.0.1:9393/v1), else the test starts a glanced of its own with
// --enable-v1 (StartGlanced: keystone mode on the peer's Keystone when the
// peer runs, noauth otherwise).
//
// Credentials: GLANCE_V1_TOKEN when set; else, when the peer runs, a token of
// its alpha member (so a glanced that checks tokens against the peer's
// Keystone accepts it); else none, for a server without auth. Images are
// shared with GLANCE_V1_MEMBER, else the peer's beta project, else a made-up
// project ID (Glance does not check member IDs).
type V1Endpoint struct {
	URL          string
	Token        string       // "" when the server takes none
	HTTPClient   *http.Client // sends Token
	OtherProject string       // a project to share images with
}

// V1 returns the v1 endpoint GLANCE_V1_URL names, or that of a glanced it
// starts for the test.
func V1(t testing.TB) *V1Endpoint {
	t.Helper()
	u := strings.TrimRight(os.Getenv("GLANCE_V1_URL"), "/")
	if u == "" {
		u = StartGlanced(t, "--enable-v1=true").URL + "/v1"
	}
	e := &V1Endpoint{URL: u, Token: os.Getenv("GLANCE_V1_TOKEN"), OtherProject: os.Getenv("GLANCE_V1_MEMBER")}
	peerOnce.Do(func() { peerCloud, peerErr = findPeer() })
	if peerErr == nil {
		if e.Token == "" {
			e.Token = peerCloud.Token(t, peerCloud.AlphaMember)
		}
		if e.OtherProject == "" {
			e.OtherProject = peerCloud.Auth(t, peerCloud.BetaMember).ProjectID
		}
	}
	if e.OtherProject == "" {
		e.OtherProject = "0c1d2e3f40514a6b8c9d0e1f2a3b4c5d"
	}
	e.HTTPClient = TokenClient(e.Token)
	return e
}

// Environ is the environment for the glance command against the endpoint,
// with API version 1 chosen by OS_IMAGE_API_VERSION.
func (e *V1Endpoint) Environ() []string {
	env := []string{"OS_IMAGE_URL=" + e.URL, "OS_IMAGE_API_VERSION=1", "OS_TOKEN_CACHE=false"}
	if e.Token != "" {
		return append(env, "OS_AUTH_TOKEN="+e.Token)
	}
	return append(env, "OS_AUTH_TYPE=none")
}

// TokenClient returns an HTTP client that sends token (none when empty) in
// X-Auth-Token.
func TokenClient(token string) *http.Client {
	return &http.Client{Transport: tokenTransport{token, http.DefaultTransport}}
}

type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.token == "" {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("X-Auth-Token", t.token)
	return t.next.RoundTrip(r)
}

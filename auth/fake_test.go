package auth

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeKeystone answers Keystone v2.0 logins in the documented shape (the
// real Keystone no longer serves v2.0) and, under /public/, /internal/ and
// /admin/, plays a service that refuses unknown tokens with 401, for
// injecting token failures.
type fakeKeystone struct {
	*httptest.Server
	mu       sync.Mutex
	ttl      time.Duration // lifetime of issued tokens
	refuse   bool          // the service refuses every token
	logins   int
	bodies   []map[string]any // login request bodies
	valid    map[string]bool
	seq      int
	requests []*http.Request // service requests, with their body read into bodyOf
	bodyOf   map[*http.Request]string
}

const (
	fakeUser, fakePassword     = "demo", "demo-secret"
	fakeTenant, fakeTenantID   = "demo", "t-123"
	fakeUserID, fakeGivenToken = "u-42", "given-token"
)

func newFakeKeystone(t *testing.T) *fakeKeystone {
	f := &fakeKeystone{ttl: time.Hour, valid: map[string]bool{fakeGivenToken: true}, bodyOf: map[*http.Request]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMultipleChoices)
		fmt.Fprintf(w, `{"versions":{"values":[{"id":"v2.0","status":"deprecated","links":[{"rel":"self","href":"%s/v2.0/"}]}]}}`, f.URL)
	})
	mux.HandleFunc("POST /v2.0/tokens", f.login)
	for _, iface := range []string{"public", "internal", "admin", "east"} {
		mux.HandleFunc("/"+iface+"/", f.service)
	}
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeKeystone) login(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":{"code":400,"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	f.bodies = append(f.bodies, body)
	auth, _ := body["auth"].(map[string]any)
	pc, _ := auth["passwordCredentials"].(map[string]any)
	tc, _ := auth["token"].(map[string]any)
	ok := (pc != nil && pc["username"] == fakeUser && pc["password"] == fakePassword) ||
		(tc != nil && f.valid[fmt.Sprint(tc["id"])])
	tenantOK := auth["tenantName"] == fakeTenant || auth["tenantId"] == fakeTenantID
	if !ok || !tenantOK {
		w.Header().Set("X-Openstack-Request-Id", "req-fake-1")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Invalid user / password","code":401,"title":"Unauthorized"}}`)
		return
	}
	f.seq++
	tok := fmt.Sprintf("tok-%d", f.seq)
	f.valid[tok] = true
	exp := time.Now().Add(f.ttl).UTC().Format("2006-01-02T15:04:05Z")
	ep := func(region, prefix string) map[string]string {
		return map[string]string{"region": region, "publicURL": f.URL + "/" + prefix + "public/",
			"internalURL": f.URL + "/" + prefix + "internal", "adminURL": f.URL + "/" + prefix + "admin"}
	}
	east := map[string]string{"region": "RegionEast", "publicURL": f.URL + "/east/"}
	resp := map[string]any{"access": map[string]any{
		"token": map[string]any{"id": tok, "expires": exp, "issued_at": time.Now().UTC().Format(time.RFC3339),
			"tenant": map[string]any{"id": fakeTenantID, "name": fakeTenant, "enabled": true}},
		"serviceCatalog": []any{
			map[string]any{"type": "identity", "name": "keystone", "endpoints": []any{ep("RegionOne", "id-")}},
			map[string]any{"type": "image", "name": "glance", "endpoints": []any{ep("RegionOne", ""), east}, "endpoints_links": []any{}},
		},
		"user":     map[string]any{"id": fakeUserID, "name": fakeUser, "username": fakeUser, "roles": []any{map[string]string{"name": "member"}}},
		"metadata": map[string]any{"is_admin": 0},
	}}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeKeystone) service(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodyOf[r] = string(b)
	ok := f.valid[r.Header.Get("X-Auth-Token")] && !f.refuse
	f.mu.Unlock()
	if !ok {
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, b)
}

func (f *fakeKeystone) set(fn func(f *fakeKeystone)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// revokeAll makes the service refuse every token issued so far.
func (f *fakeKeystone) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.valid {
		if k != fakeGivenToken {
			delete(f.valid, k)
		}
	}
}

func (f *fakeKeystone) loginCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

func (f *fakeKeystone) lastBody() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		return nil
	}
	return f.bodies[len(f.bodies)-1]
}

// serviceTokens returns the X-Auth-Token of each service request so far.
func (f *fakeKeystone) serviceTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.Header.Get("X-Auth-Token"))
	}
	return out
}

// v2Options log in to the fake as its user.
func (f *fakeKeystone) v2Options() Options {
	return Options{AuthURL: f.URL + "/v2.0", Username: fakeUser, Password: fakePassword, ProjectName: fakeTenant}
}

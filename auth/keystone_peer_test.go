package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests against the real Keystone 22 and Glance of the peer.

func openT(t *testing.T, o Options) *Session {
	t.Helper()
	s, err := Open(testCtx(t), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// getImages lists images through the session and returns the status.
func getImages(t *testing.T, s *Session) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, s.Endpoint()+"/v2/images?limit=1", nil)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("GET images: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// keystoneCall sends a request to Keystone's API as the test's own
// client, on a fresh connection: Keystone under uwsgi closes idle ones
// eagerly, and a POST on a stale one fails.
// subject, when set, is the token the call is about.
func keystoneCall(t *testing.T, method, url, tok, subject string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(testCtx(t), method, url, bytes.NewReader(body))
	req.Header.Set("X-Auth-Token", tok)
	if subject != "" {
		req.Header.Set("X-Subject-Token", subject)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// revoke makes Keystone forget tok.
func revoke(t *testing.T, authURL, tok string) {
	t.Helper()
	resp := keystoneCall(t, http.MethodDelete, strings.TrimRight(authURL, "/")+"/auth/tokens", tok, tok, nil)
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("revoking the token: HTTP %d %s", resp.StatusCode, b)
	}
}

var (
	adminOnce    sync.Once
	adminSession *Session
	adminErr     error
)

// sharedAdmin is one admin session for the tests that only read from it,
// to keep the load on the single Keystone process down.
func sharedAdmin(t *testing.T) *Session {
	o := adminOptions(t)
	adminOnce.Do(func() { adminSession, adminErr = Open(context.Background(), o) })
	if adminErr != nil {
		t.Fatalf("Open: %v", adminErr)
	}
	return adminSession
}

func TestPeerPasswordByName(t *testing.T) {
	rec := &recorder{}
	o := adminOptions(t)
	o.WrapTransport = rec.wrap
	s := openT(t, o)
	if s.Endpoint() != peer(t).GlanceURL {
		t.Errorf("endpoint %q, want %q", s.Endpoint(), peer(t).GlanceURL)
	}
	if s.ProjectID() == "" || s.UserID() == "" {
		t.Errorf("project %q user %q: want both", s.ProjectID(), s.UserID())
	}
	if d := time.Until(s.ExpiresAt()); d < 10*time.Minute {
		t.Errorf("token expires in %v", d)
	}
	if rec.loginCount() != 1 {
		t.Errorf("%d logins, want 1: %v", rec.loginCount(), rec.all)
	}
	if code := getImages(t, s); code != http.StatusOK {
		t.Errorf("GET images: HTTP %d", code)
	}
}

func TestPeerPasswordByIDs(t *testing.T) {
	first := sharedAdmin(t)
	o := adminOptions(t)
	o.Username, o.UserDomainName = "", ""
	o.ProjectName, o.ProjectDomainName = "", ""
	o.UserID, o.ProjectID = first.UserID(), first.ProjectID()
	s := openT(t, o)
	if s.ProjectID() != first.ProjectID() || s.UserID() != first.UserID() {
		t.Errorf("by IDs got user %s project %s, want %s %s", s.UserID(), s.ProjectID(), first.UserID(), first.ProjectID())
	}
	if code := getImages(t, s); code != http.StatusOK {
		t.Errorf("GET images: HTTP %d", code)
	}
}

func TestPeerUnversionedAuthURL(t *testing.T) {
	o := adminOptions(t)
	o.AuthURL = strings.TrimSuffix(strings.TrimRight(o.AuthURL, "/"), "/v3")
	rec := &recorder{}
	o.WrapTransport = rec.wrap
	s := openT(t, o)
	if s.Endpoint() != peer(t).GlanceURL {
		t.Errorf("endpoint %q", s.Endpoint())
	}
	if len(rec.all) < 2 || !strings.HasPrefix(rec.all[0], "GET ") || !strings.HasSuffix(rec.all[1], "/v3/auth/tokens") {
		t.Errorf("want discovery then a v3 login, got %v", rec.all)
	}

	o.IdentityAPIVersion = "2.0"
	_, err := Open(testCtx(t), o)
	if err == nil || !strings.Contains(err.Error(), "v2.0 was asked for") || !strings.Contains(err.Error(), "v3.") {
		t.Errorf("asking v2.0 of a v3-only Keystone: %v", err)
	}
}

func TestPeerTokenAuth(t *testing.T) {
	first := sharedAdmin(t)
	tok, err := first.Token(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	o := adminOptions(t)
	o.Username, o.Password = "", ""
	o.Token = tok
	s := openT(t, o)
	if s.ProjectID() != first.ProjectID() || s.Endpoint() != peer(t).GlanceURL {
		t.Errorf("token auth: project %q endpoint %q", s.ProjectID(), s.Endpoint())
	}
	if code := getImages(t, s); code != http.StatusOK {
		t.Errorf("GET images: HTTP %d", code)
	}

	// With an image URL the token is used as is: Keystone is not asked.
	rec := &recorder{}
	s2 := openT(t, Options{Token: tok, Endpoint: peer(t).GlanceURL + "/", WrapTransport: rec.wrap})
	if code := getImages(t, s2); code != http.StatusOK {
		t.Errorf("token + endpoint: HTTP %d", code)
	}
	if rec.loginCount() != 0 || len(rec.all) != 1 {
		t.Errorf("token + endpoint made requests %v", rec.all)
	}

	o.Token = "gAAAAABnot-a-real-token"
	_, err = Open(testCtx(t), o)
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("bad token: %v, want ErrUnauthorized", err)
	}
}

func TestPeerBadPassword(t *testing.T) {
	o := adminOptions(t)
	o.Password = "not-the-password"
	_, err := Open(testCtx(t), o)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("got %v, want ErrUnauthorized", err)
	}
	var ke *KeystoneError
	if !errors.As(err, &ke) || ke.StatusCode != 401 || !strings.HasPrefix(ke.RequestID, "req-") {
		t.Fatalf("got %#v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "authentication failed: The request you have made requires authentication.") {
		t.Errorf("message %q", msg)
	}
}

func TestPeerApplicationCredential(t *testing.T) {
	o := optionsFor(t, peer(t).AlphaMember)
	s := openT(t, o)
	name := uniqueName("auth-test")
	// It expires by itself: deleting one fails on the peer (Keystone on
	// SQLite locks itself out, HTTP 500 after 5 s).
	body, _ := json.Marshal(map[string]any{"application_credential": map[string]any{
		"name": name, "expires_at": time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05"),
	}})
	base := strings.TrimRight(o.AuthURL, "/") + "/users/" + s.UserID() + "/application_credentials"
	resp := keystoneCall(t, http.MethodPost, base, mustToken(t, s), "", body)
	var created struct {
		AC struct{ ID, Secret string } `json:"application_credential"`
	}
	err := json.NewDecoder(resp.Body).Decode(&created)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating the application credential: HTTP %d %v", resp.StatusCode, err)
	}
	byID := Options{AuthURL: o.AuthURL, ApplicationCredentialID: created.AC.ID, ApplicationCredentialSecret: created.AC.Secret,
		// left-overs of an openrc must not get in the way
		ProjectName: "admin", ProjectDomainName: "Default"}
	a := openT(t, byID)
	if a.ProjectID() != s.ProjectID() || a.UserID() != s.UserID() {
		t.Errorf("by ID: project %s user %s, want %s %s", a.ProjectID(), a.UserID(), s.ProjectID(), s.UserID())
	}
	if exp := a.ExpiresAt(); exp.IsZero() || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("expiry %v: want the credential's, within the hour", exp)
	}
	if code := getImages(t, a); code != http.StatusOK {
		t.Errorf("GET images: HTTP %d", code)
	}

	byName := Options{AuthURL: o.AuthURL, AuthType: "v3applicationcredential", ApplicationCredentialName: name,
		ApplicationCredentialSecret: created.AC.Secret, Username: "alpha-user", UserDomainName: "Default"}
	b := openT(t, byName)
	if b.ProjectID() != s.ProjectID() {
		t.Errorf("by name: project %s, want %s", b.ProjectID(), s.ProjectID())
	}

	byName.ApplicationCredentialSecret = "wrong"
	if _, err := Open(testCtx(t), byName); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestPeerCatalog(t *testing.T) {
	c := peer(t)
	o := adminOptions(t)
	o.RegionName = c.PrefixRegion
	s := openT(t, o)
	if s.Endpoint() != c.PrefixURL {
		t.Fatalf("%s endpoint %q, want %q", c.PrefixRegion, s.Endpoint(), c.PrefixURL)
	}
	if code := getImages(t, s); code != http.StatusOK {
		t.Errorf("GET images through the prefix: HTTP %d", code)
	}

	cat := s.Catalog()
	for _, iface := range []string{"public", "internal", "admin", "internalURL", "adminURL"} {
		if u, err := cat.Lookup("image", iface, c.Region); err != nil || u != c.GlanceURL {
			t.Errorf("interface %s: %q %v", iface, u, err)
		}
	}
	if u, err := cat.Lookup("identity", "public", ""); err != nil || trimSlash(u) != trimSlash(c.KeystoneURL) {
		t.Errorf("identity: %q %v", u, err)
	}
	if u, err := cat.Lookup("image", "public", c.DeadRegion); err != nil || u != c.DeadURL {
		t.Errorf("%s: %q %v, want %q", c.DeadRegion, u, err, c.DeadURL)
	}

	o.RegionName = "Nowhere"
	_, err := Open(testCtx(t), o)
	var nf *EndpointNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("region Nowhere: %v", err)
	}
	regions := c.ImageRegions()
	if !slices.Equal(nf.Regions, regions) ||
		!slices.Equal(nf.Interfaces, []string{"admin", "internal", "public"}) {
		t.Errorf("error lists %v %v", nf.Regions, nf.Interfaces)
	}
	if !strings.Contains(err.Error(), `region "Nowhere"`) || !strings.Contains(err.Error(), strings.Join(regions, ", ")) {
		t.Errorf("message %q", err)
	}

	o.RegionName, o.ServiceType = "", "object-store"
	_, err = Open(testCtx(t), o)
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "it has: identity, image") {
		t.Errorf("missing service: %v", err)
	}
}

func TestPeerReauthOn401(t *testing.T) {
	// Each case revokes a token Glance has never seen: Glance remembers
	// the tokens it validated for a few minutes and would still take it.
	fresh := func(rec *recorder) *Session {
		o := adminOptions(t)
		o.WrapTransport = rec.wrap
		s := openT(t, o)
		revoke(t, o.AuthURL, mustToken(t, s))
		return s
	}

	rec := &recorder{}
	s := fresh(rec)
	old := mustToken(t, s)
	if code := getImages(t, s); code != http.StatusOK {
		t.Fatalf("after revocation: HTTP %d", code)
	}
	if mustToken(t, s) == old {
		t.Error("token not replaced")
	}
	if rec.loginCount() != 2 {
		t.Errorf("%d logins, want 2", rec.loginCount())
	}

	// A body that can be replayed is sent again: the image is created.
	s = fresh(rec)
	name := uniqueName("auth-reauth")
	req, _ := http.NewRequest(http.MethodPost, s.Endpoint()+"/v2/images", strings.NewReader(`{"name":"`+name+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var img struct{ ID, Name string }
	json.NewDecoder(resp.Body).Decode(&img)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || img.Name != name {
		t.Fatalf("POST after revocation: HTTP %d %+v", resp.StatusCode, img)
	}
	del, _ := http.NewRequest(http.MethodDelete, s.Endpoint()+"/v2/images/"+img.ID, nil)
	if resp, err := s.Client().Do(del); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("deleting the test image: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if rec.loginCount() != 4 {
		t.Errorf("%d logins, want 4", rec.loginCount())
	}

	// A body that cannot be replayed: a clear error, nothing created, and
	// the next request works with a new token.
	s = fresh(rec)
	req, _ = http.NewRequest(http.MethodPost, s.Endpoint()+"/v2/images", io.NopCloser(strings.NewReader(`{"name":"`+name+`-2"}`)))
	req.Header.Set("Content-Type", "application/json")
	_, err = s.Client().Do(req)
	if !errors.Is(err, ErrBodyNotReplayable) || !strings.Contains(err.Error(), "POST "+s.Endpoint()+"/v2/images") {
		t.Fatalf("non-replayable body: %v", err)
	}
	if code := getImages(t, s); code != http.StatusOK {
		t.Errorf("request after the refused one: HTTP %d", code)
	}
	if rec.loginCount() != 6 {
		t.Errorf("%d logins, want 6", rec.loginCount())
	}
}

func mustToken(t *testing.T, s *Session) string {
	t.Helper()
	tok, err := s.Token(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPeerTokenCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	var warnings []error
	cache := &TokenCache{Dir: dir, Warn: func(err error) { warnings = append(warnings, err) }}
	rec := &recorder{}
	o := adminOptions(t)
	o.Cache, o.WrapTransport = cache, rec.wrap

	a := openT(t, o)
	b := openT(t, o)
	if rec.loginCount() != 1 {
		t.Fatalf("two Opens with a cache made %d logins, want 1 (%v)", rec.loginCount(), rec.all)
	}
	if a.Cached() || !b.Cached() || mustToken(t, a) != mustToken(t, b) || b.Endpoint() != peer(t).GlanceURL || b.ProjectID() != a.ProjectID() {
		t.Errorf("second session: cached=%v endpoint %q", b.Cached(), b.Endpoint())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("cache has %d files", len(ents))
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ents[0].Name()))
	if bytes.Contains(raw, []byte(o.Password)) {
		t.Error("the cache file holds the password")
	}

	// Another user gets an entry of their own.
	other := optionsFor(t, peer(t).AlphaReader)
	other.Cache, other.WrapTransport = cache, rec.wrap
	c := openT(t, other)
	if c.Cached() || c.UserID() == a.UserID() || rec.loginCount() != 2 {
		t.Errorf("other user: cached=%v user %s logins %d", c.Cached(), c.UserID(), rec.loginCount())
	}

	// A refused cached token is dropped, replaced and the request retried.
	revoke(t, o.AuthURL, mustToken(t, b))
	d := openT(t, o)
	if !d.Cached() {
		t.Fatal("third session did not use the cache")
	}
	if code := getImages(t, d); code != http.StatusOK {
		t.Fatalf("with a revoked cached token: HTTP %d", code)
	}
	e := openT(t, o)
	if !e.Cached() || mustToken(t, e) != mustToken(t, d) || mustToken(t, e) == mustToken(t, b) {
		t.Error("the new token did not replace the revoked one in the cache")
	}
	if rec.loginCount() != 3 {
		t.Errorf("%d logins, want 3", rec.loginCount())
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
}

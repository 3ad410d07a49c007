package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func do(t *testing.T, s *Session, method, url string, body io.Reader) (int, string, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestReauthReplaysTheBody(t *testing.T) {
	f := newFakeKeystone(t)
	s := openT(t, f.v2Options())
	f.revokeAll()
	code, body, err := do(t, s, http.MethodPut, s.Endpoint()+"/v2/x", strings.NewReader("payload"))
	if err != nil || code != 200 || body != "PUT /public/v2/x payload" {
		t.Fatalf("got %d %q %v", code, body, err)
	}
	if got := f.serviceTokens(); len(got) != 2 || got[0] != "tok-1" || got[1] != "tok-2" {
		t.Errorf("service saw tokens %v, want tok-1 then tok-2", got)
	}
	if f.loginCount() != 2 {
		t.Errorf("%d logins", f.loginCount())
	}
}

func TestReauthRefusesAnUnreplayableBody(t *testing.T) {
	f := newFakeKeystone(t)
	s := openT(t, f.v2Options())
	f.revokeAll()
	_, _, err := do(t, s, http.MethodPost, s.Endpoint()+"/v2/x", io.NopCloser(strings.NewReader("stream")))
	if !errors.Is(err, ErrBodyNotReplayable) {
		t.Fatalf("got %v", err)
	}
	if len(f.serviceTokens()) != 1 {
		t.Errorf("the request was sent %d times", len(f.serviceTokens()))
	}
	code, _, err := do(t, s, http.MethodGet, s.Endpoint()+"/v2/y", nil)
	if err != nil || code != 200 || f.loginCount() != 2 {
		t.Errorf("next request: %d %v, %d logins", code, err, f.loginCount())
	}
}

func TestReauthOnlyOnce(t *testing.T) {
	f := newFakeKeystone(t)
	s := openT(t, f.v2Options())
	f.set(func(f *fakeKeystone) { f.refuse = true })
	code, _, err := do(t, s, http.MethodGet, s.Endpoint()+"/v2/x", nil)
	if err != nil || code != http.StatusUnauthorized {
		t.Errorf("got %d %v, want the second 401 as the answer", code, err)
	}
	if n := len(f.serviceTokens()); n != 2 || f.loginCount() != 2 {
		t.Errorf("sent %d times after %d logins, want 2 and 2", n, f.loginCount())
	}
}

func TestConcurrentReauthLogsInOnce(t *testing.T) {
	f := newFakeKeystone(t)
	s := openT(t, f.v2Options())
	f.revokeAll()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, s.Endpoint()+"/v2/x", nil)
			resp, err := s.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = errors.New(resp.Status)
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if f.loginCount() != 2 {
		t.Errorf("%d logins, want 2", f.loginCount())
	}
}

func TestExpiringTokenIsRenewed(t *testing.T) {
	f := newFakeKeystone(t)
	f.set(func(f *fakeKeystone) { f.ttl = refreshBefore / 2 })
	s := openT(t, f.v2Options())
	if _, _, err := do(t, s, http.MethodGet, s.Endpoint()+"/v2/x", nil); err != nil {
		t.Fatal(err)
	}
	if f.loginCount() != 2 {
		t.Errorf("%d logins: a token about to expire should be replaced before use", f.loginCount())
	}
}

func TestRedirectToAnotherHostGetsNoToken(t *testing.T) {
	f := newFakeKeystone(t)
	var got []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("X-Auth-Token"))
	}))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("X-Auth-Token"))
		if r.URL.Path == "/away" {
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		} else if r.URL.Path == "/here" {
			http.Redirect(w, r, "/there", http.StatusFound)
		}
	}))
	defer redirect.Close()
	o := f.v2Options()
	o.Endpoint = redirect.URL
	s := openT(t, o)
	if _, _, err := do(t, s, http.MethodGet, redirect.URL+"/away", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := do(t, s, http.MethodGet, redirect.URL+"/here", nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tok-1", "", "tok-1", "tok-1"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("tokens seen %q, want %q", got, want)
	}
}

func TestDirectTokenAndNoAuth(t *testing.T) {
	f := newFakeKeystone(t)
	s := openT(t, Options{Token: "not-valid", Endpoint: f.URL + "/public", AuthURL: f.URL + "/v2.0"})
	code, _, err := do(t, s, http.MethodGet, s.Endpoint()+"/v2/x", nil)
	if err != nil || code != http.StatusUnauthorized || f.loginCount() != 0 {
		t.Errorf("direct token: %d %v, %d logins: want the 401 back and no login", code, err, f.loginCount())
	}

	for _, at := range []string{"none", "noauth", "NoAuth"} {
		s := openT(t, Options{AuthType: at, Endpoint: f.URL + "/public/", Username: "x"})
		code, _, err := do(t, s, http.MethodGet, s.Endpoint()+"/v2/x", nil)
		if err != nil || code != http.StatusUnauthorized || f.serviceTokens()[len(f.serviceTokens())-1] != "" {
			t.Errorf("%s: %d %v", at, code, err)
		}
		if tok, err := s.Token(context.Background()); tok != "" || err != nil {
			t.Errorf("%s: token %q %v", at, tok, err)
		}
	}
	if _, err := Open(context.Background(), Options{AuthType: "none"}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("none without endpoint: %v", err)
	}
}

func TestWrapTransportSeesEverything(t *testing.T) {
	f := newFakeKeystone(t)
	rec := &recorder{}
	o := f.v2Options()
	o.AuthURL = f.URL
	o.WrapTransport = rec.wrap
	s := openT(t, o)
	do(t, s, http.MethodGet, s.Endpoint()+"/v2/x", nil)
	want := []string{"GET " + f.URL, "POST " + f.URL + "/v2.0/tokens", "GET " + f.URL + "/public/v2/x"}
	if strings.Join(rec.all, "|") != strings.Join(want, "|") {
		t.Errorf("requests %v, want %v", rec.all, want)
	}
}

func TestTimeout(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	s := openT(t, Options{AuthType: "none", Endpoint: slow.URL, Timeout: 50 * time.Millisecond})
	_, _, err := do(t, s, http.MethodGet, slow.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("got %v, want a timeout", err)
	}
}

func TestTokenWithImageURLWinsOverPassword(t *testing.T) {
	f := newFakeKeystone(t)
	o := f.v2Options()
	o.Token, o.Endpoint = fakeGivenToken, f.URL+"/public"
	s := openT(t, o)
	if tok := mustToken(t, s); tok != fakeGivenToken || f.loginCount() != 0 {
		t.Errorf("token %q after %d logins: want the given token and no login", tok, f.loginCount())
	}
}

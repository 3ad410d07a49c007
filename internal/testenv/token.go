package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Auth is a Keystone token and what it says about its holder.
type Auth struct {
	Token     string
	UserID    string
	ProjectID string // empty for a system-scoped token
	ExpiresAt time.Time
}

// keystoneClient opens a connection per request: a Keystone under uwsgi may close
// one after each answer without saying so, and a reused one is then reset.
var keystoneClient = func() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr}
}()

var tokens struct {
	sync.Mutex
	m map[string]*Auth
}

// Token returns a project-scoped token for u, failing the test when Keystone
// refuses one. See Auth.
func (c *Cloud) Token(t testing.TB, u User) string {
	t.Helper()
	return c.Auth(t, u).Token
}

// Auth returns a project-scoped token for u with its user and project IDs.
// Tokens are kept for the rest of the test process (a password login costs
// Keystone a noticeable fraction of a second) and renewed when they near expiry.
func (c *Cloud) Auth(t testing.TB, u User) *Auth {
	t.Helper()
	return c.auth(t, u, false)
}

// SystemAuth returns a system-scoped token (scope "system all", no project)
// for u, which needs a role on the system: keystone-manage bootstrap gives
// the peer's admin one. It is kept and renewed as Auth's are.
func (c *Cloud) SystemAuth(t testing.TB, u User) *Auth {
	t.Helper()
	return c.auth(t, u, true)
}

func (c *Cloud) auth(t testing.TB, u User, system bool) *Auth {
	t.Helper()
	key := c.KeystoneURL + "\x00" + u.Domain + "\x00" + u.Name + "\x00" + u.Project
	scope := "project " + u.Project
	if system {
		key, scope = key+"\x00system", "the system"
	}
	tokens.Lock()
	defer tokens.Unlock()
	if a := tokens.m[key]; a != nil && time.Until(a.ExpiresAt) > 10*time.Minute {
		return a
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := passwordToken(ctx, c.KeystoneURL, u, system)
	if err != nil {
		t.Fatalf("token for %s on %s: %v", u.Name, scope, err)
	}
	if tokens.m == nil {
		tokens.m = map[string]*Auth{}
	}
	tokens.m[key] = a
	return a
}

// passwordToken logs u in at the Identity v3 endpoint keystone, scoped to
// u's project or, with system, to the whole system.
func passwordToken(ctx context.Context, keystone string, u User, system bool) (*Auth, error) {
	type named struct {
		Name   string `json:"name"`
		Domain *named `json:"domain,omitempty"`
	}
	var req struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User struct {
						named
						Password string `json:"password"`
					} `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project *named          `json:"project,omitempty"`
				System  map[string]bool `json:"system,omitempty"`
			} `json:"scope"`
		} `json:"auth"`
	}
	domain := &named{Name: u.Domain}
	req.Auth.Identity.Methods = []string{"password"}
	req.Auth.Identity.Password.User.named = named{Name: u.Name, Domain: domain}
	req.Auth.Identity.Password.User.Password = u.Password
	if system {
		req.Auth.Scope.System = map[string]bool{"all": true}
	} else {
		req.Auth.Scope.Project = &named{Name: u.Project, Domain: domain}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, keystone+"/auth/tokens", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := keystoneClient.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("POST %s/auth/tokens: %s: %s", keystone, resp.Status, bytes.TrimSpace(msg))
	}
	var out struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("POST %s/auth/tokens: decoding the answer: %w", keystone, err)
	}
	a := &Auth{
		Token:     resp.Header.Get("X-Subject-Token"),
		UserID:    out.Token.User.ID,
		ProjectID: out.Token.Project.ID,
		ExpiresAt: out.Token.ExpiresAt,
	}
	if a.Token == "" || a.UserID == "" || (a.ProjectID == "") != system {
		return nil, fmt.Errorf("POST %s/auth/tokens: answer without token or user, or not scoped as asked", keystone)
	}
	return a, nil
}

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-glance/glance/internal/policy"
)

// caller is who makes a request, as the auth layer established it.
type caller struct {
	UserID    string
	ProjectID string
	Roles     map[string]bool // lower-cased, implied roles included as Keystone lists them
	// Admin is Glance's context_is_admin: such a caller sees every
	// project's images and tasks. What it may do is still the rules' call.
	Admin     bool
	RequestID string
	// The token's scope besides the project: "all" for a system-scoped
	// token, a domain ID for a domain-scoped one.
	System          string
	DomainID        string
	UserDomainID    string
	ProjectDomainID string

	creds *policy.Credentials // built on first use
}

type ctxKey struct{}

func callerFrom(ctx context.Context) *caller {
	c, _ := ctx.Value(ctxKey{}).(*caller)
	if c == nil {
		return &caller{}
	}
	return c
}

// authenticator turns a request into a caller, or an apiError (401).
type authenticator interface {
	authenticate(r *http.Request) (*caller, error)
}

// noAuth makes every request an admin of one project, for local use. A
// token "noauth:PROJECT" makes it a member of PROJECT instead, so that
// sharing between projects can be tried without Keystone (noauth trusts
// every caller anyway: anyone may be admin).
type noAuth struct{}

// NoAuthProject is the project that owns images created in noauth mode.
const NoAuthProject = "admin"

// noAuthTokenPrefix starts a token naming the project a noauth caller acts in.
const noAuthTokenPrefix = "noauth:"

func (noAuth) authenticate(r *http.Request) (*caller, error) {
	if p, ok := strings.CutPrefix(r.Header.Get("X-Auth-Token"), noAuthTokenPrefix); ok {
		if p == "" || len(p) > 64 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return nil, errorf(http.StatusUnauthorized, "A noauth:PROJECT token names a project of up to 64 letters, digits, '-' and '_'.")
		}
		if p != NoAuthProject {
			return &caller{UserID: p + "-user", ProjectID: p, Roles: map[string]bool{"member": true, "reader": true}}, nil
		}
	}
	return &caller{UserID: "admin", ProjectID: NoAuthProject,
		Roles: map[string]bool{"admin": true, "member": true, "reader": true}}, nil
}

// keystoneAuth validates X-Auth-Token against Keystone with a service token,
// as keystonemiddleware does, and caches answers for a short while.
type keystoneAuth struct {
	cfg  KeystoneConfig
	log  *slog.Logger
	http *http.Client

	mu       sync.Mutex
	svcToken string
	svcExp   time.Time
	cache    map[string]cachedToken
	onCache  func(hit bool) // counts cache lookups, when set
}

type cachedToken struct {
	c       *caller
	expires time.Time // of the cache entry
}

const maxCachedTokens = 10000

func newKeystoneAuth(cfg KeystoneConfig, log *slog.Logger) (*keystoneAuth, error) {
	if cfg.AuthURL == "" || cfg.Username == "" || cfg.Password == "" {
		return nil, errors.New("keystone auth needs an auth URL, a service username and a password")
	}
	cfg.AuthURL = strings.TrimRight(cfg.AuthURL, "/")
	if !strings.HasSuffix(cfg.AuthURL, "/v3") {
		cfg.AuthURL += "/v3"
	}
	if cfg.UserDomainName == "" {
		cfg.UserDomainName = "Default"
	}
	if cfg.ProjectDomainName == "" {
		cfg.ProjectDomainName = "Default"
	}
	if cfg.ProjectName == "" {
		cfg.ProjectName = "service"
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 30 * time.Second
	}
	if cfg.WWWAuthenticateURI == "" {
		cfg.WWWAuthenticateURI = strings.TrimSuffix(cfg.AuthURL, "/v3")
	}
	// A Keystone under uwsgi may drop a kept-alive connection without notice,
	// so each validation (a cache miss) opens its own.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &keystoneAuth{cfg: cfg, log: log, http: &http.Client{Timeout: 30 * time.Second, Transport: tr},
		cache: map[string]cachedToken{}}, nil
}

func (k *keystoneAuth) unauthorized() *apiError {
	e := errorf(http.StatusUnauthorized, "This server could not verify that you are authorized to access the document "+
		"you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not "+
		"understand how to supply the credentials required.")
	e.header = http.Header{"Www-Authenticate": {`Keystone uri="` + k.cfg.WWWAuthenticateURI + `"`}}
	return e
}

func (k *keystoneAuth) authenticate(r *http.Request) (*caller, error) {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		return nil, k.unauthorized()
	}
	now := time.Now()
	k.mu.Lock()
	if ct, ok := k.cache[tok]; ok && now.Before(ct.expires) {
		k.mu.Unlock()
		k.countCache(true)
		if ct.c == nil {
			return nil, k.unauthorized()
		}
		c := *ct.c
		return &c, nil
	}
	k.mu.Unlock()
	k.countCache(false)
	c, exp, err := k.validate(r.Context(), tok)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			// Remember bad tokens briefly too, so a flood of them costs Keystone little.
			k.remember(tok, nil, now.Add(k.cfg.CacheTTL))
			return nil, err
		}
		k.log.Error("token validation failed", "err", err)
		return nil, errorf(http.StatusServiceUnavailable, "Failed to validate the token with the identity service.")
	}
	until := now.Add(k.cfg.CacheTTL)
	if exp.Before(until) {
		until = exp
	}
	k.remember(tok, c, until)
	cc := *c
	return &cc, nil
}

func (k *keystoneAuth) remember(tok string, c *caller, until time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cache) >= maxCachedTokens {
		now := time.Now()
		for t, ct := range k.cache {
			if now.After(ct.expires) {
				delete(k.cache, t)
			}
		}
		if len(k.cache) >= maxCachedTokens {
			k.cache = map[string]cachedToken{}
		}
	}
	k.cache[tok] = cachedToken{c: c, expires: until}
}

type tokenBody struct {
	Token struct {
		ExpiresAt time.Time `json:"expires_at"`
		User      struct {
			ID     string `json:"id"`
			Domain struct {
				ID string `json:"id"`
			} `json:"domain"`
		} `json:"user"`
		Project *struct {
			ID     string `json:"id"`
			Domain struct {
				ID string `json:"id"`
			} `json:"domain"`
		} `json:"project"`
		Domain *struct {
			ID string `json:"id"`
		} `json:"domain"`
		System map[string]bool `json:"system"`
		Roles  []struct {
			Name string `json:"name"`
		} `json:"roles"`
	} `json:"token"`
}

// validate asks Keystone about tok. An *apiError means the token is bad.
func (k *keystoneAuth) validate(ctx context.Context, tok string) (*caller, time.Time, error) {
	for attempt := 0; attempt < 2; attempt++ {
		svc, err := k.serviceToken(ctx, attempt > 0)
		if err != nil {
			return nil, time.Time{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.cfg.AuthURL+"/auth/tokens?nocatalog", nil)
		if err != nil {
			return nil, time.Time{}, err
		}
		req.Header.Set("X-Auth-Token", svc)
		req.Header.Set("X-Subject-Token", tok)
		req.Header.Set("Accept", "application/json")
		resp, err := k.http.Do(req)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("validate token: %w", err)
		}
		var body tokenBody
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("validate token: %w", err)
			}
			tb := &body.Token
			c := &caller{UserID: tb.User.ID, UserDomainID: tb.User.Domain.ID, Roles: map[string]bool{}}
			switch {
			case tb.Project != nil:
				c.ProjectID, c.ProjectDomainID = tb.Project.ID, tb.Project.Domain.ID
			case tb.Domain != nil:
				c.DomainID = tb.Domain.ID
			case tb.System["all"]:
				c.System = "all"
			}
			for _, r := range body.Token.Roles {
				c.Roles[strings.ToLower(r.Name)] = true
			}
			return c, body.Token.ExpiresAt, nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			continue // our service token may have expired: get a new one
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnauthorized ||
			resp.StatusCode == http.StatusForbidden:
			return nil, time.Time{}, k.unauthorized()
		default:
			return nil, time.Time{}, fmt.Errorf("validate token: keystone answered %s", resp.Status)
		}
	}
	return nil, time.Time{}, k.unauthorized()
}

func (k *keystoneAuth) serviceToken(ctx context.Context, renew bool) (string, error) {
	k.mu.Lock()
	if !renew && k.svcToken != "" && time.Until(k.svcExp) > time.Minute {
		t := k.svcToken
		k.mu.Unlock()
		return t, nil
	}
	k.mu.Unlock()
	var body struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User struct {
						Name     string            `json:"name"`
						Domain   map[string]string `json:"domain"`
						Password string            `json:"password"`
					} `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project struct {
					Name   string            `json:"name"`
					Domain map[string]string `json:"domain"`
				} `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	body.Auth.Identity.Methods = []string{"password"}
	u := &body.Auth.Identity.Password.User
	u.Name, u.Password, u.Domain = k.cfg.Username, k.cfg.Password, map[string]string{"name": k.cfg.UserDomainName}
	p := &body.Auth.Scope.Project
	p.Name, p.Domain = k.cfg.ProjectName, map[string]string{"name": k.cfg.ProjectDomainName}
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.cfg.AuthURL+"/auth/tokens?nocatalog", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("service token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("service token: keystone answered %s", resp.Status)
	}
	var tb tokenBody
	if err := json.NewDecoder(resp.Body).Decode(&tb); err != nil {
		return "", fmt.Errorf("service token: %w", err)
	}
	t := resp.Header.Get("X-Subject-Token")
	k.mu.Lock()
	k.svcToken, k.svcExp = t, tb.Token.ExpiresAt
	k.mu.Unlock()
	return t, nil
}

package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// refreshBefore is how long before its expiry a token is replaced, so a
// request does not leave with a token that dies on the way.
const refreshBefore = 30 * time.Second

// Session is an authenticated connection to one Image endpoint. It is safe
// for concurrent use.
type Session struct {
	p        *plan
	keystone *http.Client // logins go through the TLS transport only
	endpoint string
	client   *http.Client
	cache    *TokenCache
	cacheKey string

	mu     sync.Mutex
	id     identity // zero until discovered (or read from the cache)
	tok    *token   // nil without authentication
	stale  bool     // the service refused tok
	cached bool     // tok came from the cache
}

// Open checks o, logs in (unless o has an image endpoint with a token, or
// auth type none) and finds the image endpoint. Errors: *OptionError
// (errors.Is ErrInvalidOptions) for unusable options, *KeystoneError
// (errors.Is ErrUnauthorized when the credentials are refused),
// *EndpointNotFoundError when the catalog has no matching endpoint.
func Open(ctx context.Context, o Options) (*Session, error) {
	p, err := newPlan(o)
	if err != nil {
		return nil, err
	}
	base, err := baseTransport(&p.o)
	if err != nil {
		return nil, err
	}
	s := &Session{p: p, keystone: &http.Client{Transport: keystoneTransport{base}}}
	switch {
	case p.method == methodNone:
		s.client = &http.Client{Transport: base}
	case p.direct:
		s.tok = &token{ID: p.o.Token}
	default:
		if o.Cache != nil && p.method != methodToken {
			s.cache, s.cacheKey = o.Cache, fingerprint(p)
			s.fromCache()
		}
		if s.tok == nil {
			if err := s.login(ctx); err != nil {
				return nil, err
			}
		}
	}
	if s.client == nil {
		s.client = &http.Client{Transport: &tokenTransport{s: s, next: base}}
	}
	s.endpoint = p.o.Endpoint
	if s.endpoint == "" {
		if s.endpoint, err = s.tok.Catalog.Lookup(p.o.ServiceType, p.o.Interface, p.o.RegionName); err != nil {
			return nil, err
		}
	}
	s.endpoint = trimSlash(s.endpoint)
	return s, nil
}

// fromCache takes a still valid token from the cache, if any.
func (s *Session) fromCache() {
	e := s.cache.load(s.cacheKey)
	if e == nil {
		return
	}
	if err := s.p.checkFor(e.IdentityVersion); err != nil {
		return // login reports it
	}
	s.id = identity{e.IdentityVersion, e.IdentityURL}
	s.tok, s.cached = &e.Token, true
}

// login gets a new token from Keystone and caches it. Callers other than
// Open hold s.mu.
func (s *Session) login(ctx context.Context) error {
	if s.id.url == "" {
		id, err := discover(ctx, s.keystone, s.p.o.AuthURL, s.p.version)
		if err != nil {
			return err
		}
		if err := s.p.checkFor(id.version); err != nil {
			return err
		}
		s.id = id
	}
	if s.cache != nil {
		s.cache.remove(s.cacheKey)
	}
	if o := &s.p.o; s.p.method == methodPassword && o.Password == "" {
		pw, err := o.PasswordFunc()
		if err != nil {
			return err
		}
		if pw == "" {
			return optErr("password", "missing password: set --os-password or OS_PASSWORD")
		}
		o.Password = pw
	}
	tok, err := login(ctx, s.keystone, s.id, s.p)
	if err != nil {
		return err
	}
	s.tok, s.stale, s.cached = tok, false, false
	if s.cache != nil {
		s.cache.store(s.cacheKey, &cacheEntry{Token: *tok, IdentityVersion: s.id.version, IdentityURL: s.id.url})
	}
	return nil
}

// canLogin reports whether the session can get a new token by itself.
func (s *Session) canLogin() bool { return !s.p.direct }

// Token returns the current token, logging in first when it was refused or
// is about to expire. It is "" with auth type none.
func (s *Session) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return "", nil
	}
	if s.canLogin() && (s.stale || (!s.tok.ExpiresAt.IsZero() && time.Until(s.tok.ExpiresAt) < refreshBefore)) {
		if err := s.login(ctx); err != nil {
			return "", err
		}
	}
	return s.tok.ID, nil
}

// refused marks old as refused by the service: the next Token call logs in.
func (s *Session) refused(old string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.ID == old {
		s.stale = true
	}
}

// Endpoint returns the image endpoint URL (from the catalog or
// Options.Endpoint), without a trailing slash.
func (s *Session) Endpoint() string { return s.endpoint }

// Client returns the HTTP client to use with the endpoint. It adds
// X-Auth-Token to each request (not to redirects to other hosts); when the
// service answers 401 it logs in again once and resends the request, or
// fails with ErrBodyNotReplayable if the body cannot be sent again.
func (s *Session) Client() *http.Client { return s.client }

// ProjectID returns the project the token is scoped to, if Keystone said.
func (s *Session) ProjectID() string { return s.info().ProjectID }

// UserID returns the user the token belongs to, if Keystone said.
func (s *Session) UserID() string { return s.info().UserID }

// ExpiresAt returns when the current token expires (zero if unknown).
func (s *Session) ExpiresAt() time.Time { return s.info().ExpiresAt }

// Catalog returns the service catalog that came with the token (nil when
// Keystone was not asked).
func (s *Session) Catalog() Catalog { return s.info().Catalog }

// Cached reports whether the current token was taken from the token cache.
func (s *Session) Cached() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cached
}

func (s *Session) info() token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return token{}
	}
	return *s.tok
}

// tokenTransport adds the session's token and retries once on 401.
type tokenTransport struct {
	s    *Session
	next http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Go replays the caller's headers on redirects; the token is ours to
	// add, so a redirect to another host never sees it.
	if prev := req.Response; prev != nil && prev.Request != nil && prev.Request.URL.Host != req.URL.Host {
		return t.next.RoundTrip(req)
	}
	ctx := req.Context()
	tok, err := t.s.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r := req.Clone(ctx)
	r.Header.Set("X-Auth-Token", tok)
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !t.s.canLogin() {
		return resp, err
	}
	t.s.refused(tok)
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), ErrBodyNotReplayable)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	if tok, err = t.s.Token(ctx); err != nil {
		return nil, err
	}
	r = req.Clone(ctx)
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("%s %s: replaying the body: %w", req.Method, req.URL.Redacted(), err)
		}
	}
	r.Header.Set("X-Auth-Token", tok)
	return t.next.RoundTrip(r)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

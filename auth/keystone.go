package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	tokens2 "github.com/gophercloud/gophercloud/v2/openstack/identity/v2/tokens"
	tokens3 "github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// token is what a login yields, and what the cache stores.
type token struct {
	ID        string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	UserID    string    `json:"user_id,omitempty"`
	ProjectID string    `json:"project_id,omitempty"`
	Catalog   Catalog   `json:"catalog"`
}

// urlVersion returns 3 or 2 when the path of an auth URL ends in a version
// (/v3, /v2.0), else 0.
func urlVersion(authURL string) int {
	u, err := url.Parse(authURL)
	if err != nil {
		return 0
	}
	p := strings.TrimRight(u.Path, "/")
	last := p[strings.LastIndex(p, "/")+1:]
	switch {
	case last == "v3" || strings.HasPrefix(last, "v3."):
		return 3
	case last == "v2.0":
		return 2
	}
	return 0
}

// identity is a chosen Keystone API: its version and base URL ending in "/".
type identity struct {
	version int
	url     string
}

type versionDoc struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Links  []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"links"`
}

// discover picks the identity API for authURL: used as is when it names a
// version; otherwise Keystone is asked GET authURL and the wanted version
// (v3 before v2.0 when want is 0) is taken from its answer.
func discover(ctx context.Context, hc *http.Client, authURL string, want int) (identity, error) {
	base := strings.TrimRight(authURL, "/") + "/"
	if v := urlVersion(authURL); v != 0 {
		return identity{v, base}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return identity{}, optErr("auth_url", "bad auth URL %q: %v", authURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return identity{}, fmt.Errorf("finding the identity API versions at %s: %w", authURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return identity{}, fmt.Errorf("finding the identity API versions at %s: %w", authURL, err)
	}
	var doc struct {
		Versions struct {
			Values []versionDoc `json:"values"`
		} `json:"versions"`
		Version *versionDoc `json:"version"`
	}
	if (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMultipleChoices) || json.Unmarshal(body, &doc) != nil {
		return identity{}, fmt.Errorf("finding the identity API versions at %s: HTTP %d, not a Keystone versions document: is it the Identity service? (or give an auth URL ending in /v3)", authURL, resp.StatusCode)
	}
	vs := doc.Versions.Values
	if doc.Version != nil {
		vs = append(vs, *doc.Version)
	}
	found := map[int]string{}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
		n := urlVersion("/" + v.ID)
		if n == 0 || found[n] != "" {
			continue
		}
		href := ""
		for _, l := range v.Links {
			if l.Rel == "self" {
				href = l.Href
			}
		}
		if href == "" {
			href = strings.TrimRight(authURL, "/") + "/" + v.ID
		}
		found[n] = strings.TrimRight(href, "/") + "/"
	}
	for _, n := range []int{3, 2} {
		if found[n] != "" && (want == 0 || want == n) {
			return identity{n, found[n]}, nil
		}
	}
	if want != 0 {
		return identity{}, fmt.Errorf("identity v%s was asked for but %s offers %s", versionName(want), authURL, listOrNone(ids))
	}
	return identity{}, fmt.Errorf("%s offers no identity API this client speaks (v3, v2.0); it offers %s", authURL, listOrNone(ids))
}

// keystoneTransport lets net/http resend a login whose pooled connection
// the server had already closed (Keystone under uwsgi closes them eagerly).
// A login may safely be repeated, but POST is not resent unless marked
// idempotent; a nil Idempotency-Key marks it without sending the header.
type keystoneTransport struct{ next http.RoundTripper }

func (t keystoneTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		req = req.Clone(req.Context())
		req.Header["Idempotency-Key"] = nil
	}
	return t.next.RoundTrip(req)
}

// login obtains a token from Keystone as the plan says.
func login(ctx context.Context, hc *http.Client, id identity, p *plan) (*token, error) {
	pc := &gophercloud.ProviderClient{HTTPClient: *hc}
	pc.UserAgent.Prepend("go-glance")
	sc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: id.url}
	if id.version == 2 {
		return login2(ctx, sc, p)
	}
	return login3(ctx, sc, p)
}

func login3(ctx context.Context, sc *gophercloud.ServiceClient, p *plan) (*token, error) {
	o := p.o
	ao := &tokens3.AuthOptions{
		Username:   o.Username,
		UserID:     o.UserID,
		DomainID:   o.UserDomainID,
		DomainName: o.UserDomainName,
		Scope: tokens3.Scope{
			ProjectID:   o.ProjectID,
			ProjectName: o.ProjectName,
			DomainID:    o.ProjectDomainID,
			DomainName:  o.ProjectDomainName,
		},
	}
	if o.ProjectID == "" && o.ProjectName == "" {
		ao.Scope.DomainID, ao.Scope.DomainName = o.DomainID, o.DomainName
	}
	switch p.method {
	case methodPassword:
		ao.Password = o.Password
	case methodToken:
		ao.TokenID = o.Token
	case methodAppCred:
		ao.ApplicationCredentialID = o.ApplicationCredentialID
		ao.ApplicationCredentialName = o.ApplicationCredentialName
		ao.ApplicationCredentialSecret = o.ApplicationCredentialSecret
	}
	r := tokens3.Create(ctx, sc, ao)
	if r.Err != nil {
		return nil, keystoneError(r.Err, p.method, 3)
	}
	id := r.Header.Get("X-Subject-Token")
	if id == "" {
		return nil, errors.New("keystone issued no token (X-Subject-Token header missing)")
	}
	// Read by hand rather than with ExtractToken: Keystone writes the
	// expiry without a zone when an application credential's own expiry
	// caps it, which time.Time's JSON decoding refuses.
	var body struct {
		ExpiresAt string              `json:"expires_at"`
		User      struct{ ID string } `json:"user"`
		Project   struct{ ID string } `json:"project"`
		Catalog   []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Endpoints []struct {
				Region    string `json:"region"`
				RegionID  string `json:"region_id"`
				Interface string `json:"interface"`
				URL       string `json:"url"`
			} `json:"endpoints"`
		} `json:"catalog"`
	}
	if err := r.ExtractInto(&body); err != nil {
		return nil, fmt.Errorf("reading Keystone's token: %w", err)
	}
	exp, err := parseExpiry(body.ExpiresAt)
	if err != nil {
		return nil, err
	}
	tok := &token{ID: id, ExpiresAt: exp, UserID: body.User.ID, ProjectID: body.Project.ID}
	for _, s := range body.Catalog {
		svc := Service{Type: s.Type, Name: s.Name}
		for _, e := range s.Endpoints {
			region := e.RegionID
			if region == "" {
				region = e.Region
			}
			svc.Endpoints = append(svc.Endpoints, Endpoint{Region: region, Interface: e.Interface, URL: e.URL})
		}
		tok.Catalog = append(tok.Catalog, svc)
	}
	return tok, nil
}

func login2(ctx context.Context, sc *gophercloud.ServiceClient, p *plan) (*token, error) {
	o := p.o
	ao := tokens2.AuthOptions{TenantID: o.ProjectID, TenantName: o.ProjectName}
	if p.method == methodPassword {
		ao.Username, ao.Password = o.Username, o.Password
	} else {
		ao.TokenID = o.Token
	}
	r := tokens2.Create(ctx, sc, ao)
	if r.Err != nil {
		return nil, keystoneError(r.Err, p.method, 2)
	}
	var body struct {
		Access struct {
			Token struct {
				ID      string `json:"id"`
				Expires string `json:"expires"`
				Tenant  struct {
					ID string `json:"id"`
				} `json:"tenant"`
			} `json:"token"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			Catalog []struct {
				Type      string `json:"type"`
				Name      string `json:"name"`
				Endpoints []struct {
					Region      string `json:"region"`
					PublicURL   string `json:"publicURL"`
					InternalURL string `json:"internalURL"`
					AdminURL    string `json:"adminURL"`
				} `json:"endpoints"`
			} `json:"serviceCatalog"`
		} `json:"access"`
	}
	if err := r.ExtractInto(&body); err != nil {
		return nil, fmt.Errorf("reading Keystone's token: %w", err)
	}
	a := body.Access
	if a.Token.ID == "" {
		return nil, errors.New("keystone issued no token (access.token.id missing)")
	}
	exp, err := parseExpiry(a.Token.Expires)
	if err != nil {
		return nil, err
	}
	tok := &token{ID: a.Token.ID, ExpiresAt: exp, UserID: a.User.ID, ProjectID: a.Token.Tenant.ID}
	for _, s := range a.Catalog {
		svc := Service{Type: s.Type, Name: s.Name}
		for _, e := range s.Endpoints {
			svc.Endpoints = append(svc.Endpoints, v2Endpoints(e.Region, e.PublicURL, e.InternalURL, e.AdminURL)...)
		}
		tok.Catalog = append(tok.Catalog, svc)
	}
	return tok, nil
}

// parseExpiry reads a token expiry: RFC 3339, or without a zone (UTC), as
// Keystone writes in some cases. Empty means unknown.
func parseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05.999999999", s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading Keystone's token: bad expiry %q", s)
	}
	return t.UTC(), nil
}

// keystoneError turns gophercloud's HTTP error into a *KeystoneError. A
// 404 for a token login means the token is unknown, i.e. refused.
func keystoneError(err error, m method, v int) error {
	var ue gophercloud.ErrUnexpectedResponseCode
	var up *gophercloud.ErrUnexpectedResponseCode
	switch {
	case errors.As(err, &ue):
	case errors.As(err, &up):
		ue = *up
	default:
		return fmt.Errorf("contacting Keystone: %w", err)
	}
	ke := &KeystoneError{
		Method:     ue.Method,
		URL:        ue.URL,
		StatusCode: ue.Actual,
		Message:    keystoneMessage(ue.Body),
		RequestID:  ue.ResponseHeader.Get("X-Openstack-Request-Id"),
	}
	ke.authFailed = ue.Actual == http.StatusUnauthorized || (ue.Actual == http.StatusNotFound && m == methodToken)
	switch {
	case ke.authFailed && m == methodPassword:
		ke.hint = "check the user name, password, their domains and the project"
	case ue.Actual == http.StatusNotFound && v == 2:
		ke.hint = "this Keystone may not serve identity v2.0 (removed in Queens): use its /v3 auth URL"
	}
	return ke
}

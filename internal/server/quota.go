package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Glance's per-project quotas, by the resource names they have in
// Keystone's unified limits. Sizes count in MiB, rounded down, as Glance
// counts them.
const (
	quotaImageSize      = "image_size_total"
	quotaImageStage     = "image_stage_total"
	quotaImageCount     = "image_count_total"
	quotaImageUploading = "image_count_uploading"
)

var quotaNames = []string{quotaImageSize, quotaImageStage, quotaImageCount, quotaImageUploading}

// QuotaConfig turns on Glance's quotas through Keystone unified limits
// (Glance's use_keystone_limits and oslo.limit's [oslo_limit] options).
type QuotaConfig struct {
	UseKeystoneLimits bool
	// EndpointID names the Keystone endpoint whose service and region the
	// limits are registered for; else the endpoint is looked up by
	// EndpointServiceType (default image), EndpointServiceName,
	// EndpointRegionName and EndpointInterface (default public).
	EndpointID          string
	EndpointServiceType string
	EndpointServiceName string
	EndpointRegionName  string
	EndpointInterface   string
	// CacheTTL is how long limits read from Keystone are used; default 10s.
	CacheTTL time.Duration
	// Auth are the credentials to read limits with.
	Auth LimitsAuth
}

// limiter reads limits from Keystone with the service credentials.
type limiter struct {
	cfg QuotaConfig
	ks  *keystoneAuth

	mu      sync.Mutex
	service string // the endpoint's service and region, once looked up
	region  string
	tok     string // of Auth, when it has its own user
	tokExp  time.Time
	cache   map[string]cachedLimits // by project; "" holds the registered limits
}

type cachedLimits struct {
	at     time.Time
	limits map[string]int64
}

func newLimiter(cfg QuotaConfig, auth authenticator) (*limiter, error) {
	if !cfg.UseKeystoneLimits {
		return nil, nil
	}
	ks, ok := auth.(*keystoneAuth)
	if !ok {
		return nil, errors.New("use-keystone-limits needs keystone auth")
	}
	if cfg.EndpointServiceType == "" {
		cfg.EndpointServiceType = "image"
	}
	if cfg.EndpointInterface == "" {
		cfg.EndpointInterface = "public"
	}
	cfg.EndpointInterface = strings.TrimSuffix(cfg.EndpointInterface, "URL") // publicURL, as oslo.limit accepts
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	return &limiter{cfg: cfg, ks: ks, cache: map[string]cachedLimits{}}, nil
}

// get reads one Keystone document with the service token.
func (l *limiter) get(ctx context.Context, path string, q url.Values, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := l.token(ctx, attempt > 0)
		if err != nil {
			return err
		}
		u := l.ks.cfg.AuthURL + path
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Auth-Token", tok)
		resp, err := l.ks.http.Do(req)
		if err != nil {
			return fmt.Errorf("keystone limits: %w", err)
		}
		err = nil
		switch {
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			resp.Body.Close()
			continue // the service token may have expired
		case resp.StatusCode != http.StatusOK:
			err = fmt.Errorf("keystone limits: GET %s answered %s", path, resp.Status)
		default:
			err = json.NewDecoder(resp.Body).Decode(out)
		}
		resp.Body.Close()
		return err
	}
}

// keystoneEndpoint is an endpoint as Keystone's /v3/endpoints lists it.
type keystoneEndpoint struct {
	ID        string `json:"id"`
	ServiceID string `json:"service_id"`
	RegionID  string `json:"region_id"`
}

// endpoint finds the service and region the limits are registered for.
func (l *limiter) endpoint(ctx context.Context) (service, region string, err error) {
	l.mu.Lock()
	service, region = l.service, l.region
	l.mu.Unlock()
	if service != "" {
		return service, region, nil
	}
	var found keystoneEndpoint
	if l.cfg.EndpointID != "" {
		var one struct{ Endpoint keystoneEndpoint }
		if err := l.get(ctx, "/endpoints/"+url.PathEscape(l.cfg.EndpointID), nil, &one); err != nil {
			return "", "", err
		}
		found = one.Endpoint
	} else if found, err = l.lookupEndpoint(ctx); err != nil {
		return "", "", err
	}
	l.mu.Lock()
	l.service, l.region = found.ServiceID, found.RegionID
	l.mu.Unlock()
	return found.ServiceID, found.RegionID, nil
}

// lookupEndpoint finds the one endpoint of the configured service type
// (and name), interface and region, as oslo.limit does.
func (l *limiter) lookupEndpoint(ctx context.Context) (keystoneEndpoint, error) {
	var svcs struct {
		Services []struct{ ID string } `json:"services"`
	}
	q := url.Values{"type": {l.cfg.EndpointServiceType}}
	if l.cfg.EndpointServiceName != "" {
		q.Set("name", l.cfg.EndpointServiceName)
	}
	if err := l.get(ctx, "/services", q, &svcs); err != nil {
		return keystoneEndpoint{}, err
	}
	// Keystone may list a service once per endpoint: count distinct IDs.
	ids := map[string]bool{}
	for _, sv := range svcs.Services {
		ids[sv.ID] = true
	}
	if len(ids) != 1 {
		return keystoneEndpoint{}, fmt.Errorf("keystone limits: %d services of type %q, want one", len(ids), l.cfg.EndpointServiceType)
	}
	q = url.Values{"service_id": {svcs.Services[0].ID}, "interface": {l.cfg.EndpointInterface}}
	if l.cfg.EndpointRegionName != "" {
		var reg struct{ Region struct{ ID string } }
		if err := l.get(ctx, "/regions/"+url.PathEscape(l.cfg.EndpointRegionName), nil, &reg); err != nil {
			return keystoneEndpoint{}, err
		}
		q.Set("region_id", reg.Region.ID)
	}
	var out struct{ Endpoints []keystoneEndpoint }
	if err := l.get(ctx, "/endpoints", q, &out); err != nil {
		return keystoneEndpoint{}, err
	}
	if len(out.Endpoints) != 1 {
		return keystoneEndpoint{}, fmt.Errorf("keystone limits: %d endpoints match, want one (set the endpoint ID or region)", len(out.Endpoints))
	}
	return out.Endpoints[0], nil
}

// limits returns the limits of project: its own where Keystone has them,
// else the registered defaults. A resource with neither is missing, which
// counts as a limit of 0 (oslo.limit's rule); -1 is unlimited.
func (l *limiter) limits(ctx context.Context, project string) (map[string]int64, error) {
	reg, err := l.cached(ctx, "", func(service, region string) (map[string]int64, error) {
		var out struct {
			RegisteredLimits []struct {
				ResourceName string `json:"resource_name"`
				DefaultLimit int64  `json:"default_limit"`
			} `json:"registered_limits"`
		}
		err := l.get(ctx, "/registered_limits", l.query(service, region, ""), &out)
		m := map[string]int64{}
		for _, r := range out.RegisteredLimits {
			m[r.ResourceName] = r.DefaultLimit
		}
		return m, err
	})
	if err != nil {
		return nil, err
	}
	own, err := l.cached(ctx, project, func(service, region string) (map[string]int64, error) {
		var out struct {
			Limits []struct {
				ResourceName  string `json:"resource_name"`
				ResourceLimit int64  `json:"resource_limit"`
			} `json:"limits"`
		}
		err := l.get(ctx, "/limits", l.query(service, region, project), &out)
		m := map[string]int64{}
		for _, r := range out.Limits {
			m[r.ResourceName] = r.ResourceLimit
		}
		return m, err
	})
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for k, v := range reg {
		m[k] = v
	}
	for k, v := range own {
		m[k] = v
	}
	return m, nil
}

func (l *limiter) query(service, region, project string) url.Values {
	q := url.Values{"service_id": {service}}
	if region != "" {
		q.Set("region_id", region)
	}
	if project != "" {
		q.Set("project_id", project)
	}
	return q
}

// cached returns the limits under key, reading them with read when the
// cached ones are older than CacheTTL.
func (l *limiter) cached(ctx context.Context, key string, read func(service, region string) (map[string]int64, error)) (map[string]int64, error) {
	l.mu.Lock()
	c, ok := l.cache[key]
	l.mu.Unlock()
	if ok && time.Since(c.at) < l.cfg.CacheTTL {
		return c.limits, nil
	}
	service, region, err := l.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	m, err := read(service, region)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if len(l.cache) > 10000 {
		clear(l.cache) // a bound, not a policy: entries live seconds
	}
	l.cache[key] = cachedLimits{at: time.Now(), limits: m}
	l.mu.Unlock()
	return m, nil
}

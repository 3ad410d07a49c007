// Package swiftblob is a blob store on OpenStack Swift's native API,
// registered for swift:// URLs:
//
//	swift://CONTAINER[/PREFIX]?auth_url=URL[&auth_version=1|3][&region=R][&chunk_size=5GiB][&endpoint=URL]
//
// With auth version 1 (the default for an auth URL ending in /auth/v1.0)
// it logs in with tempauth/swauth, taking the user and key from the URL's
// user info or from ST_USER and ST_KEY (python-swiftclient's variables);
// otherwise with Keystone through gophercloud, taking OS_USERNAME,
// OS_PASSWORD, OS_PROJECT_NAME... from the environment and the object-store
// endpoint from the catalog, or from endpoint (the account's storage URL, as
// glance_store's swift_store_endpoint). Secrets never appear in errors or logs.
//
// A blob up to chunk_size is one object; a larger one, as glance_store does
// beyond its chunk size, is a static large object (SLO) whose segments live
// under PREFIX/.segments/, which no key can name and List never shows.
package swiftblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/swauth"

	"github.com/go-glance/glance/internal/blob"
)

func init() { blob.Register("swift", open) }

// DefaultChunkSize is glance_store's swift_store_large_object_size (5 GiB,
// also Swift's largest object).
const DefaultChunkSize = 5 << 30

// Store keeps blobs as objects in one container.
type Store struct {
	sc        *gophercloud.ServiceClient
	container string
	prefix    string // "" or ending in "/"
	chunk     int64
}

// Options configures Open.
type Options struct {
	AuthURL string
	// User and Key log in with tempauth (v1) when V1 is set; otherwise
	// Keystone is used with the OS_* variables (and AuthURL, if set).
	V1        bool
	User, Key string
	Region    string
	Endpoint  string // Keystone only: the storage URL, instead of the catalog's
	Container string
	Prefix    string
	ChunkSize int64 // 0: DefaultChunkSize
}

func open(ctx context.Context, u *url.URL) (blob.Store, error) {
	o, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	return Open(ctx, o)
}

func parseURL(u *url.URL) (Options, error) {
	q := u.Query()
	o := Options{AuthURL: q.Get("auth_url"), Region: q.Get("region"), Endpoint: q.Get("endpoint"),
		Container: u.Host, Prefix: strings.Trim(u.Path, "/")}
	switch v := q.Get("auth_version"); v {
	case "1", "1.0":
		o.V1 = true
	case "":
		o.V1 = strings.Contains(o.AuthURL, "/auth/v1")
	case "3", "2", "2.0":
	default:
		return o, fmt.Errorf("swift store: auth_version %q is not 1 or 3", v)
	}
	if u.User != nil {
		o.User = u.User.Username()
		o.Key, _ = u.User.Password()
	}
	return o, blob.URLOption("swift", q, "chunk_size", blob.ParseSize, &o.ChunkSize)
}

// Open logs in and creates the container when it does not exist.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Container == "" || strings.ContainsAny(o.Container, "/?#") {
		return nil, fmt.Errorf("swift store: %q is no container name (swift://CONTAINER[/PREFIX])", o.Container)
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.ChunkSize < 1<<20 || o.ChunkSize > DefaultChunkSize {
		return nil, fmt.Errorf("swift store: chunk size %d is not between 1 MiB and 5 GiB", o.ChunkSize)
	}
	sc, err := login(ctx, o)
	if err != nil {
		return nil, err
	}
	s := &Store{sc: sc, container: o.Container, chunk: o.ChunkSize}
	if o.Prefix != "" {
		s.prefix = o.Prefix + "/"
	}
	resp, err := s.do(ctx, http.MethodPut, "", nil, nil, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("swift store: create container %s: %w", o.Container, err)
	}
	resp.Body.Close()
	return s, nil
}

func login(ctx context.Context, o Options) (*gophercloud.ServiceClient, error) {
	if o.V1 {
		return loginV1(ctx, o)
	}
	ao := keystoneOptions()
	if o.AuthURL != "" {
		ao.IdentityEndpoint = o.AuthURL
	}
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("swift store: auth_url: %w", err)
	}
	pc.HTTPClient = http.Client{Transport: blob.HTTPTransport()}
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, fmt.Errorf("swift store: Keystone login: %w", err)
	}
	if o.Endpoint != "" {
		return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: gophercloud.NormalizeURL(o.Endpoint)}, nil
	}
	sc, err := openstack.NewObjectStorageV1(pc, gophercloud.EndpointOpts{Region: o.Region})
	if err != nil {
		return nil, fmt.Errorf("swift store: %w", err)
	}
	return sc, nil
}

// keystoneOptions reads the OS_* variables as an openrc file sets them:
// gophercloud's AuthOptionsFromEnv knows OS_DOMAIN_* only, where openrc
// files name the user's and the project's domains apart.
func keystoneOptions() gophercloud.AuthOptions {
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: getenv("OS_AUTH_URL"),
		Username:         getenv("OS_USERNAME"), UserID: getenv("OS_USER_ID"), Password: getenv("OS_PASSWORD"),
		DomainName:                  first(getenv("OS_USER_DOMAIN_NAME"), getenv("OS_DOMAIN_NAME")),
		DomainID:                    first(getenv("OS_USER_DOMAIN_ID"), getenv("OS_DOMAIN_ID")),
		ApplicationCredentialID:     getenv("OS_APPLICATION_CREDENTIAL_ID"),
		ApplicationCredentialSecret: getenv("OS_APPLICATION_CREDENTIAL_SECRET"),
		AllowReauth:                 true,
	}
	if id, name := getenv("OS_PROJECT_ID"), getenv("OS_PROJECT_NAME"); id != "" || name != "" {
		ao.Scope = &gophercloud.AuthScope{
			ProjectID: id, ProjectName: name,
			DomainName: first(getenv("OS_PROJECT_DOMAIN_NAME"), getenv("OS_DOMAIN_NAME")),
			DomainID:   first(getenv("OS_PROJECT_DOMAIN_ID"), getenv("OS_DOMAIN_ID")),
		}
	}
	return ao
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// loginV1 logs in with tempauth, and again whenever the token is refused.
func loginV1(ctx context.Context, o Options) (*gophercloud.ServiceClient, error) {
	if o.AuthURL == "" {
		return nil, errors.New("swift store: auth_url is required")
	}
	ao := swauth.AuthOpts{User: o.User, Key: o.Key}
	if ao.User == "" {
		ao.User, ao.Key = getenv("ST_USER"), getenv("ST_KEY")
	}
	if ao.User == "" || ao.Key == "" {
		return nil, errors.New("swift store: tempauth needs a user and key (in the URL, or ST_USER and ST_KEY)")
	}
	// swauth asks BASE/auth/v1.0, BASE being the client's endpoint.
	pc, err := openstack.NewClient(strings.TrimSuffix(strings.TrimSuffix(o.AuthURL, "/"), "auth/v1.0"))
	if err != nil {
		return nil, fmt.Errorf("swift store: auth_url: %w", err)
	}
	pc.HTTPClient = http.Client{Transport: blob.HTTPTransport()}
	sc, err := swauth.NewObjectStorageV1(ctx, pc, ao)
	if err != nil {
		return nil, fmt.Errorf("swift store: tempauth login as %s: %w", ao.User, err)
	}
	pc.ReauthFunc = func(ctx context.Context) error {
		auth, err := swauth.Auth(ctx, pc, ao).Extract()
		if err != nil {
			return err
		}
		pc.SetToken(auth.Token)
		return nil
	}
	return sc, nil
}

func (s *Store) name(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// Size implements blob.Store.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	resp, err := s.do(ctx, http.MethodHead, name, nil, nil, nil, 0)
	if err != nil {
		return 0, s.keyErr(key, err)
	}
	resp.Body.Close()
	return resp.ContentLength, nil
}

// keyErr names the key in err, keeping ErrNotFound for errors.Is.
func (s *Store) keyErr(key string, err error) error {
	if errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("%w: %s", blob.ErrNotFound, key)
	}
	return fmt.Errorf("swift store: %s: %w", key, err)
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("%w: offset %d", blob.ErrInvalidRange, off)
	}
	h := http.Header{}
	switch {
	case n == 0:
		if _, err := s.Size(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	case n > 0 && n-1 <= (1<<63-1)-off:
		h.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	case off > 0:
		h.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := blob.RetryNotFound(ctx, func() (*http.Response, error) { return s.do(ctx, http.MethodGet, name, nil, h, nil, 0) })
	var st *statusError
	if errors.As(err, &st) && st.code == http.StatusRequestedRangeNotSatisfiable {
		// The range starts at or past the end: empty, if the key exists.
		if _, err := s.Size(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	if err != nil {
		return nil, s.keyErr(key, err)
	}
	return resp.Body, nil
}

// Delete implements blob.Store: a large object goes with its segments.
func (s *Store) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodHead, name, nil, nil, nil, 0)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if err != nil {
		return s.keyErr(key, err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Static-Large-Object") == "True" {
		return s.deleteSLO(ctx, name)
	}
	resp, err = s.do(ctx, http.MethodDelete, name, nil, nil, nil, 0)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return s.keyErr(key, err)
	}
	if err == nil {
		resp.Body.Close()
	}
	return nil
}

// List implements blob.Store.
func (s *Store) List(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.listing(ctx, s.prefix, "/", func(o object) {
		if k := strings.TrimPrefix(o.Name, s.prefix); o.Name != "" && blob.CheckKey(k) == nil {
			keys = append(keys, k)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("swift store: list: %w", err)
	}
	return keys, nil // Swift lists in byte order
}

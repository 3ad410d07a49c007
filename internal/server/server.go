// Package server implements glanced, a Glance-compatible Image API v2 server
// (wire-compatible with Glance 25.1 "Zed") on SQLite metadata and file data.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/imagecache"
	"github.com/go-glance/glance/internal/policy"
	"github.com/go-glance/glance/internal/registry"
	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/webfetch"
)

// KeystoneConfig holds the service credentials used to validate tokens.
type KeystoneConfig struct {
	AuthURL           string        // Keystone v3 URL, e.g. http://127.0.0.1:5000/v3
	Username          string        // service user
	Password          string        // service user's password
	ProjectName       string        // service project
	UserDomainName    string        // default "Default"
	ProjectDomainName string        // default "Default"
	CacheTTL          time.Duration // how long a validated token is trusted; default 30s
	// WWWAuthenticateURI is announced in 401 answers; default AuthURL without /v3.
	WWWAuthenticateURI string
}

// Config configures a Server. The zero value serves noauth on 127.0.0.1:9292
// with data in the user's state directory.
type Config struct {
	Listen    string         // default 127.0.0.1:9292
	DataDir   string         // default $XDG_STATE_HOME/glanced or ~/.local/state/glanced
	Auth      string         // "noauth" (default) or "keystone"
	Keystone  KeystoneConfig // used when Auth is "keystone"
	PublicURL string         // base for absolute links; default from the request
	Logger    *slog.Logger   // default slog.Default()
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// (uploads) once its context ends; default 30s.
	ShutdownTimeout time.Duration
	// MaxImageSize caps uploads (Glance's image_size_cap); default 1 TiB.
	MaxImageSize int64
	// PolicyFile is an oslo.policy file (YAML or JSON) whose rules replace
	// Glance's defaults, as Glance's policy.yaml does.
	PolicyFile string
	// WebDownload bounds the web-download import method: which sources it
	// may reach (Glance's import_filtering_opts; by default http and https
	// on ports 80 and 443 of public addresses), timeouts and concurrency.
	// Its MaxSize is MaxImageSize.
	WebDownload webfetch.Options
	// EnforceScope refuses project rules to system- or domain-scoped tokens
	// (oslo.policy's enforce_scope); nil means true, as in current Glance.
	EnforceScope *bool
	// Limits are the timeouts and size limits of requests.
	Limits Limits
	// Database is the metadata store's URL: sqlite:///abs/path, sqlite:rel/path
	// or a path to an SQLite file; default DataDir/glance.db.
	Database string
	// Stores are the image data stores, listed by /v2/info/stores in this
	// order; default one file store "local" in DataDir/images.
	Stores []StoreConfig
	// Staging is the URL of the store keeping glance-direct uploads until
	// their import (Glance's os_glance_staging_store); default DataDir/staging.
	Staging string

	// EnableV1 serves the Image API v1 at /v1 (Glance's enable_v1_api) over
	// the same images as v2, and lists it in the versions document.
	EnableV1 bool
	// Quota turns on per-project quotas from Keystone unified limits.
	Quota QuotaConfig
	// Content configures the inspection of uploaded and imported data.
	Content ContentChecks
	// Protections configures property protections (Glance's
	// property_protection_file).
	Protections ProtectionsConfig
	// Image cache, import methods and locations (cmdmultistore.go).
	Cache CacheConfig
	// ImportMethods are the enabled import methods (Glance's
	// enabled_import_methods); default glance-direct and web-download.
	ImportMethods []string
	// ShowMultipleLocations shows images' locations and lets PATCH change
	// them (Glance's show_multiple_locations).
	ShowMultipleLocations bool
	// MetricsListen is where Prometheus metrics are served at /metrics:
	// "" on the Image API's listener, an address for a listener of their
	// own, or MetricsOff ("off") for nowhere.
	MetricsListen string
	// MetadefsDir is a folder of metadata definition files loaded at
	// start (namespaces already present are kept); "" loads none.
	MetadefsDir string
	// Cluster is how the node shares the database and stores with others.
	Cluster ClusterConfig
}

// DefaultDataDir returns the default data directory.
func DefaultDataDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "glanced"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "glanced"), nil
}

// Server is a running image service.
type Server struct {
	cfg     Config
	log     *slog.Logger
	meta    store.Metadata
	stores  *stores    // image data, keyed by image id
	staging blob.Store // glance-direct staged data, keyed by image id
	auth    authenticator
	pol     *policy.Enforcer
	handler http.Handler

	bg       sync.WaitGroup // import tasks
	bgCtx    context.Context
	bgCancel context.CancelFunc
	mu       sync.Mutex // guards closed
	closed   bool
	fetch    *webfetch.Fetcher // web-download sources

	limits *limiter   // Keystone unified limits; nil when quotas are off
	props  *propRules // property protections; nil when off
	// Image cache and enabled import methods (multistore.go).
	cache         *imagecache.Cache // nil when off
	importMethods []string
	versionIDs    map[string]bool // the versions document's, for the path prefix
	metrics       *metrics
	cl            *cluster // leases of this node's work, janitor
}

const defaultListen = "127.0.0.1:9292"

// New opens the stores under cfg.DataDir and repairs what a crash left behind.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	wd := cfg.WebDownload
	wd.MaxSize = cfg.MaxImageSize
	s := &Server{cfg: cfg, log: cfg.Logger, fetch: webfetch.New(wd)}
	if err := s.initAccess(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := s.openStores(ctx); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	s.handler = s.instrument(s.guard(s.routes()))
	return s, nil
}

// withDefaults fills in the zero fields of c that have a default.
func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if c.Auth == "" {
		c.Auth = "noauth"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.MaxImageSize <= 0 {
		c.MaxImageSize = 1 << 40
	}
	c.Limits = c.Limits.withDefaults()
	if c.DataDir == "" {
		d, err := DefaultDataDir()
		if err != nil {
			return c, err
		}
		c.DataDir = d
	}
	if c.Database == "" {
		c.Database = filepath.Join(c.DataDir, "glance.db")
	}
	if c.Staging == "" {
		c.Staging = filepath.Join(c.DataDir, "staging")
	}
	return c, nil
}

// initAccess sets up the policy engine, authentication, quotas and
// property protections.
func (s *Server) initAccess() error {
	cfg := s.cfg
	pol, err := policy.New(policy.Options{File: cfg.PolicyFile, EnforceScope: cfg.EnforceScope == nil || *cfg.EnforceScope})
	if err != nil {
		return err
	}
	if cfg.PolicyFile != "" && len(pol.Sources()) == 0 {
		return fmt.Errorf("policy file %s: %w", cfg.PolicyFile, os.ErrNotExist)
	}
	s.pol = pol
	switch cfg.Auth {
	case "noauth":
		s.auth = noAuth{}
	case "keystone":
		ka, err := newKeystoneAuth(cfg.Keystone, s.log)
		if err != nil {
			return err
		}
		s.auth = ka
	default:
		return fmt.Errorf("unknown auth mode %q (want noauth or keystone)", cfg.Auth)
	}
	return s.initChecks()
}

// start loads the configured metadata definitions, repairs what a crash
// left behind and starts the background work (cluster leases and janitor,
// metrics, the image cache); on failure it closes the database.
func (s *Server) start(ctx context.Context) error {
	s.cl = newCluster(s.cfg)
	if err := s.loadMetadefsAtStart(ctx); err != nil {
		s.meta.Close()
		return fmt.Errorf("metadata definitions: %w", err)
	}
	if err := s.recover(ctx); err != nil {
		s.meta.Close()
		return fmt.Errorf("recovery: %w", err)
	}
	s.startCluster()
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.setupMetrics()
	if err := s.startMultistore(); err != nil {
		s.bgCancel()
		s.meta.Close()
		return err
	}
	return nil
}

// openStores opens the metadata, data and staging stores of s.cfg.
func (s *Server) openStores(ctx context.Context) error {
	cfg := s.cfg
	var err error
	if s.stores, err = openStores(ctx, cfg); err != nil {
		return err
	}
	if s.staging, err = blob.Open(ctx, cfg.Staging); err != nil {
		return err
	}
	if s.meta, err = store.Open(ctx, cfg.Database); err != nil {
		return err
	}
	for _, sc := range s.stores.list {
		s.log.Info("image store", "id", sc.ID, "url", registry.Redact(sc.URL), "default", sc.Default)
	}
	return nil
}

// Handler returns the HTTP handler of the Image API.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx ends, then stops accepting connections, waits
// up to ShutdownTimeout for in-flight requests (uploads finish and commit)
// and returns. It does not close the stores; call Close for that.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.serveMetrics(ctx); err != nil {
		return err
	}
	hs := s.newHTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("glanced serving", "addr", ln.Addr().String(), "auth", s.cfg.Auth, "data_dir", s.cfg.DataDir)
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && s.cfg.Auth == "noauth" && !tcp.IP.IsLoopback() {
		s.log.Warn("noauth mode on a non-loopback address: anyone who can reach it is admin", "addr", tcp.String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		// Uploads still running are cut; their handlers put the images back to queued.
		hs.Close()
	}
	<-errc
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// background runs fn (an import task) on its own until Close, unless the
// server is already closing.
func (s *Server) background(fn func(ctx context.Context)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errorf(http.StatusServiceUnavailable, "The service is shutting down.")
	}
	s.bg.Add(1)
	done := s.metrics.importRunning()
	go func() {
		defer s.bg.Done()
		defer done()
		fn(s.bgCtx)
	}()
	return nil
}

// Close stops background tasks and closes the stores.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.bgCancel()
	s.bg.Wait()
	s.stopCluster()
	return s.meta.Close()
}

// ListenAndServe listens on cfg.Listen and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

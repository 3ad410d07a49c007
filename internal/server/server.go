// Package server implements glanced, a Glance-compatible Image API v2 server
// (wire-compatible with Glance 25.1 "Zed") on SQLite metadata and file data.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-glance/glance/internal/policy"
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
	blobs   store.Blobs // active image data, keyed by image id
	staging store.Blobs // glance-direct staged data, keyed by image id
	auth    authenticator
	pol     *policy.Enforcer
	handler http.Handler

	bg       sync.WaitGroup // import tasks
	bgCtx    context.Context
	bgCancel context.CancelFunc
	mu       sync.Mutex // guards closed
	closed   bool
	fetch    *webfetch.Fetcher // web-download sources
}

const (
	defaultListen = "127.0.0.1:9292"
	storeID       = "local"
)

// New opens the stores under cfg.DataDir and repairs what a crash left behind.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = defaultListen
	}
	if cfg.Auth == "" {
		cfg.Auth = "noauth"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.MaxImageSize <= 0 {
		cfg.MaxImageSize = 1 << 40
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.DataDir == "" {
		d, err := DefaultDataDir()
		if err != nil {
			return nil, err
		}
		cfg.DataDir = d
	}
	wd := cfg.WebDownload
	wd.MaxSize = cfg.MaxImageSize
	s := &Server{cfg: cfg, log: cfg.Logger, fetch: webfetch.New(wd)}
	pol, err := policy.New(policy.Options{File: cfg.PolicyFile, EnforceScope: cfg.EnforceScope == nil || *cfg.EnforceScope})
	if err != nil {
		return nil, err
	}
	if cfg.PolicyFile != "" && len(pol.Sources()) == 0 {
		return nil, fmt.Errorf("policy file %s: %w", cfg.PolicyFile, os.ErrNotExist)
	}
	s.pol = pol
	switch cfg.Auth {
	case "noauth":
		s.auth = noAuth{}
	case "keystone":
		ka, err := newKeystoneAuth(cfg.Keystone, s.log)
		if err != nil {
			return nil, err
		}
		s.auth = ka
	default:
		return nil, fmt.Errorf("unknown auth mode %q (want noauth or keystone)", cfg.Auth)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	meta, err := store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "glance.db"))
	if err != nil {
		return nil, err
	}
	s.meta = meta
	if s.blobs, err = store.OpenFiles(filepath.Join(cfg.DataDir, "images")); err != nil {
		meta.Close()
		return nil, err
	}
	if s.staging, err = store.OpenFiles(filepath.Join(cfg.DataDir, "staging")); err != nil {
		meta.Close()
		return nil, err
	}
	if err := s.recover(ctx); err != nil {
		meta.Close()
		return nil, fmt.Errorf("recovery: %w", err)
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.handler = s.guard(s.routes())
	return s, nil
}

// recover brings the stores back to a consistent state after a crash:
//   - saving images go back to queued (the upload died; Glance does the same
//     on a failed upload), importing ones back to uploading when their staged
//     data is there, else to queued; their pending tasks fail;
//   - an active or deactivated image whose data is missing or has the wrong
//     size is marked killed (its metadata cannot be trusted any more);
//   - data of images that are not active/deactivated, and staged data of
//     images that are not uploading, is removed.
func (s *Server) recover(ctx context.Context) error {
	now := time.Now().UTC()
	stuck, err := s.meta.ImagesByStatus(ctx, store.StatusSaving, store.StatusImporting)
	if err != nil {
		return err
	}
	for _, im := range stuck {
		_, err := s.meta.UpdateImage(ctx, im.ID, func(im *store.Image) error {
			to := store.StatusQueued
			if im.Status == store.StatusImporting {
				if _, err := s.staging.Size(ctx, im.ID); err == nil {
					to = store.StatusUploading
				}
			}
			s.log.Warn("recovery: interrupted write", "image", im.ID, "from", im.Status, "to", to)
			im.Status = to
			im.Size, im.VirtualSize = nil, nil
			delete(im.Properties, "os_glance_import_task")
			im.UpdatedAt = now
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	tasks, err := s.meta.ListTasks(ctx, "")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.Status == "pending" || t.Status == "processing" {
			t.Status, t.Message, t.UpdatedAt = "failure", "Interrupted by a restart of the image service.", now
			if err := s.meta.UpdateTask(ctx, t); err != nil {
				return err
			}
		}
	}
	live, err := s.meta.ImagesByStatus(ctx, store.StatusActive, store.StatusDeactivated)
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(live))
	for _, im := range live {
		size, err := s.blobs.Size(ctx, im.ID)
		if err == nil && im.Size != nil && size == *im.Size {
			keep[im.ID] = true
			continue
		}
		s.log.Error("recovery: image data missing or wrong size, marking killed", "image", im.ID, "err", err)
		if _, err := s.meta.UpdateImage(ctx, im.ID, func(im *store.Image) error {
			im.Status, im.UpdatedAt = store.StatusKilled, now
			return nil
		}); err != nil {
			return err
		}
	}
	if err := s.removeOrphans(ctx, s.blobs, keep, "recovery: removing orphaned image data"); err != nil {
		return err
	}
	staged, err := s.meta.ImagesByStatus(ctx, store.StatusUploading)
	if err != nil {
		return err
	}
	keepStaged := make(map[string]bool, len(staged))
	for _, im := range staged {
		keepStaged[im.ID] = true
	}
	if err := s.removeOrphans(ctx, s.staging, keepStaged, "recovery: removing orphaned staged data"); err != nil {
		return err
	}
	// An uploading image whose staged data vanished can only be staged again.
	for _, im := range staged {
		if _, err := s.staging.Size(ctx, im.ID); errors.Is(err, store.ErrNotFound) {
			if _, err := s.meta.UpdateImage(ctx, im.ID, func(im *store.Image) error {
				im.Status, im.UpdatedAt = store.StatusQueued, now
				return nil
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeOrphans deletes the blobs of bs not in keep, logging each with msg.
func (s *Server) removeOrphans(ctx context.Context, bs store.Blobs, keep map[string]bool, msg string) error {
	keys, err := bs.List(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !keep[k] {
			s.log.Warn(msg, "key", k)
			if err := bs.Delete(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// Handler returns the HTTP handler of the Image API.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx ends, then stops accepting connections, waits
// up to ShutdownTimeout for in-flight requests (uploads finish and commit)
// and returns. It does not close the stores; call Close for that.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
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
	go func() {
		defer s.bg.Done()
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

package conformance

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/server"
	"github.com/go-glance/glance/internal/testenv"
	"github.com/go-glance/glance/internal/webfetch"
)

// peerTarget returns a Target on imageURL whose tokens come from the
// peer's Keystone. testenv skips (loudly) when there is no peer.
func peerTarget(t *testing.T, cloud *testenv.Cloud, imageURL string) Target {
	users := map[Role]testenv.User{
		Admin:       cloud.Admin,
		AlphaMember: cloud.AlphaMember,
		AlphaReader: cloud.AlphaReader,
		BetaMember:  cloud.BetaMember,
		BetaReader:  cloud.BetaReader,
	}
	return Target{
		URL: imageURL,
		// Run asks for every credential up front, on t's goroutine, so
		// testenv may fail t directly.
		Credential: func(_ context.Context, r Role) (Credential, error) {
			if r == SystemAdmin {
				return Credential{Token: cloud.SystemAuth(t, cloud.Admin).Token}, nil
			}
			u, ok := users[r]
			if !ok {
				return Credential{}, errors.New("no user for role " + string(r))
			}
			a := cloud.Auth(t, u)
			return Credential{Token: a.Token, ProjectID: a.ProjectID}, nil
		},
	}
}

// standardMetadefs holds the metadata definitions Debian's Glance package
// ships; the peer is that package, so they are there wherever it runs.
const standardMetadefs = "/etc/glance/metadefs"

// reachable reports whether something answers HTTP at url.
func reachable(url string) error {
	c := &http.Client{Timeout: 5 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return err
	}
	return r.Body.Close()
}

// TestRealGlance runs the suite against the peer's Glance 25.1, which is
// configured with two file stores (fast is the default) and the image
// cache.
func TestRealGlance(t *testing.T) {
	cloud := testenv.Peer(t)
	if err := reachable(cloud.GlanceURL); err != nil {
		t.Fatalf("Keystone answers but Glance at %s does not: %v", cloud.GlanceURL, err)
	}
	tg := peerTarget(t, cloud, cloud.GlanceURL)
	tg.Stores = []string{"fast", "slow"}
	tg.Cache = true
	Run(t, tg)
}

// TestGlanced runs the suite against glanced, started in this process
// on a free port with a fresh data directory, validating tokens with the
// peer's Keystone. glanced has one store, "local", and no image cache; it
// serves the newest Glance's API versions.
func TestGlanced(t *testing.T) {
	cloud := testenv.Peer(t)
	tg := peerTarget(t, cloud, startGlanced(t, cloud, server.Config{}))
	tg.Stores = []string{"local"}
	tg.Newest = true
	Run(t, tg)
}

// TestGlancedPostgres runs the suite against glanced keeping its metadata
// in PostgreSQL (a new database of GLANCE_TEST_POSTGRES's server).
func TestGlancedPostgres(t *testing.T) {
	cloud := testenv.Peer(t)
	tg := peerTarget(t, cloud, startGlanced(t, cloud, server.Config{Database: testenv.Postgres(t)}))
	tg.Stores = []string{"local"}
	tg.Newest = true
	Run(t, tg)
}

// TestGlancedStores runs the suite against glanced configured as the
// peer's Glance is: two file stores, fast (the default) and slow, the
// image cache (of every store, as Glance caches file stores too) and
// copy-image.
func TestGlancedStores(t *testing.T) {
	cloud := testenv.Peer(t)
	dir := t.TempDir()
	url := startGlanced(t, cloud, glancedLikePeer(dir))
	tg := peerTarget(t, cloud, url)
	tg.Stores = []string{"fast", "slow"}
	tg.Cache, tg.Newest = true, true
	Run(t, tg)
}

// glancedLikePeer is glanced's configuration of what the peer's Glance
// has: two file stores, the cache and copy-image.
func glancedLikePeer(dir string) server.Config {
	return server.Config{
		Stores: []server.StoreConfig{
			{ID: "fast", URL: dir + "/fast", Description: "Fast file store", Default: true},
			{ID: "slow", URL: "file://" + dir + "/slow", Description: "Slow file store"},
		},
		Cache:         server.CacheConfig{Dir: dir + "/cache", AllStores: true},
		ImportMethods: []string{"glance-direct", "web-download", "copy-image", "glance-download"},
	}
}

// startGlanced serves glanced with cfg, a fresh data directory and the
// peer's Keystone on a free port until t ends, and returns its URL.
func startGlanced(t *testing.T, cloud *testenv.Cloud, cfg server.Config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg.DataDir, cfg.Auth = t.TempDir(), "keystone"
	if cfg.MetadefsDir == "" {
		// The definitions the peer's Glance loaded: Debian's, beside it.
		cfg.MetadefsDir = standardMetadefs
	}
	cfg.Keystone = server.KeystoneConfig{
		AuthURL:           cloud.KeystoneURL,
		Username:          cloud.Glance.Name,
		Password:          cloud.Glance.Password,
		ProjectName:       cloud.Glance.Project,
		UserDomainName:    cloud.Glance.Domain,
		ProjectDomainName: cloud.Glance.Domain,
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if cfg.WebDownload.Filter == nil {
		// As the peer's Glance: web-download from 127.0.0.1 on any port.
		cfg.WebDownload.Filter = &webfetch.Filter{AllowedSchemes: []string{"http", "https"}, AllowedHosts: []string{"127.0.0.1"}}
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		srv.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("glanced: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("glanced close: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

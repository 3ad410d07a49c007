// Package conformance is an Image API v2 test suite that runs against any
// Glance-compatible endpoint. It speaks raw HTTP, so what it checks is the
// wire: status codes, headers, JSON fields and their types, error bodies.
//
// The same suite runs against the real Glance and against glanced
// (TestRealGlance and TestGlanced); what the real Glance does is the
// reference. Both targets are checked by the same assertions; the only
// differences allowed are the configuration facts a Target states (its
// stores and whether it has an image cache).
//
// The suite needs five identities on a Keystone the endpoint trusts: an
// admin, a member and a reader of one project, and a member and a reader
// of another. Every image it creates carries a per-run name and is
// deleted when its test ends.
package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Role names one of the identities the suite acts as.
type Role string

// The identities the suite needs. Alpha and beta are two unrelated
// projects; a member may write, a reader may only read.
const (
	Admin       Role = "admin"
	AlphaMember Role = "alpha-member"
	AlphaReader Role = "alpha-reader"
	BetaMember  Role = "beta-member"
	BetaReader  Role = "beta-reader"
)

// Roles lists every Role the suite uses.
var Roles = []Role{Admin, AlphaMember, AlphaReader, BetaMember, BetaReader}

// Credential is what the suite sends and needs to know for one identity.
type Credential struct {
	Token     string // sent as X-Auth-Token
	ProjectID string // the project the token is scoped to
}

// Target describes the endpoint under test.
type Target struct {
	// URL is the image endpoint root, without /v2 (e.g. http://127.0.0.1:9292).
	URL string
	// Credential returns a token for a role. It is called once per role.
	Credential func(ctx context.Context, r Role) (Credential, error)
	// Client sends the requests; nil means a client with a 30s timeout.
	Client *http.Client

	// Stores lists the store IDs the endpoint is configured with when it
	// runs with several stores (GET /v2/info/stores answers them, image
	// creation advertises them); nil means a single store, where that
	// route answers 404. This is a configuration difference, not a
	// behaviour one, so it is stated rather than probed.
	Stores []string
	// Cache says whether the image cache is enabled. It changes the
	// versions document: v2.14 and v2.16 appear only with a cache.
	Cache bool
	// Newest says the endpoint serves the API versions of the newest
	// Glance (2.17's locations calls, and 2.18 with a cache) rather than
	// those of Glance 25.1: the versions document lists them.
	Newest bool
}

// suite is the shared state of one Run.
type suite struct {
	tg     Target
	client *http.Client
	run    string // unique per run, part of every name the suite creates
	seq    atomic.Int64

	mu    sync.Mutex
	creds map[Role]Credential
}

// Run runs the whole suite against tg as subtests of t. Every image it
// creates is named after a per-run prefix and deleted when its test ends.
func Run(t *testing.T, tg Target) {
	t.Helper()
	s := newSuite(t, tg, Roles)
	if t.Failed() {
		return
	}
	run := slices.Clone(groups)
	for _, og := range optionalGroups {
		if og.when(tg) {
			run = append(run, og.group)
		}
	}
	for _, g := range run {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.fn(t, s)
		})
	}
}

// newSuite prepares a run against tg and gets the tokens of roles up
// front: a broken credential source should stop the run once rather than
// fail every test.
func newSuite(t *testing.T, tg Target, roles []Role) *suite {
	t.Helper()
	s := &suite{tg: tg, client: tg.Client, creds: map[Role]Credential{}}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	s.tg.URL = strings.TrimRight(tg.URL, "/")
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	s.run = "conf-" + hex.EncodeToString(b[:])
	for _, r := range roles {
		s.cred(t, r)
	}
	return s
}

type group struct {
	name string
	fn   func(*testing.T, *suite)
}

// optionalGroup is a group for targets configured with a feature.
type optionalGroup struct {
	group
	when func(Target) bool
}

// optionalGroups run only on targets whose configuration has the feature.
var optionalGroups = []optionalGroup{
	{group{"MultiStore", testMultiStore}, func(tg Target) bool { return len(tg.Stores) > 1 }},
	{group{"CacheQueue", testCacheQueue}, func(tg Target) bool { return tg.Cache }},
}

// groups is the suite, one entry per area of the API. Groups run in
// parallel with each other; tests inside a group run in order.
var groups = []group{
	{"Versions", testVersions},
	{"Create", testCreate},
	{"Show", testShow},
	{"Delete", testDelete},
	{"List", testList},
	{"Patch", testPatch},
	{"Upload", testUpload},
	{"Download", testDownload},
	{"Deactivate", testDeactivate},
	{"Tags", testTags},
	{"Members", testMembers},
	{"Tenancy", testTenancy},
	{"Schemas", testSchemas},
	{"Discovery", testDiscovery},
	{"Cache", testCache},
	{"Import", testImport},
	{"Tasks", testTasks},
	{"Errors", testErrors},
	{"Messages", testMessages},
	{"Quotas", testQuotas},
	{"Metadefs", testMetadefs},
}

// cred returns the credential of r, fetching it on first use.
func (s *suite) cred(t *testing.T, r Role) Credential {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.creds[r]; ok {
		return c
	}
	c, err := s.tg.Credential(t.Context(), r)
	if err != nil {
		t.Fatalf("credential for %s: %v", r, err)
	}
	s.creds[r] = c
	return c
}

// project returns the project ID of r.
func (s *suite) project(t *testing.T, r Role) string {
	t.Helper()
	return s.cred(t, r).ProjectID
}

// name returns a name unique to this run.
func (s *suite) name(what string) string {
	return s.run + "-" + what
}

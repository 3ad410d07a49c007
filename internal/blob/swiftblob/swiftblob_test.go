package swiftblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/blob/blobtest"
	"github.com/go-glance/glance/internal/testenv"
)

func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "blobtest-" + hex.EncodeToString(b)
}

// openTest opens a store under a prefix of its own in container, on the
// Swift that scripts/swift-up.sh starts, with 1 MiB chunks so that blobs of
// a few MiB are segmented.
func openTest(t *testing.T, container string) *Store {
	t.Helper()
	env := testenv.Swift(t)
	s, err := Open(context.Background(), Options{
		AuthURL: env.SwiftAuthURL, V1: true, User: env.SwiftUser, Key: env.SwiftKey,
		Container: container, Prefix: randomName(), ChunkSize: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	blobtest.EmptyOnCleanup(t, s)
	return s
}

func TestConformance(t *testing.T) {
	container := randomName()
	blobtest.Run(t, func(t *testing.T) blob.Store { return openTest(t, container) })
}

// segments lists the segment objects under the store's prefix.
func segments(t *testing.T, s *Store) []string {
	t.Helper()
	var names []string
	if err := s.listing(context.Background(), s.prefix+segDir, "", func(o object) { names = append(names, o.Name) }); err != nil {
		t.Fatal(err)
	}
	return names
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// TestSegments checks that a segmented blob is one SLO whose segments go
// with it, and that failed or cancelled segmented uploads leave no object
// and no segment.
func TestSegments(t *testing.T) {
	s := openTest(t, randomName())
	ctx := context.Background()
	errBoom := errors.New("boom")
	for _, size := range []int64{-1, 5 << 20} {
		r := io.MultiReader(io.LimitReader(zeros{}, 3<<20+5), readFunc(func([]byte) (int, error) { return 0, errBoom }))
		if _, err := s.Put(ctx, "k", r, size); !errors.Is(err, errBoom) {
			t.Fatalf("Put (size %d) failing after 3 MiB: %v", size, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		r = io.MultiReader(io.LimitReader(zeros{}, 2<<20+5), readFunc(func([]byte) (int, error) { cancel(); return 0, nil }), zeros{})
		if _, err := s.Put(cctx, "k", r, size); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put (size %d) cancelled after 2 MiB: %v", size, err)
		}
		if _, err := s.Size(ctx, "k"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("after failed uploads: Size = %v", err)
		}
		if segs := segments(t, s); len(segs) != 0 {
			t.Fatalf("failed uploads left segments: %v", segs)
		}
	}
	for _, known := range []bool{false, true} {
		size := func(n int64) int64 { return map[bool]int64{false: -1, true: n}[known] }
		// 3 MiB: a tail that ends on a chunk.
		if n, err := s.Put(ctx, "k", io.LimitReader(zeros{}, 3<<20), size(3<<20)); err != nil || n != 3<<20 {
			t.Fatalf("Put of 3 MiB (size known: %v) = %d, %v", known, n, err)
		}
		if segs := segments(t, s); len(segs) != 3 {
			t.Fatalf("a 3 MiB blob in 1 MiB chunks has segments %v", segs)
		}
		// Replacing it by another large object, then by a small one,
		// leaves the segments of the version in place only.
		if _, err := s.Put(ctx, "k", io.LimitReader(zeros{}, 2<<20+1), size(2<<20+1)); err != nil {
			t.Fatal(err)
		}
		if segs := segments(t, s); len(segs) != 3 {
			t.Fatalf("after replacing a large object by one of 3 segments: %v", segs)
		}
		if _, err := s.Put(ctx, "k", io.LimitReader(zeros{}, 100), size(100)); err != nil {
			t.Fatal(err)
		}
		if segs := segments(t, s); len(segs) != 0 {
			t.Fatalf("after replacing a large object by a small one: %v", segs)
		}
		if err := s.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if segs := segments(t, s); len(segs) != 0 {
			t.Fatalf("Delete left segments %v", segs)
		}
		if _, err := s.Put(ctx, "k", io.LimitReader(zeros{}, 3<<20), size(3<<20)); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if segs := segments(t, s); len(segs) != 0 {
			t.Fatalf("Delete of a large object left segments %v", segs)
		}
	}
}

// TestOpenURL opens the store as glanced does, by URL, with the tempauth
// credentials from the environment.
func TestOpenURL(t *testing.T) {
	env := testenv.Swift(t)
	t.Setenv("ST_USER", env.SwiftUser)
	t.Setenv("ST_KEY", env.SwiftKey)
	u := "swift://" + randomName() + "/images?auth_url=" + url.QueryEscape(env.SwiftAuthURL) + "&chunk_size=2MiB"
	st, err := blob.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if s := st.(*Store); s.chunk != 2<<20 || s.prefix != "images/" {
		t.Fatalf("opened %+v", s)
	}
	if _, err := st.Put(context.Background(), "k", io.LimitReader(zeros{}, 10), 10); err != nil {
		t.Fatal(err)
	}
	st.Delete(context.Background(), "k")
	t.Setenv("ST_KEY", "wrong")
	if _, err := blob.Open(context.Background(), u); err == nil {
		t.Fatal("a wrong key was taken")
	} else if testing.Verbose() {
		t.Log(err)
	}
	for _, bad := range []string{"swift://c?auth_url=http://x/auth/v1.0&chunk_size=1KiB", "swift://c?auth_version=4"} {
		if _, err := blob.Open(context.Background(), bad); err == nil {
			t.Fatalf("%s was taken", bad)
		}
	}
}

// BenchmarkTransfer: go test -run '^$' -bench . with GLANCE_SWIFT_ENV set
// (GLANCE_BENCH_MIB=1024 for 1 GiB), default chunk size (5 GiB); with
// GLANCE_BENCH_CHUNK_MIB, segments of that size.
func BenchmarkTransfer(b *testing.B) {
	env := testenv.Swift(b)
	chunk, _ := strconv.ParseInt(os.Getenv("GLANCE_BENCH_CHUNK_MIB"), 10, 64)
	s, err := Open(context.Background(), Options{
		AuthURL: env.SwiftAuthURL, V1: true, User: env.SwiftUser, Key: env.SwiftKey, Container: "bench", ChunkSize: chunk << 20,
	})
	if err != nil {
		b.Fatal(err)
	}
	blobtest.Bench(b, s)
}

// TestKeystone runs the suite as a Keystone user of the peer (alpha's
// member), logging in with the OS_* variables as glanced does, on the
// account of the user's project (keystoneauth's KEY_<project id>).
func TestKeystone(t *testing.T) {
	env := testenv.Swift(t)
	peer := testenv.Peer(t)
	if env.SwiftKeystoneURL == "" {
		t.Skip("INTEGRATION TEST SKIPPED: this Swift takes no Keystone tokens (swift-up.sh without SWIFT_KEYSTONE_PEER)")
	}
	u := peer.AlphaMember
	for k, v := range map[string]string{
		"OS_AUTH_URL": peer.KeystoneURL, "OS_USERNAME": u.Name, "OS_PASSWORD": u.Password,
		"OS_PROJECT_NAME": u.Project, "OS_USER_DOMAIN_NAME": u.Domain, "OS_PROJECT_DOMAIN_NAME": u.Domain,
	} {
		t.Setenv(k, v)
	}
	endpoint := env.SwiftKeystoneURL + peer.Auth(t, u).ProjectID
	container := randomName()
	blobtest.Run(t, func(t *testing.T) blob.Store {
		st, err := blob.Open(context.Background(), "swift://"+container+"/"+randomName()+
			"?auth_version=3&chunk_size=1MiB&endpoint="+url.QueryEscape(endpoint))
		if err != nil {
			t.Fatal(err)
		}
		blobtest.EmptyOnCleanup(t, st)
		return st
	})
}

// TestSweep leaves segments as a crash would (no manifest) beside a large
// object: Sweep removes those older than its time only, never the ones a
// blob uses.
func TestSweep(t *testing.T) {
	s := openTest(t, randomName())
	ctx := context.Background()
	if _, err := s.Put(ctx, "big", io.LimitReader(zeros{}, 3<<20), -1); err != nil {
		t.Fatal(err)
	}
	orphan := s.prefix + segDir + "big/cut-upload/00000001"
	resp, err := s.do(ctx, http.MethodPut, orphan, nil, nil, strings.NewReader("partial"), 7)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n, err := s.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("Sweep of segments older than an hour = %d, %v; want 0", n, err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the one orphan", n, err)
	}
	if segs := segments(t, s); len(segs) != 3 || slices.Contains(segs, orphan) {
		t.Fatalf("after Sweep: segments %v", segs)
	}
	if n, err := s.Size(ctx, "big"); err != nil || n != 3<<20 {
		t.Fatalf("the large object after Sweep: %d, %v", n, err)
	}
}

// TestAbortPartial leaves segments as a crash would beside a large object
// and beside a key with no object: AbortPartial removes those of its key
// only, whatever their age, and never the ones a blob uses.
func TestAbortPartial(t *testing.T) {
	s := openTest(t, randomName())
	ctx := context.Background()
	if _, err := s.Put(ctx, "big", io.LimitReader(zeros{}, 3<<20), -1); err != nil {
		t.Fatal(err)
	}
	cut := []string{s.prefix + segDir + "big/cut-upload/00000001", s.prefix + segDir + "gone/cut-upload/00000001"}
	other := s.prefix + segDir + "bigger/cut-upload/00000001"
	for _, name := range append(cut, other) {
		resp, err := s.do(ctx, http.MethodPut, name, nil, nil, strings.NewReader("partial"), 7)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, key := range []string{"big", "gone"} {
		if err := s.AbortPartial(ctx, key); err != nil {
			t.Fatalf("AbortPartial %s: %v", key, err)
		}
	}
	segs := segments(t, s)
	if len(segs) != 4 || slices.Contains(segs, cut[0]) || slices.Contains(segs, cut[1]) || !slices.Contains(segs, other) {
		t.Fatalf("after AbortPartial: segments %v", segs)
	}
	if n, err := s.Size(ctx, "big"); err != nil || n != 3<<20 {
		t.Fatalf("the large object after AbortPartial: %d, %v", n, err)
	}
	s.deleteSegments(ctx, other, 1)
}

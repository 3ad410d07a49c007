// Package blobtest is the conformance suite of blob stores: every backend
// runs it from its own test, as restic's backends run its test suite, so
// that the server can rely on one behaviour whatever stores it is given.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-glance/glance/internal/blob"
)

// Run runs the suite. open returns a new, empty store for each subtest; the
// store is not closed by the suite (a backend that needs closing does it
// with t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"PutOpen", testPutOpen},
		{"Ranges", testRanges},
		{"Missing", testMissing},
		{"ListDelete", testListDelete},
		{"Overwrite", testOverwrite},
		{"Empty", testEmpty},
		{"SizeMismatch", testSizeMismatch},
		{"FailingReader", testFailingReader},
		{"CutBody", testCutBody},
		{"Cancel", testCancel},
		{"InvalidKeys", testInvalidKeys},
		{"ConcurrentKeys", testConcurrentKeys},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"Large", testLarge},
		{"ModTime", testModTime},
		{"AbortPartial", testAbortPartial},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// EmptyOnCleanup deletes every blob of s when t ends: for backends whose
// tests share a bucket or container between stores.
func EmptyOnCleanup(t *testing.T, s blob.Store) {
	t.Cleanup(func() {
		keys, err := s.List(context.Background())
		if err != nil {
			t.Logf("cleanup: %v", err)
		}
		for _, k := range keys {
			if err := s.Delete(context.Background(), k); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
}

// data returns n pseudo-random bytes, different for each seed.
func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	r.Read(b)
	return b
}

func put(t *testing.T, s blob.Store, key string, b []byte) {
	t.Helper()
	n, err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	if n != int64(len(b)) {
		t.Fatalf("Put %s wrote %d bytes, want %d", key, n, len(b))
	}
}

// read returns the range [off, off+n) of key (n < 0: to the end).
func read(t *testing.T, s blob.Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, off, n)
	if err != nil {
		t.Fatalf("Open %s [%d, %d): %v", key, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s [%d, %d): %v", key, off, n, err)
	}
	return b
}

// expectBlob checks that key holds exactly want, by Size, Open and List.
func expectBlob(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	if n, err := s.Size(context.Background(), key); err != nil || n != int64(len(want)) {
		t.Fatalf("Size %s = %d, %v; want %d", key, n, err, len(want))
	}
	if got := read(t, s, key, 0, -1); !bytes.Equal(got, want) {
		t.Fatalf("%s holds %d bytes that differ from the %d stored", key, len(got), len(want))
	}
	if keys := list(t, s); !slices.Contains(keys, key) {
		t.Fatalf("List = %v, without %s", keys, key)
	}
}

// expectAbsent checks that key is not there, by Size, Open and List.
func expectAbsent(t *testing.T, s blob.Store, key string) {
	t.Helper()
	ctx := context.Background()
	if n, err := s.Size(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Size %s = %d, %v; want ErrNotFound", key, n, err)
	}
	if rc, err := s.Open(ctx, key, 0, -1); !errors.Is(err, blob.ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Fatalf("Open %s: %v, want ErrNotFound", key, err)
	}
	if keys := list(t, s); slices.Contains(keys, key) {
		t.Fatalf("List = %v, with %s", keys, key)
	}
}

func list(t *testing.T, s blob.Store) []string {
	t.Helper()
	keys, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return keys
}

func testPutOpen(t *testing.T, s blob.Store) {
	b := data(1, 3<<20+17) // several buffers of any backend, and an odd tail
	put(t, s, "d2f1b8e4-0c6a-4bd1-9f3e-1a2b3c4d5e6f", b)
	expectBlob(t, s, "d2f1b8e4-0c6a-4bd1-9f3e-1a2b3c4d5e6f", b)
}

func testRanges(t *testing.T, s blob.Store) {
	b := data(2, 1<<20+5)
	put(t, s, "r", b)
	size := int64(len(b))
	for _, tc := range []struct{ off, n, from, to int64 }{
		{0, -1, 0, size},                      // all
		{0, 10, 0, 10},                        // head
		{5, 10, 5, 15},                        // middle
		{size - 10, -1, size - 10, size},      // to the end
		{size - 10, 10, size - 10, size},      // exactly to the end
		{size - 10, 100, size - 10, size},     // past the end: cut
		{3, 0, 3, 3},                          // nothing
		{size, -1, size, size},                // at the end: empty
		{size + 100, 10, size, size},          // past the end: empty
		{1 << 19, 1 << 19, 1 << 19, 1 << 20},  // a large middle
		{0, 1<<62 + 1, 0, size},               // a huge n
		{size - 1, 1<<63 - 1, size - 1, size}, // the largest n
		{1<<63 - 2, 1, size, size},            // the largest offset
		{size / 2, size / 2, size / 2, size/2 + size/2},
	} {
		if got := read(t, s, "r", tc.off, tc.n); !bytes.Equal(got, b[tc.from:tc.to]) {
			t.Errorf("Open(%d, %d): %d bytes, want bytes [%d, %d)", tc.off, tc.n, len(got), tc.from, tc.to)
		}
	}
	if rc, err := s.Open(context.Background(), "r", -1, 10); !errors.Is(err, blob.ErrInvalidRange) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Open at offset -1: %v, want ErrInvalidRange", err)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	expectAbsent(t, s, "nothing")
	if keys := list(t, s); len(keys) != 0 {
		t.Fatalf("List of an empty store = %v", keys)
	}
}

func testListDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, k := range []string{"b", "c", "a.1", "A_2", "a"} {
		put(t, s, k, []byte(k))
	}
	if keys, want := list(t, s), []string{"A_2", "a", "a.1", "b", "c"}; !slices.Equal(keys, want) {
		t.Fatalf("List = %v, want %v (sorted)", keys, want)
	}
	if err := s.Delete(ctx, "b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	expectAbsent(t, s, "b")
	if err := s.Delete(ctx, "b"); err != nil {
		t.Fatalf("Delete of a deleted key: %v, want nil", err)
	}
	if err := s.Delete(ctx, "never"); err != nil {
		t.Fatalf("Delete of a missing key: %v, want nil", err)
	}
	if keys, want := list(t, s), []string{"A_2", "a", "a.1", "c"}; !slices.Equal(keys, want) {
		t.Fatalf("List after delete = %v, want %v", keys, want)
	}
	expectBlob(t, s, "a.1", []byte("a.1"))
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "k", data(3, 100<<10))
	short := []byte("shorter version")
	put(t, s, "k", short)
	expectBlob(t, s, "k", short)
	if keys := list(t, s); !slices.Equal(keys, []string{"k"}) {
		t.Fatalf("List after overwrite = %v", keys)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	put(t, s, "empty", nil)
	expectBlob(t, s, "empty", []byte{})
	// Unknown size, and a reader that gives nothing.
	n, err := s.Put(context.Background(), "empty2", strings.NewReader(""), -1)
	if err != nil || n != 0 {
		t.Fatalf("Put of an empty reader of unknown size = %d, %v", n, err)
	}
	expectBlob(t, s, "empty2", []byte{})
	if got := read(t, s, "empty", 0, 10); len(got) != 0 {
		t.Fatalf("a range of an empty blob gave %d bytes", len(got))
	}
}

func testSizeMismatch(t *testing.T, s blob.Store) {
	ctx := context.Background()
	old := []byte("the old version")
	put(t, s, "old", old)
	b := data(4, 1<<20)
	for _, tc := range []struct {
		key  string
		size int64
	}{
		{"longer", int64(len(b)) + 1}, {"shorter", int64(len(b)) - 1}, {"none", 1},
		{"old", int64(len(b)) + 1}, {"old", 10},
	} {
		n, err := s.Put(ctx, tc.key, bytes.NewReader(b), tc.size)
		if !errors.Is(err, blob.ErrSizeMismatch) {
			t.Fatalf("Put of %d bytes announced as %d = %d, %v; want ErrSizeMismatch", len(b), tc.size, n, err)
		}
		if tc.key != "old" {
			expectAbsent(t, s, tc.key)
		}
	}
	expectBlob(t, s, "old", old)
	if keys := list(t, s); !slices.Equal(keys, []string{"old"}) {
		t.Fatalf("List after refused Puts = %v", keys)
	}
	// Unknown size takes whatever comes.
	if n, err := s.Put(ctx, "any", bytes.NewReader(b), -1); err != nil || n != int64(len(b)) {
		t.Fatalf("Put of unknown size = %d, %v", n, err)
	}
	expectBlob(t, s, "any", b)
}

// failingReader yields ok bytes, then fails with err.
type failingReader struct {
	ok  int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.ok == 0 {
		return 0, r.err
	}
	n := min(len(p), r.ok)
	clear(p[:n])
	r.ok -= n
	return n, nil
}

var errReset = errors.New("connection reset by peer")

func testFailingReader(t *testing.T, s blob.Store) {
	ctx := context.Background()
	old := data(5, 1000)
	put(t, s, "old", old)
	for _, key := range []string{"new", "old"} {
		for _, size := range []int64{-1, 4 << 20} {
			if n, err := s.Put(ctx, key, &failingReader{ok: 1<<20 + 3, err: errReset}, size); !errors.Is(err, errReset) {
				t.Fatalf("Put %s from a reader failing mid-way = %d, %v; want its error", key, n, err)
			}
		}
	}
	expectAbsent(t, s, "new")
	expectBlob(t, s, "old", old)
	if keys := list(t, s); !slices.Equal(keys, []string{"old"}) {
		t.Fatalf("List after failed Puts = %v", keys)
	}
}

// testCutBody checks that a body ending with io.ErrUnexpectedEOF (a client
// gone mid-upload) fails with that error rather than passing for the end.
func testCutBody(t *testing.T, s blob.Store) {
	n, err := s.Put(context.Background(), "cut", &failingReader{ok: 3 << 20, err: io.ErrUnexpectedEOF}, -1)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Put of a cut body = %d, %v", n, err)
	}
	expectAbsent(t, s, "cut")
}

// cancellingReader cancels its context after `after` bytes and goes on
// giving data, as a request body does whose client went away while the
// server still had some of it buffered.
type cancellingReader struct {
	after  int
	n      int
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.n >= r.after {
		r.cancel()
	}
	if r.n > r.after+(8<<20) {
		return 0, io.EOF
	}
	p = p[:min(len(p), 64<<10)]
	clear(p)
	r.n += len(p)
	return len(p), nil
}

func testCancel(t *testing.T, s blob.Store) {
	old := []byte("old")
	put(t, s, "old", old)
	for _, key := range []string{"new", "old"} {
		ctx, cancel := context.WithCancel(context.Background())
		n, err := s.Put(ctx, key, &cancellingReader{after: 1 << 20, cancel: cancel}, -1)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put %s cancelled mid-way = %d, %v; want context.Canceled", key, n, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := s.Put(ctx, "new", strings.NewReader("x"), 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %d, %v", n, err)
	}
	expectAbsent(t, s, "new")
	expectBlob(t, s, "old", old)
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, key := range []string{"", ".", "..", ".hidden", "../evil", "a/b", `a\b`, "/abs", "a b", "a\x00b",
		"a:b", "é", "a?b", "a%2fb", strings.Repeat("k", 201)} {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put %q: %v, want ErrInvalidKey", key, err)
		}
		if rc, err := s.Open(ctx, key, 0, -1); !errors.Is(err, blob.ErrInvalidKey) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Open %q: %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Size(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Size %q: %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete %q: %v, want ErrInvalidKey", key, err)
		}
	}
	if keys := list(t, s); len(keys) != 0 {
		t.Fatalf("List after refused keys = %v", keys)
	}
	long := strings.Repeat("k", 200)
	put(t, s, long, []byte("longest key"))
	expectBlob(t, s, long, []byte("longest key"))
}

func testConcurrentKeys(t *testing.T, s blob.Store) {
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			b := data(uint64(100+i), 256<<10+i)
			if _, err := s.Put(context.Background(), fmt.Sprint("key-", i), bytes.NewReader(b), int64(len(b))); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Put: %v", err)
	}
	for i := range writers {
		expectBlob(t, s, fmt.Sprint("key-", i), data(uint64(100+i), 256<<10+i))
	}
	if keys := list(t, s); len(keys) != writers {
		t.Fatalf("List = %v, want %d keys", keys, writers)
	}
}

// testConcurrentSameKey has writers replace one key while readers read it:
// every read, and the final blob, is one writer's complete version.
func testConcurrentSameKey(t *testing.T, s blob.Store) {
	const writers, rounds = 6, 4
	versions := make([][]byte, writers)
	for i := range versions {
		versions[i] = bytes.Repeat([]byte{byte('a' + i)}, 300<<10+i*1000)
	}
	put(t, s, "same", versions[0])
	isVersion := func(b []byte) bool {
		return slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, b) })
	}
	ctx := context.Background()
	var writersWG, readersWG sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, writers+2)
	for i := range writers {
		writersWG.Go(func() {
			for range rounds {
				if _, err := s.Put(ctx, "same", bytes.NewReader(versions[i]), int64(len(versions[i]))); err != nil {
					errs <- fmt.Errorf("put: %w", err)
					return
				}
			}
		})
	}
	for range 2 {
		readersWG.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				rc, err := s.Open(ctx, "same", 0, -1)
				if err != nil {
					errs <- fmt.Errorf("open during writes: %w", err)
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || !isVersion(b) {
					errs <- fmt.Errorf("a read during writes gave %d bytes that are no version (%v)", len(b), err)
					return
				}
			}
		})
	}
	writersWG.Wait()
	close(stop)
	readersWG.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := read(t, s, "same", 0, -1)
	if !isVersion(got) {
		t.Fatalf("after concurrent Puts the blob (%d bytes) is a mix of versions", len(got))
	}
	if keys := list(t, s); !slices.Equal(keys, []string{"same"}) {
		t.Fatalf("List after concurrent Puts = %v", keys)
	}
}

// testLarge streams 64 MiB from a generator through Put and back, checking
// the content by digest and that memory does not grow with the blob.
func testLarge(t *testing.T, s blob.Store) {
	const size = 64 << 20
	gen := io.LimitReader(rand.NewChaCha8([32]byte{42}), size)
	in := sha256.New()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := s.Put(context.Background(), "large", io.TeeReader(gen, in), -1)
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("Put of 64 MiB = %d, %v", n, err)
	}
	// A backend may buffer some chunks; a copy of the whole blob is a defect.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("Put of 64 MiB allocated %d MiB: memory grows with the blob", alloc>>20)
	}
	if got, err := s.Size(context.Background(), "large"); err != nil || got != size {
		t.Fatalf("Size = %d, %v", got, err)
	}
	rc, err := s.Open(context.Background(), "large", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := sha256.New()
	if n, err := io.Copy(out, rc); err != nil || n != size {
		t.Fatalf("read back %d bytes, %v", n, err)
	}
	if !bytes.Equal(in.Sum(nil), out.Sum(nil)) {
		t.Fatal("64 MiB read back differ from what was stored")
	}
}

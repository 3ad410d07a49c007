package blobtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
)

// The optional interfaces of stores shared by glanced nodes: a store that
// does not implement one has nothing to test there, and says so.

// clockSlack allows for the service's clock and its one-second
// Last-Modified granularity.
const clockSlack = time.Minute

func testModTime(t *testing.T, s blob.Store) {
	mt, ok := s.(blob.ModTimer)
	if !ok {
		t.Skipf("%T is no blob.ModTimer: not applicable", s)
	}
	ctx := context.Background()
	before := time.Now()
	put(t, s, "dated", data(9, 100))
	got, err := mt.ModTime(ctx, "dated")
	if err != nil || got.Before(before.Add(-clockSlack)) || got.After(time.Now().Add(clockSlack)) {
		t.Fatalf("ModTime of a blob just written = %v, %v; want about %v", got, err, before)
	}
	if _, err := mt.ModTime(ctx, "missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("ModTime of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := mt.ModTime(ctx, "../x"); !errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("ModTime of an invalid key: %v, want ErrInvalidKey", err)
	}
}

// testAbortPartial: aborting leaves a whole blob as it is, is harmless on
// a missing key, and leaves nothing of a cut Put (large enough to be
// segmented or multipart where the store does that).
func testAbortPartial(t *testing.T, s blob.Store) {
	ab, ok := s.(blob.Aborter)
	if !ok {
		t.Skipf("%T is no blob.Aborter: not applicable", s)
	}
	ctx := context.Background()
	whole := data(10, 3<<20+5)
	put(t, s, "whole", whole)
	for _, key := range []string{"whole", "missing"} {
		if err := ab.AbortPartial(ctx, key); err != nil {
			t.Fatalf("AbortPartial %s: %v", key, err)
		}
	}
	expectBlob(t, s, "whole", whole)
	expectAbsent(t, s, "missing")
	if _, err := s.Put(ctx, "cut", &failingReader{ok: 3<<20 + 3, err: errReset}, -1); !errors.Is(err, errReset) {
		t.Fatalf("Put from a failing reader: %v, want its error", err)
	}
	if err := ab.AbortPartial(ctx, "cut"); err != nil {
		t.Fatalf("AbortPartial after a cut Put: %v", err)
	}
	expectAbsent(t, s, "cut")
	if err := ab.AbortPartial(ctx, "../x"); !errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("AbortPartial of an invalid key: %v, want ErrInvalidKey", err)
	}
}

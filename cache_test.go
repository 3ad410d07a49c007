package glance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/testenv"
)

func TestIntegrationCache(t *testing.T) {
	cloud := testenv.Peer(t)
	admin, _, _ := login(t, cloud, cloud.Admin, "")
	ctx := context.Background()

	if ok, err := admin.HasVersion(ctx, glance.CacheAPIVersion); err != nil || !ok {
		t.Fatalf("HasVersion(%s) = %v, %v; the peer runs Glance 25 (v2.16)", glance.CacheAPIVersion, ok, err)
	}
	if ok, err := admin.HasVersion(ctx, glance.LocationsAPIVersion); err != nil || ok {
		t.Fatalf("HasVersion(%s) = %v, %v; Glance 25 lacks it", glance.LocationsAPIVersion, ok, err)
	}
	if err := admin.RequireVersion(ctx, "v9.9", "testing"); !errors.Is(err, glance.ErrNotSupported) {
		t.Fatalf("RequireVersion(v9.9): %v", err)
	}

	data := []byte("cached by the library test")
	img, err := admin.CreateImage(ctx, &glance.CreateOptions{Name: uniq(t), DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	cleanupImage(t, admin, img.ID)
	t.Cleanup(func() { admin.DeleteCache(context.Background(), img.ID) })
	if _, err := admin.Upload(ctx, img.ID, bytes.NewReader(data), &glance.UploadOptions{Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}

	before := time.Now().Add(-time.Minute)
	if err := admin.QueueCache(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	// Glance 25 caches a queued image in the background: it is either
	// still queued or cached, with its size and a recent time.
	var found bool
	for range 50 {
		st, err := admin.ListCache(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(st.Cached, func(ci glance.CachedImage) bool { return ci.ImageID == img.ID }); i >= 0 {
			ci := st.Cached[i]
			if ci.Size != int64(len(data)) || ci.LastModified.Before(before) || ci.LastModified.Location() != time.UTC {
				t.Fatalf("cached entry %+v", ci)
			}
			found = true
			break
		}
		if !slices.Contains(st.Queued, img.ID) {
			t.Fatalf("image %s neither queued nor cached: %+v", img.ID, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !found {
		t.Fatal("the queued image was not cached within 5s")
	}

	if err := admin.DeleteCache(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	st, err := admin.ListCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(st.Cached, func(ci glance.CachedImage) bool { return ci.ImageID == img.ID }) || slices.Contains(st.Queued, img.ID) {
		t.Fatalf("image still in the cache after DeleteCache: %+v", st)
	}
	if err := admin.QueueCache(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, glance.ErrNotFound) {
		t.Fatalf("queueing a missing image: %v", err)
	}
	// Only the queue: the cached entries of other tests stay.
	if err := admin.ClearCache(ctx, glance.CacheQueue); err != nil {
		t.Fatal(err)
	}
	if err := admin.ClearCache(ctx, "everything"); err == nil {
		t.Fatal("ClearCache accepted an unknown target")
	}

	member, _, _ := login(t, cloud, cloud.AlphaMember, "")
	if _, err := member.ListCache(ctx); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("member ListCache: %v", err)
	}
	if err := member.ClearCache(ctx, ""); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("member ClearCache: %v", err)
	}
}

// The cache reports float Unix times; they become UTC times rounded to the
// microsecond as Python's datetime rounds them, and 0 means never.
func TestCachedImageTimes(t *testing.T) {
	var st glance.CacheState
	doc := `{"cached_images": [{"image_id": "a", "hits": 2, "size": 5, "last_accessed": 0, "last_modified": 1795329943.1479018}], "queued_images": ["b"]}`
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		t.Fatal(err)
	}
	ci := st.Cached[0]
	want := time.Date(2026, 11, 22, 6, 45, 43, 147902000, time.UTC)
	if ci.ImageID != "a" || ci.Hits != 2 || ci.Size != 5 || !ci.LastAccessed.IsZero() || !ci.LastModified.Equal(want) || ci.LastModified.Location() != time.UTC {
		t.Fatalf("decoded %+v, want last modified %v", ci, want)
	}
	if !slices.Equal(st.Queued, []string{"b"}) {
		t.Fatalf("queued %v", st.Queued)
	}
}

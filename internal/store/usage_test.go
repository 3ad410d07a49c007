package store

import (
	"context"
	"testing"
	"time"
)

// TestProjectUsage: the database's totals on both engines (their JSON
// functions differ).
func TestProjectUsage(t *testing.T) { forEachDB(t, testProjectUsage) }

func testProjectUsage(t *testing.T, db *DB) {
	ctx := context.Background()
	now := time.Now().UTC()
	for i, c := range []struct {
		status, owner string
		size          int64
		stores        []string
		props         map[string]string
	}{
		{StatusActive, "p1", 10, []string{"a", "b"}, nil},
		{StatusActive, "p1", 5, []string{"a"}, map[string]string{"os_glance_importing_to_stores": "b"}},
		{StatusUploading, "p1", 7, nil, nil},
		{StatusSaving, "p1", 0, nil, nil},
		{StatusKilled, "p1", 3, []string{"a"}, nil},
		{StatusActive, "p2", 100, []string{"a"}, nil},
	} {
		im := &Image{ID: "00000000-0000-0000-0000-00000000000" + string(rune('0'+i)), Status: c.status, Visibility: "private",
			Owner: ptr(c.owner), CreatedAt: now, UpdatedAt: now, Stores: c.stores, Properties: c.props}
		if c.size > 0 {
			im.Size = ptr(c.size)
		}
		if err := db.CreateImage(ctx, im); err != nil {
			t.Fatal(err)
		}
	}
	u, err := db.ProjectUsage(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	// Size: 10 in two stores + 5 in one; staged: the copy (5) and the
	// upload (7); images: all but the killed one; uploading: the copy, the
	// upload and the save.
	if want := (Usage{Size: 25, Staged: 12, Images: 4, Uploading: 3}); u != want {
		t.Errorf("usage %+v, want %+v", u, want)
	}
}

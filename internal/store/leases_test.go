package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

func TestLeases(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		id := "00000000-0000-0000-0000-0000000000b1"
		if err := db.CreateImage(ctx, &Image{ID: id, Status: StatusQueued, Visibility: "shared", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		a := &Lease{Kind: LeaseImage, ID: id, Node: "a", Token: "a1", Expires: now.Add(time.Minute), Blobs: []BlobRef{{Store: "local", Key: id}}}
		if _, err := db.UpdateImageLeased(ctx, id, a, func(im *Image) error { return Move(im, EvUpload, StatusSaving) }); err != nil {
			t.Fatal(err)
		}
		// A failed status move records no lease.
		other := &Lease{Kind: LeaseImage, ID: "nope", Node: "a", Token: "a2", Expires: now.Add(time.Minute)}
		if _, err := db.UpdateImageLeased(ctx, "nope", other, func(*Image) error { return nil }); !errors.Is(err, ErrNotFound) {
			t.Fatalf("lease on a missing image: %v", err)
		}
		if prev, err := db.TakeLease(ctx, other, now); err != nil || prev != nil {
			t.Fatalf("a lease no one held: %+v, %v", prev, err)
		}
		b := &Lease{Kind: LeaseImage, ID: id, Node: "b", Token: "b1", Expires: now.Add(2 * time.Minute)}
		if _, err := db.TakeLease(ctx, b, now); !errors.Is(err, ErrLeased) {
			t.Fatalf("b took a's live lease: %v", err)
		}
		// a renews past the moment b tries again: still a's.
		tokens, err := db.RenewLeases(ctx, "a", now.Add(3*time.Minute))
		if slices.Sort(tokens); err != nil || !slices.Equal(tokens, []string{"a1", "a2"}) {
			t.Fatalf("renewed %q, %v", tokens, err)
		}
		if _, err := db.TakeLease(ctx, b, now.Add(2*time.Minute)); !errors.Is(err, ErrLeased) {
			t.Fatalf("b took a's renewed lease: %v", err)
		}
		// a stops renewing: once it expires b takes it, and learns a's blobs.
		prev, err := db.TakeLease(ctx, b, now.Add(4*time.Minute))
		if err != nil || prev == nil || prev.Node != "a" || len(prev.Blobs) != 1 || prev.Blobs[0] != a.Blobs[0] {
			t.Fatalf("taking an expired lease: %+v, %v", prev, err)
		}
		if _, err := db.TakeLease(ctx, b, now.Add(time.Minute)); !errors.Is(err, ErrLeased) {
			t.Fatalf("b took its own live lease again: %v", err)
		}
		// a's write, still running, can no longer change the image; b can.
		if _, err := db.UpdateImageFenced(ctx, id, a, func(im *Image) error { return Move(im, EvActivate, StatusActive) }); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("a's fenced update after b took over: %v", err)
		}
		if tokens, err := db.RenewLeases(ctx, "a", now.Add(5*time.Minute)); err != nil || !slices.Equal(tokens, []string{"a2"}) {
			t.Fatalf("a renewed %q, %v", tokens, err)
		}
		stale := *b
		stale.Token = "b0" // b's own earlier write on the same image
		if _, err := db.UpdateImageFenced(ctx, id, &stale, func(*Image) error { return nil }); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("a stale token of b: %v", err)
		}
		if im, err := db.UpdateImageFenced(ctx, id, b, func(im *Image) error { im.Name = ptr("b's"); return nil }); err != nil || *im.Name != "b's" {
			t.Fatalf("b's fenced update: %+v, %v", im, err)
		}
		if im, _ := db.GetImage(ctx, id); im.Status != StatusSaving {
			t.Fatalf("status after a's refused activation: %s", im.Status)
		}
		if err := db.ReleaseLease(ctx, LeaseImage, id, "a", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TakeLease(ctx, &Lease{Kind: LeaseImage, ID: id, Node: "c", Expires: now}, now); !errors.Is(err, ErrLeased) {
			t.Fatalf("a released b's lease: %v", err)
		}
		// A release under an older token of b's leaves b's lease alone.
		if err := db.ReleaseLease(ctx, LeaseImage, id, "b", "b0"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TakeLease(ctx, &Lease{Kind: LeaseImage, ID: id, Node: "c", Expires: now}, now); !errors.Is(err, ErrLeased) {
			t.Fatalf("a stale release dropped b's lease: %v", err)
		}
		if err := db.ReleaseLease(ctx, LeaseImage, id, "b", "b1"); err != nil {
			t.Fatal(err)
		}
		if prev, err := db.TakeLease(ctx, &Lease{Kind: LeaseImage, ID: id, Node: "c", Expires: now}, now); err != nil || prev != nil {
			t.Fatalf("after release: %+v, %v", prev, err)
		}

		// Expired tasks go, with their leases; the others stay.
		past, future := now.Add(-time.Hour), now.Add(time.Hour)
		for _, tk := range []*Task{{ID: "old", ExpiresAt: &past}, {ID: "new", ExpiresAt: &future}, {ID: "running"}} {
			tk.Type, tk.Status, tk.CreatedAt, tk.UpdatedAt = "import", "success", now, now
			if err := db.CreateTask(ctx, tk); err != nil {
				t.Fatal(err)
			}
			if _, err := db.TakeLease(ctx, &Lease{Kind: LeaseTask, ID: tk.ID, Node: "a", Expires: future}, now); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := db.PurgeTasks(ctx, now); err != nil || n != 1 {
			t.Fatalf("purged %d, %v", n, err)
		}
		if _, err := db.GetTask(ctx, "old"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired task: %v", err)
		}
		if prev, err := db.TakeLease(ctx, &Lease{Kind: LeaseTask, ID: "old", Node: "b", Expires: future}, now); err != nil || prev != nil {
			t.Fatalf("the purged task's lease stayed: %+v, %v", prev, err)
		}
		if ts, _ := db.ListTasks(ctx, ""); len(ts) != 2 {
			t.Fatalf("tasks left: %d", len(ts))
		}
	})
}

// TestTryLock: one holder at a time, across two handles on the database
// (two nodes) on PostgreSQL, and within the process on SQLite.
func TestTryLock(t *testing.T) {
	ctx := context.Background()
	for _, e := range []struct {
		name string
		open func(t *testing.T) (*DB, *DB)
	}{
		{"sqlite", func(t *testing.T) (*DB, *DB) { return openDB(t), openDB(t) }},
		{"postgres", func(t *testing.T) (*DB, *DB) {
			url := testenv.Postgres(t)
			var dbs [2]*DB
			for i := range dbs {
				db, err := OpenPostgres(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs[i] = db
			}
			return dbs[0], dbs[1]
		}},
	} {
		t.Run(e.name, func(t *testing.T) {
			a, b := e.open(t)
			release, ok, err := a.TryLock(ctx, "sweep")
			if err != nil || !ok {
				t.Fatalf("first lock: %v %v", ok, err)
			}
			if _, ok, err := b.TryLock(ctx, "sweep"); err != nil || ok {
				t.Fatalf("second holder at once: %v %v", ok, err)
			}
			if r2, ok, err := b.TryLock(ctx, "other"); err != nil || !ok {
				t.Fatalf("another lock: %v %v", ok, err)
			} else {
				r2()
			}
			release()
			r3, ok, err := b.TryLock(ctx, "sweep")
			if err != nil || !ok {
				t.Fatalf("after release: %v %v", ok, err)
			}
			r3()
		})
	}
}

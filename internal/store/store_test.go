package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

func ptr[T any](v T) *T { return &v }

func openDB(t *testing.T) *DB {
	t.Helper()
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPG opens a store on a new PostgreSQL database (skipping loudly
// without a server).
func openPG(t *testing.T) *DB {
	t.Helper()
	db, err := OpenPostgres(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// forEachDB runs a test on a fresh store of each engine: one suite, the
// same expectations on SQLite and PostgreSQL.
func forEachDB(t *testing.T, fn func(t *testing.T, db *DB)) {
	for _, e := range []struct {
		name string
		open func(*testing.T) *DB
	}{{"sqlite", openDB}, {"postgres", openPG}} {
		t.Run(e.name, func(t *testing.T) { fn(t, e.open(t)) })
	}
}

func TestImages(t *testing.T) { forEachDB(t, testImages) }

func testImages(t *testing.T, db *DB) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	im := &Image{ID: "11111111-1111-1111-1111-111111111111", Name: ptr("one"), Status: StatusQueued, Visibility: "shared",
		Owner: ptr("p1"), CreatedAt: now, UpdatedAt: now, Tags: []string{"a", "b"}, Properties: map[string]string{"k": "v"}}
	if err := db.CreateImage(ctx, im); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateImage(ctx, im); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate create: %v", err)
	}
	got, err := db.GetImage(ctx, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Name != "one" || got.Properties["k"] != "v" || !slices.Equal(got.Tags, []string{"a", "b"}) || !got.CreatedAt.Equal(now) {
		t.Fatalf("got %+v", got)
	}
	// An error from the callback aborts the transaction.
	boom := errors.New("boom")
	if _, err := db.UpdateImage(ctx, im.ID, func(im *Image) error { im.Status = StatusActive; return boom }); err != boom {
		t.Fatalf("update error = %v", err)
	}
	if got, _ := db.GetImage(ctx, im.ID); got.Status != StatusQueued {
		t.Fatalf("aborted update was written: %s", got.Status)
	}
	up, err := db.UpdateImage(ctx, im.ID, func(im *Image) error {
		im.Status, im.Size = StatusActive, ptr(int64(42))
		delete(im.Properties, "k")
		return nil
	})
	if err != nil || up.Status != StatusActive {
		t.Fatal(err)
	}
	if got, _ := db.GetImage(ctx, im.ID); *got.Size != 42 || len(got.Properties) != 0 {
		t.Fatalf("after update %+v", got)
	}
	if err := db.DeleteImage(ctx, im.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetImage(ctx, im.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if ok, _ := db.ImageExists(ctx, im.ID); !ok {
		t.Fatal("deleted id forgotten: it could be reused")
	}
	if err := db.DeleteImage(ctx, im.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestListVisibilitySortPage(t *testing.T) { forEachDB(t, testListVisibilitySortPage) }

func testListVisibilitySortPage(t *testing.T, db *DB) {
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int, name, owner, vis string, size int64) string {
		id := strings.Repeat(string(rune('a'+i)), 8) + "-0000-0000-0000-000000000000"
		im := &Image{ID: id, Name: ptr(name), Status: StatusActive, Visibility: vis, Owner: ptr(owner), Size: ptr(size),
			CreatedAt: base.Add(time.Duration(i) * time.Minute), UpdatedAt: base, Tags: []string{}, Properties: map[string]string{"os_distro": name}}
		if err := db.CreateImage(ctx, im); err != nil {
			t.Fatal(err)
		}
		return id
	}
	mk(0, "p1-shared", "p1", "shared", 10)
	mk(1, "p1-private", "p1", "private", 20)
	mk(2, "p2-public", "p2", "public", 30)
	mk(3, "p2-community", "p2", "community", 40)
	shared := mk(4, "p2-shared", "p2", "shared", 50)
	mk(5, "p2-private", "p2", "private", 60)
	db.AddMember(ctx, &Member{ImageID: shared, MemberID: "p1", Status: "pending", CreatedAt: base, UpdatedAt: base})

	names := func(q ListQuery) []string {
		t.Helper()
		imgs, err := db.ListImages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, im := range imgs {
			out = append(out, *im.Name)
		}
		return out
	}
	asc := []SortKey{{Key: "name"}}
	cases := []struct {
		q    ListQuery
		want []string
	}{
		{ListQuery{Project: "p1", Sort: asc}, []string{"p1-private", "p1-shared", "p2-public"}},
		{ListQuery{Project: "p1", Sort: asc, MemberStatus: "pending"}, []string{"p1-private", "p1-shared", "p2-public", "p2-shared"}},
		{ListQuery{Project: "p1", Sort: asc, Visibility: "community"}, []string{"p2-community"}},
		{ListQuery{Project: "p1", Sort: asc, Visibility: "all"}, []string{"p1-private", "p1-shared", "p2-community", "p2-public"}},
		{ListQuery{Project: "p1", Admin: true, Sort: asc}, []string{"p1-private", "p1-shared", "p2-private", "p2-public", "p2-shared"}},
		{ListQuery{Project: "p2", Sort: []SortKey{{Key: "size", Desc: true}}}, []string{"p2-private", "p2-shared", "p2-community", "p2-public"}},
		{ListQuery{Admin: true, Sort: asc, Filters: []Filter{{Field: "size", Op: "gte", Values: []any{int64(30)}}, {Field: "size", Op: "lte", Values: []any{int64(50)}}}},
			[]string{"p2-public", "p2-shared"}},
		{ListQuery{Admin: true, Sort: asc, Filters: []Filter{{Field: "os_distro", Property: true, Op: "eq", Values: []any{"p1-private"}}}}, []string{"p1-private"}},
		{ListQuery{Admin: true, Sort: asc, Filters: []Filter{{Field: "name", Op: "in", Values: []any{"p1-private", "p2-public", "nope"}}}}, []string{"p1-private", "p2-public"}},
	}
	for i, tc := range cases {
		if got := names(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("case %d: got %v, want %v", i, got, tc.want)
		}
	}
	// Walking pages with a marker visits every image once, in order.
	var all []string
	q := ListQuery{Admin: true, Visibility: "all", Sort: []SortKey{{Key: "size", Desc: true}}, Limit: 4}
	for {
		imgs, err := db.ListImages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range imgs {
			all = append(all, *im.Name)
		}
		if len(imgs) < q.Limit {
			break
		}
		q.Marker = imgs[len(imgs)-1].ID
	}
	want := []string{"p2-private", "p2-shared", "p2-community", "p2-public", "p1-private", "p1-shared"}
	if !slices.Equal(all, want) {
		t.Fatalf("pages = %v, want %v", all, want)
	}
	if _, err := db.ListImages(ctx, ListQuery{Admin: true, Marker: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown marker: %v", err)
	}
}

func TestMembersTasks(t *testing.T) { forEachDB(t, testMembersTasks) }

func testMembersTasks(t *testing.T, db *DB) {
	ctx := context.Background()
	now := time.Now().UTC()
	m := &Member{ImageID: "i", MemberID: "p", Status: "pending", CreatedAt: now, UpdatedAt: now}
	if err := db.AddMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := db.AddMember(ctx, m); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate member: %v", err)
	}
	m.Status = "accepted"
	if err := db.UpdateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetMember(ctx, "i", "p"); got.Status != "accepted" {
		t.Fatalf("member = %+v", got)
	}
	if err := db.DeleteMember(ctx, "i", "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetMember(ctx, "i", "p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted member: %v", err)
	}
	task := &Task{ID: "t1", Type: "api_image_import", Status: "pending", Input: `{"a":1}`, ImageID: "i", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	task.Status, task.Result = "success", `{"image_id":"i"}`
	if err := db.UpdateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	ts, err := db.ListTasks(ctx, "i")
	if err != nil || len(ts) != 1 || ts[0].Status != "success" || ts[0].Result != task.Result {
		t.Fatalf("tasks = %+v, %v", ts, err)
	}
}

// TestPagesAcrossTies pages one image at a time through images whose first
// sort keys tie, in both directions: the marker's bound on the first key
// keeps the ties (>=, <=), and every image comes once, in order.
func TestPagesAcrossTies(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, name := range []string{"b", "a", "b", "a", "b"} {
			im := &Image{ID: fmt.Sprintf("tie-%d", i), Name: ptr(name), Status: StatusActive, Visibility: "public",
				CreatedAt: base.Add(time.Duration(i%2) * time.Second), UpdatedAt: base}
			if err := db.CreateImage(ctx, im); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			sort []SortKey
			want []string
		}{
			{[]SortKey{{Key: "name"}}, []string{"tie-1", "tie-3", "tie-0", "tie-2", "tie-4"}},
			{[]SortKey{{Key: "name", Desc: true}}, []string{"tie-4", "tie-2", "tie-0", "tie-3", "tie-1"}},
			{[]SortKey{{Key: "created_at"}, {Key: "name", Desc: true}}, []string{"tie-4", "tie-2", "tie-0", "tie-3", "tie-1"}},
		} {
			q := ListQuery{Admin: true, Sort: c.sort, Limit: 1}
			var got []string
			for range 7 {
				imgs, err := db.ListImages(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(imgs) == 0 {
					break
				}
				got = append(got, imgs[0].ID)
				q.Marker = imgs[0].ID
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("pages by %v: %q, want %q", c.sort, got, c.want)
			}
		}
	})
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// listIDs lists the images q finds, by the last part of their IDs.
func listIDs(t *testing.T, db *DB, q ListQuery) []string {
	t.Helper()
	imgs, err := db.ListImages(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, im := range imgs {
		out = append(out, im.ID[strings.LastIndex(im.ID, "-")+1:])
	}
	slices.Sort(out)
	return out
}

// checkTagIndex holds the tag index to the JSON lists of the live images:
// the same pairs, neither more nor fewer.
func checkTagIndex(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	var want, got []string
	rows, err := db.r.QueryContext(ctx, `SELECT id, tags FROM images WHERE deleted = 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, js string
		var tags []string
		if err := rows.Scan(&id, &js); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), &tags); err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags {
			if !slices.Contains(want, id+"/"+tg) {
				want = append(want, id+"/"+tg)
			}
		}
	}
	rows.Close()
	rows, err = db.r.QueryContext(ctx, `SELECT image_id, tag FROM image_tags`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, tg string
		if err := rows.Scan(&id, &tg); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+"/"+tg)
	}
	rows.Close()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("tag index %q, the images' tags %q", got, want)
	}
}

func tagID(n string) string { return "00000000-0000-0000-0000-" + n }

// addUntagged adds n images without tags, older than the test's others,
// in one transaction.
func addUntagged(t *testing.T, db *DB, n int) {
	t.Helper()
	ctx := context.Background()
	err := db.inTx(ctx, func(tx *sqlTx) error {
		for i := range n {
			_, err := tx.ExecContext(ctx, `INSERT INTO images (id, status, visibility, owner, created_at, updated_at)
				VALUES (?, 'active', 'public', 'filler', ?, ?)`, fmt.Sprintf("filler-%06d", i), i, i)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRareTag checks when SQLite fetches a tag's images by the index: for
// the rarest tag, when it is rare enough for the page and the database.
func TestRareTag(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	addUntagged(t, db, 4000)
	now := time.Now()
	for i := range 200 {
		tags := []string{"common"}
		if i < 20 {
			tags = append(tags, "rare")
		}
		if i < 2 {
			tags = append(tags, "rarest")
		}
		err := db.CreateImage(ctx, &Image{ID: fmt.Sprintf("tagged-%03d", i), Status: StatusActive, Visibility: "public",
			CreatedAt: now, UpdatedAt: now, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 4200 images: pages of 25 fetch tags on fewer than 51 images (the
	// square root of 25×4200/40), pages of 1 on fewer than 10, lists
	// without a limit on fewer than 105 (4200/40).
	for _, c := range []struct {
		tags  []string
		limit int
		want  int
	}{
		{[]string{"common"}, 25, -1},
		{[]string{"common"}, 0, -1},
		{[]string{"rare"}, 25, 0},
		{[]string{"common", "rare"}, 25, 1},
		{[]string{"rare", "rarest", "common"}, 25, 1},
		{[]string{"common", "none"}, 25, 1},
		{[]string{"rare"}, 1, -1}, // fewer than 10: a walk finds one soon
		{[]string{"rarest"}, 1, 0},
		{[]string{"rare"}, 0, 0},
	} {
		got, err := db.rareTag(ctx, c.tags, c.limit)
		if err != nil || got != c.want {
			t.Errorf("rareTag(%q, limit %d) = %d, %v; want %d", c.tags, c.limit, got, err, c.want)
		}
	}
}

func TestTagFilters(t *testing.T) { forEachDB(t, testTagFilters) }

func testTagFilters(t *testing.T, db *DB) {
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, im := range []struct {
		id, owner, vis string
		tags           []string
	}{
		{"a", "p1", "private", []string{"x", "y", "Y"}},
		{"b", "p1", "private", []string{"x", "x"}}, // a repeat is one tag
		{"c", "p2", "public", []string{"y", "with space", "ünï"}},
		{"d", "p2", "private", nil},
		{"e", "p2", "private", []string{"x"}},
		{"f", "p1", "public", []string{"x", "y"}},
	} {
		err := db.CreateImage(ctx, &Image{ID: tagID(im.id), Status: StatusQueued, Visibility: im.vis, Owner: ptr(im.owner),
			CreatedAt: base.Add(time.Duration(i) * time.Second), UpdatedAt: base, Tags: im.tags})
		if err != nil {
			t.Fatal(err)
		}
	}
	checkTagIndex(t, db)
	expect := func(what string, q ListQuery, want ...string) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		if got := listIDs(t, db, q); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
	admin := func(tags ...string) ListQuery { return ListQuery{Admin: true, Tags: tags} }
	// SQLite walks the list for every tag of a small database, and
	// fetches rare tags' images by the index once there are many images
	// (rareTag): both ways find the same images.
	for _, fill := range []int{0, 2000} {
		addUntagged(t, db, fill)
		expect("x", admin("x"), "a", "b", "e", "f")
		expect("x and y: all must match", admin("x", "y"), "a", "f")
		expect("y and x", admin("y", "x"), "a", "f")
		expect("x twice", admin("x", "x"), "a", "b", "e", "f")
		expect("x, y, x", admin("x", "y", "x"), "a", "f")
		expect("X: case-sensitive", admin("X"))
		expect("Y", admin("Y"), "a")
		expect("x and an unknown tag", admin("x", "nope"))
		expect("an unknown tag and x", admin("nope", "x"))
		expect("with space", admin("with space"), "c")
		expect("non-ASCII", admin("ünï"), "c")
		expect("no tag", ListQuery{Admin: true, Filters: []Filter{{Field: "owner", Op: "in", Values: []any{"p1", "p2"}}}},
			"a", "b", "c", "d", "e", "f")
		// With the visibility rules of a project and other filters.
		expect("p2 sees its own and public", ListQuery{Project: "p2", Tags: []string{"x"}}, "e", "f")
		expect("with a filter", ListQuery{Admin: true, Tags: []string{"x"},
			Filters: []Filter{{Field: "owner", Op: "eq", Values: []any{"p1"}}}}, "a", "b", "f")
		expect("without a limit", ListQuery{Admin: true, Tags: []string{"y"}, Limit: 0}, "a", "c", "f")

		// Pages by marker, newest first, one image a page.
		var pages []string
		q := ListQuery{Admin: true, Tags: []string{"x"}, Limit: 1, Sort: []SortKey{{Key: "created_at", Desc: true}}}
		for range 6 {
			imgs, err := db.ListImages(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(imgs) == 0 {
				break
			}
			pages = append(pages, imgs[0].ID[len(imgs[0].ID)-1:])
			q.Marker = imgs[0].ID
		}
		if !slices.Equal(pages, []string{"f", "e", "b", "a"}) {
			t.Errorf("pages of x: %q", pages)
		}
	}

	// Changes to the tags move the index with them; an aborted one does not.
	change := func(id string, fn func(im *Image) error) error {
		_, err := db.UpdateImage(ctx, tagID(id), fn)
		return err
	}
	boom := errors.New("boom")
	if err := change("d", func(im *Image) error { im.Tags = []string{"x"}; return boom }); err != boom {
		t.Fatalf("aborted update: %v", err)
	}
	expect("x after an aborted update", admin("x"), "a", "b", "e", "f")
	for id, fn := range map[string]func(im *Image) error{
		"a": func(im *Image) error {
			im.Tags = slices.DeleteFunc(im.Tags, func(s string) bool { return s == "x" })
			return nil
		},
		"b": func(im *Image) error { im.Tags = append(im.Tags, "z"); return nil },
		"c": func(im *Image) error { im.Tags = []string{"x", "z"}; return nil },
		"d": func(im *Image) error { im.Tags = []string{"z"}; return nil },
		"f": func(im *Image) error { im.Name = ptr("tags unchanged"); return nil },
	} {
		if err := change(id, fn); err != nil {
			t.Fatal(err)
		}
	}
	checkTagIndex(t, db)
	expect("x after changes", admin("x"), "b", "c", "e", "f")
	expect("z after changes", admin("z"), "b", "c", "d")
	expect("y after changes", admin("y"), "a", "f")
	expect("with space, replaced", admin("with space"))

	// A deleted image leaves the index; its id may not come back.
	if err := db.DeleteImage(ctx, tagID("e")); err != nil {
		t.Fatal(err)
	}
	checkTagIndex(t, db)
	expect("x after a delete", admin("x"), "b", "c", "f")
	expect("x, deleted images listed", ListQuery{Admin: true, Tags: []string{"x"}, Deleted: true}, "b", "c", "f")
}

// oldSchema makes a database of each engine at the schema version before
// the tag index, with images whose tags are only in the JSON column, and
// returns a function opening it as glanced does (which migrates it).
func oldSchema(t *testing.T, engine string) func() (*DB, error) {
	t.Helper()
	ctx := context.Background()
	var c *sqlConn
	var open func() (*DB, error)
	var err error
	switch engine {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "old.db")
		c, err = openSQLiteFile(path)
		open = func() (*DB, error) { return OpenSQLite(ctx, path) }
	default:
		url := testenv.Postgres(t)
		c, err = openPostgresConn(ctx, url)
		open = func() (*DB, error) { return OpenPostgres(ctx, url) }
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	before := slices.IndexFunc(migrations, func(m func(*dialect) string) bool {
		return strings.Contains(m(c.d), "CREATE TABLE image_tags")
	})
	if before < 0 {
		t.Fatal("no tag index migration")
	}
	if _, err := c.d.schemaVersion(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:before] {
		if _, err := tx.ExecContext(ctx, m(c.d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, im := range []struct{ id, tags string }{
		{"a", `["x","y"]`}, {"b", `["x","x"]`}, {"c", `["y","Ä b"]`}, {"d", `[]`},
	} {
		_, err := tx.ExecContext(ctx, `INSERT INTO images (id, status, visibility, created_at, updated_at, tags)
			VALUES (?, 'active', 'public', 1, 1, ?)`, tagID(im.id), im.tags)
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO images (id, status, visibility, created_at, updated_at, tags, deleted)
		VALUES (?, 'deleted', 'public', 1, 1, '["x"]', 1)`, tagID("e"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.d.setSchemaVersion(ctx, tx, before); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return open
}

// TestMigrateTagIndex opens a database from before the tag index: the
// migration fills the index from the JSON lists, and filters find the
// images that have the tags, on both engines.
func TestMigrateTagIndex(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			open := oldSchema(t, engine)
			db, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkTagIndex(t, db)
			for tags, want := range map[string][]string{
				"x": {"a", "b"}, "y": {"a", "c"}, "x,y": {"a"}, "Ä b": {"c"}, "X": {},
			} {
				if got := listIDs(t, db, ListQuery{Admin: true, Tags: strings.Split(tags, ",")}); !slices.Equal(got, want) {
					t.Errorf("tags %s after migration: %q, want %q", tags, got, want)
				}
			}
			im, err := db.GetImage(context.Background(), tagID("b"))
			if err != nil || !slices.Equal(im.Tags, []string{"x", "x"}) {
				t.Fatalf("the JSON copy changed: %+v, %v", im, err)
			}
		})
	}
}

// TestCopyTablesTags copies a database with tagged images to each engine
// (glanced migrate): the tag index comes across, built from the images
// the destination ends with, so an image it had already keeps its tags.
func TestCopyTablesTags(t *testing.T) {
	forEachDB(t, func(t *testing.T, dst *DB) {
		ctx := context.Background()
		src := openDB(t)
		now := time.Now()
		for id, tags := range map[string][]string{"a": {"x", "y"}, "b": {"x"}, "c": {"y"}, "d": {"x", "z"}} {
			im := &Image{ID: tagID(id), Status: StatusActive, Visibility: "public", CreatedAt: now, UpdatedAt: now, Tags: tags}
			if err := src.CreateImage(ctx, im); err != nil {
				t.Fatal(err)
			}
		}
		if err := src.DeleteImage(ctx, tagID("d")); err != nil {
			t.Fatal(err)
		}
		mine := &Image{ID: tagID("c"), Status: StatusActive, Visibility: "public", CreatedAt: now, UpdatedAt: now, Tags: []string{"mine"}}
		if err := dst.CreateImage(ctx, mine); err != nil {
			t.Fatal(err)
		}
		for range 2 { // a copy can be run again
			added, err := CopyTables(ctx, src, dst)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := added["image_tags"]; ok {
				t.Errorf("the tag index was copied rather than rebuilt: %v", added)
			}
			checkTagIndex(t, dst)
			for tags, want := range map[string][]string{
				"x": {"a", "b"}, "y": {"a"}, "x,y": {"a"}, "mine": {"c"}, "z": {},
			} {
				if got := listIDs(t, dst, ListQuery{Admin: true, Tags: strings.Split(tags, ",")}); !slices.Equal(got, want) {
					t.Errorf("tags %s after the copy: %q, want %q", tags, got, want)
				}
			}
		}
	})
}

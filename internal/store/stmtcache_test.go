package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func benchDB(b *testing.B, n int) *SQLite {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "m.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		im := &Image{ID: fmt.Sprintf("%08d-0000-0000-0000-000000000000", i), Name: ptr(fmt.Sprint("img", i)), Status: StatusActive,
			Visibility: []string{"public", "private", "shared", "community"}[i%4], Owner: ptr(fmt.Sprint("p", i%7)), Size: ptr(int64(i)),
			CreatedAt: base.Add(time.Duration(i) * time.Second), UpdatedAt: base, Tags: []string{"t"}, Properties: map[string]string{"os_distro": "x"}}
		if err := db.CreateImage(ctx, im); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkListImages compares a list page through the statement cache
// with preparing its statement for every request, and shows what the
// preparing alone costs.
func BenchmarkListImages(b *testing.B) {
	db := benchDB(b, 1000)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		q    ListQuery
	}{
		{"default", ListQuery{Project: "p1", Limit: 25}},
		{"filtered", ListQuery{Project: "p1", Limit: 25, Sort: []SortKey{{Key: "name"}}, Filters: []Filter{
			{Field: "size", Op: "gte", Values: []any{int64(10)}}, {Field: "os_distro", Property: true, Op: "eq", Values: []any{"x"}}}}},
		{"admin", ListQuery{Admin: true, Limit: 25}},
	} {
		query, args, err := db.listQuery(ctx, c.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/cached", func(b *testing.B) {
			for b.Loop() {
				if _, err := db.queryImages(ctx, query, args...); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/prepare-only", func(b *testing.B) {
			for b.Loop() {
				st, err := db.r.PrepareContext(ctx, query)
				if err != nil {
					b.Fatal(err)
				}
				st.Close()
			}
		})
		b.Run(c.name+"/prepare-each", func(b *testing.B) {
			for b.Loop() {
				rows, err := db.r.QueryContext(ctx, query, args...)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := scanAll(rows, scanImage); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestListManyShapesConcurrently runs more distinct list queries than the
// statement cache holds, from several goroutines at once: a statement one
// request uses must never be closed under it by another's eviction.
func TestListManyShapesConcurrently(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		im := &Image{ID: fmt.Sprintf("%08d-0000-0000-0000-000000000000", i), Status: StatusActive, Visibility: "public",
			Size: ptr(int64(i)), CreatedAt: base.Add(time.Duration(i) * time.Second), UpdatedAt: base}
		if err := db.CreateImage(ctx, im); err != nil {
			t.Fatal(err)
		}
	}
	const shapes, workers = 1 << 9, 4 // 512 shapes, twice the cache
	errc := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range shapes {
				// Each worker walks the shapes from a different start, so
				// the same statements are in use by several at once.
				k := (i + w*shapes/workers) % shapes
				imgs, err := db.ListImages(ctx, ListQuery{Admin: true, Filters: shapeFilters(k, base)})
				if err != nil {
					errc <- fmt.Errorf("shape %d: %w", k, err)
					return
				}
				if len(imgs) != 10 {
					errc <- fmt.Errorf("shape %d: %d images, want 10", k, len(imgs))
					return
				}
			}
			errc <- nil
		}()
	}
	for range workers {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// shapeFilters returns filters that every test image passes, one for each
// bit set in k, so that each k gives its own query text.
func shapeFilters(k int, base time.Time) []Filter {
	all := []Filter{
		{Field: "size", Op: "gte", Values: []any{int64(0)}}, {Field: "size", Op: "lte", Values: []any{int64(1e9)}},
		{Field: "min_ram", Op: "gte", Values: []any{int64(0)}}, {Field: "min_ram", Op: "lte", Values: []any{int64(1e9)}},
		{Field: "min_disk", Op: "gte", Values: []any{int64(0)}}, {Field: "min_disk", Op: "lte", Values: []any{int64(1e9)}},
		{Field: "created_at", Op: "gte", Values: []any{base}}, {Field: "created_at", Op: "lt", Values: []any{base.Add(time.Hour)}},
		{Field: "updated_at", Op: "gte", Values: []any{base}}, {Field: "protected", Op: "eq", Values: []any{false}},
	}
	var fs []Filter
	for i, f := range all {
		if k&(1<<i) != 0 {
			fs = append(fs, f)
		}
	}
	return fs
}

package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func names[T any](l []*T, name func(*T) string) []string {
	out := []string{}
	for _, v := range l {
		out = append(out, name(v))
	}
	return out
}

func nsNames(l []*Namespace) []string {
	return names(l, func(n *Namespace) string { return n.Namespace })
}

func itemNames(l []*Item) []string { return names(l, func(i *Item) string { return i.Name }) }

func TestMetadefs(t *testing.T) { forEachDB(t, testMetadefs) }

func testMetadefs(t *testing.T, db *DB) {
	ctx := context.Background()
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(name, vis, owner string, at time.Time, rts ...string) {
		t.Helper()
		c := &NamespaceContent{Tags: []Item{{Name: "b", CreatedAt: at}, {Name: "a", CreatedAt: at}},
			Objects:    []Item{{Name: "z", Body: []byte(`{}`), CreatedAt: at}, {Name: "Y", Body: []byte(`{}`), CreatedAt: at}},
			Properties: []Item{{Name: "p", Body: []byte(`{"type":"string"}`), CreatedAt: at}}}
		for _, rt := range rts {
			c.Associations = append(c.Associations, Association{Name: rt, Prefix: ptr("x_"), CreatedAt: at})
		}
		if err := db.CreateNamespace(ctx, &Namespace{Namespace: name, Visibility: vis, Owner: ptr(owner), CreatedAt: at}, c); err != nil {
			t.Fatal(err)
		}
	}
	mk("one", "public", "p1", t0, "RT::A")
	mk("two", "private", "p1", t0.Add(time.Second), "RT::B", "RT::A")
	mk("three", "private", "p2", t0.Add(2*time.Second))

	var dup *DuplicateError
	if err := db.CreateNamespace(ctx, &Namespace{Namespace: "one", Visibility: "public", CreatedAt: t0}, nil); !errors.As(err, &dup) || dup.Kind != "namespace" {
		t.Errorf("duplicate namespace: %v", err)
	}
	err := db.CreateNamespace(ctx, &Namespace{Namespace: "four", Visibility: "public", CreatedAt: t0},
		&NamespaceContent{Tags: []Item{{Name: "d"}, {Name: "d"}}})
	if !errors.As(err, &dup) || dup.Kind != "tag" {
		t.Errorf("duplicate tag on create: %v", err)
	}
	if _, err := db.GetNamespace(ctx, "four"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a failed create left the namespace: %v", err)
	}

	for _, c := range []struct {
		q    NamespaceQuery
		want []string
	}{
		{NamespaceQuery{Admin: true, SortDesc: true}, []string{"three", "two", "one"}},
		{NamespaceQuery{Admin: true, SortKey: "namespace"}, []string{"one", "three", "two"}},
		{NamespaceQuery{Project: "p1"}, []string{"one", "two"}},
		{NamespaceQuery{Project: "p2"}, []string{"one", "three"}},
		{NamespaceQuery{Project: "p1", Visibility: "private"}, []string{"two"}},
		{NamespaceQuery{Admin: true, ResourceTypes: []string{"RT::B"}}, []string{"two"}},
		{NamespaceQuery{Admin: true, ResourceTypes: []string{"RT::A", "RT::B"}}, []string{"one", "two"}},
		{NamespaceQuery{Admin: true, Marker: "one", Limit: 1}, []string{"two"}},
	} {
		got, err := db.ListNamespaces(ctx, c.q)
		if err != nil || !slices.Equal(nsNames(got), c.want) {
			t.Errorf("%+v: %v %v, want %v", c.q, nsNames(got), err, c.want)
		}
	}
	if _, err := db.ListNamespaces(ctx, NamespaceQuery{SortKey: "nope"}); !errors.Is(err, ErrSortKey) {
		t.Errorf("bad sort key: %v", err)
	}

	if tags, _ := db.Items(ctx, "one", MetadefTag); !slices.Equal(itemNames(tags), []string{"a", "b"}) {
		t.Errorf("tags %v, want newest first", itemNames(tags))
	}
	if objs, _ := db.Items(ctx, "one", MetadefObject); !slices.Equal(itemNames(objs), []string{"Y", "z"}) {
		t.Errorf("objects %v, want by name", itemNames(objs))
	}
	if err := db.AddItems(ctx, "one", MetadefTag, []Item{{Name: "c", CreatedAt: t0}}, true); err != nil {
		t.Fatal(err)
	}
	if tags, _ := db.Items(ctx, "one", MetadefTag); !slices.Equal(itemNames(tags), []string{"c"}) {
		t.Errorf("tags after a replace %v", itemNames(tags))
	}
	if err := db.UpdateItem(ctx, "one", MetadefObject, "z", &Item{Name: "Y", Body: []byte(`{}`), CreatedAt: t0}); !errors.As(err, &dup) {
		t.Errorf("rename onto another object: %v", err)
	}
	if err := db.UpdateItem(ctx, "one", MetadefObject, "gone", &Item{Name: "x", Body: []byte(`{}`)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing object: %v", err)
	}
	if err := db.DeleteItem(ctx, "one", MetadefProperty, "p"); err != nil {
		t.Error(err)
	}
	if _, err := db.Item(ctx, "one", MetadefProperty, "p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted property: %v", err)
	}

	if err := db.Associate(ctx, "three", &Association{Name: "RT::C", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.Associate(ctx, "three", &Association{Name: "RT::C", CreatedAt: t0}); !errors.As(err, &dup) {
		t.Errorf("duplicate association: %v", err)
	}
	rts, _ := db.ResourceTypes(ctx)
	if got := names(rts, func(r *ResourceType) string { return r.Name }); !slices.Equal(got, []string{"RT::A", "RT::B", "RT::C"}) {
		t.Errorf("resource types %v", got)
	}
	if err := db.Dissociate(ctx, "three", "RT::A"); !errors.Is(err, ErrNotFound) {
		t.Errorf("dissociate a type never associated: %v", err)
	}

	ren := &Namespace{Namespace: "2", Visibility: "public", Owner: ptr("p1"), CreatedAt: t0, UpdatedAt: &t0}
	if err := db.UpdateNamespace(ctx, "two", ren); err != nil {
		t.Fatal(err)
	}
	if as, _ := db.Associations(ctx, "2"); len(as) != 2 || *as[0].Prefix != "x_" {
		t.Errorf("associations after a rename: %+v", as)
	}
	if err := db.UpdateNamespace(ctx, "2", &Namespace{Namespace: "one", Visibility: "public"}); !errors.As(err, &dup) {
		t.Errorf("rename onto another namespace: %v", err)
	}
	if err := db.DeleteNamespace(ctx, "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Items(ctx, "2", MetadefTag); !errors.Is(err, ErrNotFound) {
		t.Errorf("items of a deleted namespace: %v", err)
	}
	var n int
	db.r.QueryRow(`SELECT COUNT(*) FROM metadef_items WHERE namespace_id NOT IN (SELECT id FROM metadef_namespaces)`).Scan(&n)
	if n != 0 {
		t.Errorf("%d items outlive their namespace", n)
	}
}

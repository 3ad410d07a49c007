package conformance

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// listFixture is a set of alpha images that share a tag unique to the
// run, so list queries see only them whatever else the endpoint holds.
type listFixture struct {
	tag, tag2, distro string
	a, b, c, d        map[string]any // d is hidden
	aData, bData      []byte
}

func (s *suite) listImages(t *testing.T) *listFixture {
	t.Helper()
	f := &listFixture{
		tag:    s.name("list"),
		tag2:   s.name("list2"),
		distro: s.name("distro"),
		aData:  []byte("0123456789"),
		bData:  []byte("01234567890123456789"),
	}
	f.a = s.active(t, AlphaMember, map[string]any{
		"name": s.name("list-a"), "visibility": "private", "tags": []string{f.tag, f.tag2},
		"os_distro": f.distro, "disk_format": "raw", "container_format": "bare",
	}, f.aData)
	// Not bare: Glance 30 and glanced inspect bare images' data, and these
	// 20 bytes are no qcow2.
	f.b = s.active(t, AlphaMember, map[string]any{
		"name": s.name("list-b"), "visibility": "shared", "tags": []string{f.tag},
		"disk_format": "qcow2", "container_format": "docker",
	}, f.bData)
	f.c = s.create(t, AlphaMember, map[string]any{
		"name": s.name("list-c"), "visibility": "private", "tags": []string{f.tag},
		"disk_format": "iso", "container_format": "ovf", "min_ram": 128,
	})
	f.d = s.create(t, AlphaMember, map[string]any{
		"name": s.name("list-d"), "tags": []string{f.tag}, "os_hidden": true,
	})
	return f
}

// listRun is testList's fixture, with the IDs and the tag query that its
// subtests use.
type listRun struct {
	s               *suite
	f               *listFixture
	a, b, c, d, tag string
}

func testList(t *testing.T, s *suite) {
	f := s.listImages(t)
	l := &listRun{s: s, f: f, a: str(f.a, "id"), b: str(f.b, "id"), c: str(f.c, "id"), d: str(f.d, "id"),
		tag: "tag=" + url.QueryEscape(f.tag)}
	l.body(t)
	l.filters(t)
	l.access(t)
	l.sorts(t)
	l.paging(t)
	l.limits(t)
	l.markers(t)
	l.badQueries(t)
}

// body: a listing's document, and its images as shown.
func (l *listRun) body(t *testing.T) {
	s, a, tag := l.s, l.a, l.tag
	t.Run("Body", func(t *testing.T) {
		r := s.do(t, AlphaMember, http.MethodGet, "/v2/images?"+tag, nil).must(t, http.StatusOK)
		r.requestID(t)
		body := r.obj(t)
		field(t, body, "schema", "/v2/schemas/images")
		field(t, body, "first", "/v2/images?"+tag)
		noField(t, body, "next")
		imgs := objs(t, body, "images")
		for _, img := range imgs {
			checkImage(t, img)
		}
		// A listed image is the same as the image shown.
		for _, img := range imgs {
			if str(img, "id") == a && !jsonEqual(sortAnyTags(img), sortAnyTags(s.show(t, AlphaMember, a))) {
				t.Errorf("listed image differs from shown:\n%v\n%v", img, s.show(t, AlphaMember, a))
			}
		}
	})
}

// filters: each filter of a listing, alone or with the tag.
func (l *listRun) filters(t *testing.T) {
	s, f, a, b, c, d, tag := l.s, l.f, l.a, l.b, l.c, l.d, l.tag
	filters := []struct {
		name, query string
		want        []string
	}{
		{"Tag", tag, []string{a, b, c}},
		{"TagRepeated", tag + "&tag=" + url.QueryEscape(f.tag2), []string{a}},
		{"TagUnknown", tag + "&tag=" + s.name("nope"), nil},
		{"TagTwice", tag + "&" + tag, []string{a, b, c}},
		{"TagCase", "tag=" + url.QueryEscape(strings.ToUpper(f.tag)), nil},
		{"Hidden", tag + "&os_hidden=true", []string{d}},
		{"NotHidden", tag + "&os_hidden=false", []string{a, b, c}},
		{"Name", "name=" + url.QueryEscape(str(f.a, "name")), []string{a}},
		{"NameIn", "name=in:" + url.QueryEscape(str(f.a, "name")+","+str(f.c, "name")), []string{a, c}},
		{"ID", "id=" + b, []string{b}},
		{"IDIn", "id=in:" + b + "," + c, []string{b, c}},
		{"StatusActive", tag + "&status=active", []string{a, b}},
		{"StatusQueued", tag + "&status=queued", []string{c}},
		{"StatusIn", tag + "&status=in:queued,active", []string{a, b, c}},
		{"VisibilityPrivate", tag + "&visibility=private", []string{a, c}},
		{"VisibilityShared", tag + "&visibility=shared", []string{b}},
		{"VisibilityPublic", tag + "&visibility=public", nil},
		{"VisibilityAll", tag + "&visibility=all", []string{a, b, c}},
		{"DiskFormat", tag + "&disk_format=qcow2", []string{b}},
		{"DiskFormatIn", tag + "&disk_format=in:raw,iso", []string{a, c}},
		{"ContainerFormat", tag + "&container_format=ovf", []string{c}},
		{"ContainerFormatIn", tag + "&container_format=in:bare,ovf", []string{a, c}},
		{"SizeMin", tag + "&size_min=15", []string{b}},
		{"SizeMax", tag + "&size_max=15", []string{a}},
		{"SizeRange", tag + "&size_min=10&size_max=20", []string{a, b}},
		{"SizeExact", tag + "&size=20", []string{b}},
		{"MinRAM", tag + "&min_ram=128", []string{c}},
		{"Checksum", tag + "&checksum=" + md5hex(f.aData), []string{a}},
		{"HashValue", tag + "&os_hash_value=" + sha512hex(f.bData), []string{b}},
		{"Owner", tag + "&owner=" + s.project(t, AlphaMember), []string{a, b, c}},
		{"OtherOwner", tag + "&owner=" + s.project(t, BetaMember), nil},
		{"Property", "os_distro=" + url.QueryEscape(f.distro), []string{a}},
		{"PropertyAndTag", tag + "&os_distro=" + url.QueryEscape(f.distro), []string{a}},
		{"CreatedAfter", tag + "&created_at=gt:2000-01-01T00:00:00Z", []string{a, b, c}},
		{"CreatedBefore", tag + "&created_at=lt:2000-01-01T00:00:00Z", nil},
		{"UpdatedAfter", tag + "&updated_at=gte:2000-01-01T00:00:00Z", []string{a, b, c}},
		{"UpdatedBefore", tag + "&updated_at=lte:2000-01-01T00:00:00Z", nil},
		{"MemberStatusAll", tag + "&member_status=all", []string{a, b, c}},
		{"NotProtected", tag + "&protected=false", []string{a, b, c}},
		{"Protected", tag + "&protected=true", nil},
		{"CreatedSinceA", tag + "&created_at=gte:" + str(f.a, "created_at"), []string{a, b, c}},
		{"CreatedBeforeA", tag + "&created_at=lt:" + str(f.a, "created_at"), nil},
	}
	for _, q := range filters {
		t.Run("Filter"+q.name, func(t *testing.T) {
			sameIDs(t, q.query, s.ids(t, AlphaMember, q.query), q.want...)
		})
	}
}

// access: who sees the fixture's images.
func (l *listRun) access(t *testing.T) {
	s, a, b, c, tag := l.s, l.a, l.b, l.c, l.tag
	t.Run("Reader", func(t *testing.T) {
		sameIDs(t, "reader", s.ids(t, AlphaReader, tag), a, b, c)
	})
	t.Run("OtherProject", func(t *testing.T) {
		sameIDs(t, "beta", s.ids(t, BetaMember, tag), []string{}...)
	})
	t.Run("Admin", func(t *testing.T) {
		sameIDs(t, "admin", s.ids(t, Admin, tag), a, b, c)
	})
}

// sorts: sort keys and directions, both syntaxes, and the default order.
func (l *listRun) sorts(t *testing.T) {
	s, a, b, c, tag := l.s, l.a, l.b, l.c, l.tag
	sorts := []struct {
		name, query string
		want        []string
	}{
		{"NameAsc", tag + "&sort=name:asc", []string{a, b, c}},
		{"NameDesc", tag + "&sort=name:desc", []string{c, b, a}},
		{"NameDefaultDir", tag + "&sort=name", []string{c, b, a}},
		{"SizeDesc", tag + "&status=active&sort=size:desc", []string{b, a}},
		{"TwoKeys", tag + "&sort=disk_format:asc,name:desc", []string{c, b, a}},
		{"ClassicAsc", tag + "&sort_key=name&sort_dir=asc", []string{a, b, c}},
		{"ClassicDesc", tag + "&sort_key=name&sort_dir=desc", []string{c, b, a}},
		{"ClassicSize", tag + "&status=active&sort_key=size&sort_dir=desc", []string{b, a}},
		{"ClassicTwoKeys", tag + "&sort_key=container_format&sort_key=name&sort_dir=asc", []string{a, b, c}},
		{"ClassicTwoDirs", tag + "&sort_key=container_format&sort_dir=desc&sort_key=name&sort_dir=asc", []string{c, b, a}},
		{"ClassicDefaultDir", tag + "&sort_key=name", []string{c, b, a}},
		{"CreatedAsc", tag + "&sort=created_at:asc", []string{a, b, c}},
		{"StatusThenName", tag + "&sort=status:asc,name:desc", []string{b, a, c}},
	}
	for _, q := range sorts {
		t.Run("Sort"+q.name, func(t *testing.T) {
			if got := s.ids(t, AlphaMember, q.query); !slices.Equal(got, q.want) {
				t.Errorf("%s: got %v, want %v", q.query, got, q.want)
			}
		})
	}
	t.Run("DefaultOrder", func(t *testing.T) {
		// Newest first: c was created after b, b after a. Creation
		// times are kept to the microsecond, so the same second is no tie.
		got := s.ids(t, AlphaMember, tag)
		if !slices.Equal(got, []string{c, b, a}) {
			t.Errorf("default order %v, want newest first %v", got, []string{c, b, a})
		}
	})
}

// paging: pages of one image follow their next links to the end.
func (l *listRun) paging(t *testing.T) {
	s, a, b, c, tag := l.s, l.a, l.b, l.c, l.tag
	t.Run("Paging", func(t *testing.T) {
		q := tag + "&sort=name:asc&limit=1"
		var seen []string
		path := "/v2/images?" + q
		for range 5 {
			body := s.do(t, AlphaMember, http.MethodGet, path, nil).must(t, http.StatusOK).obj(t)
			field(t, body, "schema", "/v2/schemas/images")
			sameLink(t, "first", str(body, "first"), "/v2/images", q)
			imgs := objs(t, body, "images")
			for _, img := range imgs {
				seen = append(seen, str(img, "id"))
			}
			next, ok := body["next"].(string)
			if len(imgs) == 0 {
				if ok {
					t.Errorf("empty page has next %q", next)
				}
				break
			}
			if !ok {
				t.Fatalf("page of %d (= limit) has no next link", len(imgs))
			}
			sameLink(t, "next", next, "/v2/images", q+"&marker="+str(imgs[len(imgs)-1], "id"))
			path = next
		}
		if !slices.Equal(seen, []string{a, b, c}) {
			t.Errorf("pages gave %v, want %v", seen, []string{a, b, c})
		}
	})
}

// limits: limit values, and a quoted in: list.
func (l *listRun) limits(t *testing.T) {
	s, f, a, b, c, tag := l.s, l.f, l.a, l.b, l.c, l.tag
	t.Run("LimitLarger", func(t *testing.T) {
		body := s.do(t, AlphaMember, http.MethodGet, "/v2/images?"+tag+"&limit=10", nil).must(t, http.StatusOK).obj(t)
		noField(t, body, "next")
		if n := len(objs(t, body, "images")); n != 3 {
			t.Errorf("%d images, want 3", n)
		}
	})
	t.Run("LimitZero", func(t *testing.T) {
		body := s.do(t, AlphaMember, http.MethodGet, "/v2/images?"+tag+"&limit=0", nil).must(t, http.StatusOK).obj(t)
		if n := len(objs(t, body, "images")); n != 0 {
			t.Errorf("%d images with limit=0, want 0", n)
		}
	})
	t.Run("LimitHuge", func(t *testing.T) {
		// Limits above the maximum are capped, not refused.
		sameIDs(t, "limit=100000", s.ids(t, AlphaMember, tag+"&limit=100000"), a, b, c)
	})
	t.Run("NameInQuoted", func(t *testing.T) {
		// In an in: list, double quotes protect commas.
		name := s.name("comma,name")
		img := s.create(t, AlphaMember, map[string]any{"name": name})
		q := "name=" + url.QueryEscape(`in:"`+name+`",`+str(f.a, "name"))
		sameIDs(t, q, s.ids(t, AlphaMember, q), str(img, "id"), a)
	})
}

// markers: a marker skips to the image after it; markers the caller
// cannot see or that are deleted are refused.
func (l *listRun) markers(t *testing.T) {
	s, a, b, c, tag := l.s, l.a, l.b, l.c, l.tag
	t.Run("MarkerSkips", func(t *testing.T) {
		got := s.ids(t, AlphaMember, tag+"&sort=name:asc&marker="+a)
		if !slices.Equal(got, []string{b, c}) {
			t.Errorf("after marker: %v, want %v", got, []string{b, c})
		}
	})
	t.Run("MarkerInvisible", func(t *testing.T) {
		other := s.create(t, BetaMember, map[string]any{"visibility": "private"})
		r := s.do(t, AlphaMember, http.MethodGet, "/v2/images?marker="+str(other, "id"), nil)
		r.expect(t, http.StatusForbidden)
		r.plainError(t, http.StatusForbidden)
	})
	t.Run("MarkerDeleted", func(t *testing.T) {
		gone := s.create(t, AlphaMember, nil)
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+str(gone, "id"), nil).must(t, http.StatusNoContent)
		s.do(t, AlphaMember, http.MethodGet, "/v2/images?marker="+str(gone, "id"), nil).expect(t, http.StatusBadRequest)
	})
}

// badQueries: queries Glance refuses with a 400.
func (l *listRun) badQueries(t *testing.T) {
	s := l.s
	bad := []struct{ name, query string }{
		{"LimitNotInt", "limit=abc"},
		{"LimitNegative", "limit=-1"},
		{"MarkerUnknown", "marker=" + newUUID()},
		{"SortBadKey", "sort=owner:asc"},
		{"SortBadDir", "sort=name:sideways"},
		{"SortKeyBad", "sort_key=bogus"},
		{"SortDirBad", "sort_key=name&sort_dir=sideways"},
		{"SortMixed", "sort=name:asc&sort_key=name"},
		{"SortDirCount", "sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc"},
		{"Visibility", "visibility=everyone"},
		{"MemberStatus", "member_status=maybe"},
		{"Hidden", "os_hidden=maybe"},
		{"Protected", "protected=maybe"},
		{"SizeMin", "size_min=big"},
		{"SizeMax", "size_max=big"},
		{"CreatedAt", "created_at=gt:yesterday"},
		{"CreatedAtOp", "created_at=between:2000-01-01T00:00:00Z"},
		{"NameOp", "name=like:x"},
		{"StatusOp", "status=gt:active"},
		{"ChangesSince", "changes-since=2000-01-01T00:00:00Z"},
	}
	for _, q := range bad {
		t.Run("Bad"+q.name, func(t *testing.T) {
			r := s.do(t, AlphaMember, http.MethodGet, "/v2/images?"+q.query, nil)
			r.expect(t, http.StatusBadRequest)
			r.plainError(t, http.StatusBadRequest)
		})
	}
}

// sameLink checks that link has the path and the query parameters of
// want (order aside).
func sameLink(t *testing.T, what, link, wantPath, want string) {
	t.Helper()
	path, q, _ := strings.Cut(link, "?")
	if path != wantPath {
		t.Errorf("%s link %q: path %q, want %s", what, link, path, wantPath)
		return
	}
	got, err := url.ParseQuery(q)
	if err != nil {
		t.Errorf("%s link %q: %v", what, link, err)
		return
	}
	w, _ := url.ParseQuery(want)
	if !jsonEqual(got, w) {
		t.Errorf("%s link %q: query %v, want %v", what, link, got, w)
	}
}

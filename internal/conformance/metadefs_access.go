package conformance

import (
	"net/http"
	"net/url"
	"testing"
)

// testMetadefList pages through namespaces of a resource type only this
// test uses, so that other namespaces on the target do not matter.
func testMetadefList(t *testing.T, s *suite) {
	rt := s.name("rt-list")
	var names []string
	for _, n := range []string{"c", "a", "b"} {
		ns := s.createNamespace(t, Admin, map[string]any{"namespace": s.name("list-" + n), "visibility": "public",
			"resource_type_associations": []map[string]any{{"name": rt}}})
		names = append(names, str(ns, "namespace"))
	}
	page := func(query string) map[string]any {
		return s.do(t, AlphaReader, http.MethodGet, mdNS+"?"+query, nil).must(t, http.StatusOK).obj(t)
	}
	nsNames := func(m map[string]any) []string {
		var out []string
		for _, n := range objs(t, m, "namespaces") {
			out = append(out, str(n, "namespace"))
			if as := objs(t, n, "resource_type_associations"); len(as) != 1 || str(as[0], "name") != rt {
				t.Errorf("associations of %s: %v", str(n, "namespace"), as)
			}
			for _, k := range []string{"properties", "objects", "tags"} {
				noField(t, n, k)
			}
		}
		return out
	}
	q := "resource_types=" + url.QueryEscape(rt) + "&sort_key=namespace&sort_dir=asc&limit=2"
	first := page(q)
	if got := nsNames(first); !jsonEqual(got, []string{names[1], names[2]}) {
		t.Errorf("first page %v", got)
	}
	field(t, first, "schema", "/v2/schemas/metadefs/namespaces")
	field(t, first, "first", "/v2/metadefs/namespaces?"+q)
	field(t, first, "next", "/v2/metadefs/namespaces?"+q+"&marker="+url.QueryEscape(names[2]))
	second := s.do(t, AlphaReader, http.MethodGet, str(first, "next"), nil).must(t, http.StatusOK).obj(t)
	if got := nsNames(second); !jsonEqual(got, []string{names[0]}) {
		t.Errorf("second page %v", got)
	}
	noField(t, second, "next")
	// Newest first by default.
	if got := nsNames(page("resource_types=" + url.QueryEscape(rt))); !jsonEqual(got, []string{names[2], names[1], names[0]}) {
		t.Errorf("default order %v", got)
	}
	empty := page("resource_types=" + url.QueryEscape(rt) + "&limit=0")
	if got := nsNames(empty); len(got) != 0 {
		t.Errorf("limit=0 lists %v", got)
	}
	noField(t, empty, "next")
	if got := nsNames(page("resource_types=" + url.QueryEscape(rt) + "&visibility=private")); len(got) != 0 {
		t.Errorf("visibility=private lists %v", got)
	}
	s.do(t, AlphaReader, http.MethodGet, mdNS+"?marker="+url.QueryEscape(s.name("nothing")), nil).expect(t, http.StatusNotFound)
}

// testMetadefAccess checks who sees and changes what: namespaces are read
// by admins, by readers of their project and, when public, by everyone;
// only admins change them.
func testMetadefAccess(t *testing.T, s *suite) {
	alpha := s.project(t, AlphaMember)
	rt := s.name("rt-access")
	priv := str(s.createNamespace(t, Admin, map[string]any{"owner": alpha, "visibility": "private",
		"resource_type_associations": []map[string]any{{"name": rt}},
		"objects":                    []map[string]any{{"name": "o"}}, "tags": []map[string]any{{"name": "t"}},
		"properties": map[string]any{"p": map[string]any{"type": "string", "title": "P"}}}), "namespace")
	pub := str(s.createNamespace(t, Admin, map[string]any{"owner": alpha, "visibility": "public",
		"resource_type_associations": []map[string]any{{"name": rt}}}), "namespace")

	for _, role := range []Role{AlphaReader, AlphaMember} {
		for _, p := range []string{nsPath(priv), nsPath(priv, "objects"), nsPath(priv, "objects", "o"),
			nsPath(priv, "properties"), nsPath(priv, "properties", "p"), nsPath(priv, "tags"), nsPath(priv, "tags", "t"),
			nsPath(priv, "resource_types")} {
			s.do(t, role, http.MethodGet, p, nil).expect(t, http.StatusOK)
		}
	}
	// Another project neither sees a private namespace nor learns it exists.
	for _, role := range []Role{BetaReader, BetaMember} {
		for _, p := range []string{nsPath(priv), nsPath(priv, "objects"), nsPath(priv, "objects", "o"),
			nsPath(priv, "properties"), nsPath(priv, "tags"), nsPath(priv, "resource_types")} {
			s.do(t, role, http.MethodGet, p, nil).expect(t, http.StatusNotFound)
		}
		s.do(t, role, http.MethodDelete, nsPath(priv), nil).expect(t, http.StatusNotFound)
		s.do(t, role, http.MethodPost, nsPath(priv, "tags", "x"), nil).expect(t, http.StatusNotFound)
		s.do(t, role, http.MethodGet, nsPath(pub), nil).expect(t, http.StatusOK)
	}
	list := s.do(t, BetaReader, http.MethodGet, mdNS+"?resource_types="+url.QueryEscape(rt), nil).must(t, http.StatusOK).obj(t)
	var seen []string
	for _, n := range objs(t, list, "namespaces") {
		seen = append(seen, str(n, "namespace"))
	}
	if !jsonEqual(seen, []string{pub}) {
		t.Errorf("beta lists %v, want only the public namespace", seen)
	}

	// Members and readers of the owner project may not change it: 403, as they can see it.
	for _, role := range []Role{AlphaMember, AlphaReader} {
		s.do(t, role, http.MethodPut, nsPath(priv), map[string]any{"namespace": priv}).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodDelete, nsPath(priv), nil).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodPost, nsPath(priv, "objects"), map[string]any{"name": "o2"}).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodDelete, nsPath(priv, "objects", "o"), nil).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodPost, nsPath(priv, "properties"), map[string]any{"name": "q", "title": "Q", "type": "string"}).
			expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodPost, nsPath(priv, "tags", "x"), nil).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodPost, nsPath(priv, "tags"), map[string]any{"tags": []map[string]string{{"name": "y"}}}).
			expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodDelete, nsPath(priv, "tags"), nil).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodPost, nsPath(priv, "resource_types"), map[string]any{"name": rt + "-2"}).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodDelete, nsPath(priv, "resource_types", rt), nil).expect(t, http.StatusForbidden)
		s.do(t, role, http.MethodPost, mdNS, map[string]any{"namespace": s.name("denied")}).expect(t, http.StatusForbidden)
	}
	shown := s.do(t, Admin, http.MethodGet, nsPath(priv), nil).must(t, http.StatusOK).obj(t)
	if len(objs(t, shown, "objects")) != 1 || len(objs(t, shown, "tags")) != 1 {
		t.Errorf("refused calls changed the namespace: %v", shown)
	}
}

func testMetadefErrors(t *testing.T, s *suite) {
	for _, q := range []string{"sort_dir=up", "visibility=shared", "limit=-1"} {
		s.do(t, AlphaReader, http.MethodGet, mdNS+"?"+q, nil).expect(t, http.StatusBadRequest)
	}
	for _, body := range []map[string]any{{}, {"namespace": s.name("bad"), "visibility": "shared"},
		{"namespace": s.name("bad"), "protected": "yes"}, {"namespace": s.name("bad"), "color": "red"}} {
		s.do(t, Admin, http.MethodPost, mdNS, body).expect(t, http.StatusBadRequest)
	}
	name := str(s.createNamespace(t, Admin, map[string]any{"tags": []map[string]string{{"name": "t"}}}), "namespace")
	s.do(t, Admin, http.MethodPost, nsPath(name, "objects"), map[string]any{"name": "o", "color": "red"}).expect(t, http.StatusBadRequest)
	s.do(t, Admin, http.MethodPost, nsPath(name, "properties"), map[string]any{"name": "p", "title": "P", "type": "string",
		"color": "red"}).expect(t, http.StatusBadRequest)
	s.do(t, Admin, http.MethodPut, nsPath(name, "tags", "t"), map[string]any{"name": "u", "color": "red"}).expect(t, http.StatusBadRequest)
	s.do(t, Admin, http.MethodPost, nsPath(name, "resource_types"), map[string]any{"name": "r", "color": "red"}).
		expect(t, http.StatusBadRequest)
	s.do(t, Admin, http.MethodPost, mdNS, map[string]any{"namespace": s.name("ro"), "created_at": "x"}).
		expect(t, http.StatusForbidden)
	s.do(t, Admin, http.MethodPost, mdNS, raw("{")).expect(t, http.StatusBadRequest)
	s.do(t, Admin, http.MethodPatch, mdNS, nil).expect(t, http.StatusMethodNotAllowed)
	s.do(t, AlphaReader, http.MethodGet, nsPath(s.name("none")), nil).expect(t, http.StatusNotFound)
	s.do(t, "", http.MethodGet, mdNS, nil).expect(t, http.StatusUnauthorized)
}

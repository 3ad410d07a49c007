package conformance

import (
	"net/http"
	"testing"
)

func testMetadefNamespace(t *testing.T, s *suite) {
	rt := s.name("rt-ns")
	body := map[string]any{
		"display_name": "Display", "description": "About it", "visibility": "public",
		"resource_type_associations": []map[string]any{{"name": rt, "prefix": "p_", "properties_target": "image"}},
		"properties":                 map[string]any{"speed": map[string]any{"type": "integer", "title": "Speed", "default": 8, "minimum": 1}},
		"objects":                    []map[string]any{{"name": "obj", "properties": map[string]any{"x": map[string]any{"type": "string", "title": "X"}}}},
		"tags":                       []map[string]any{{"name": "b"}, {"name": "a"}},
	}
	ns := s.createNamespace(t, Admin, body)
	name := str(ns, "namespace")
	field(t, ns, "display_name", "Display")
	field(t, ns, "visibility", "public")
	field(t, ns, "protected", false)
	field(t, ns, "owner", s.project(t, Admin))
	field(t, ns, "self", "/v2/metadefs/namespaces/"+name)
	field(t, ns, "schema", "/v2/schemas/metadefs/namespace")
	fieldType(t, ns, "created_at", "string")
	field(t, ns, "updated_at", ns["created_at"])
	// The answer echoes the request's content.
	field(t, ns, "objects", body["objects"])
	field(t, ns, "tags", body["tags"])
	field(t, ns, "resource_type_associations", body["resource_type_associations"])
	props, _ := ns["properties"].(map[string]any)
	field(t, props, "speed", map[string]any{"type": "integer", "title": "Speed", "default": "8", "minimum": 1})

	shown := s.do(t, AlphaReader, http.MethodGet, nsPath(name), nil).must(t, http.StatusOK).obj(t)
	// Tags come newest first: the last of one request first.
	field(t, shown, "tags", []map[string]string{{"name": "a"}, {"name": "b"}})
	o := objs(t, shown, "objects")
	if len(o) != 1 {
		t.Fatalf("objects %v", o)
	}
	field(t, o[0], "required", []string{})
	field(t, o[0], "self", "/v2/metadefs/namespaces/"+name+"/objects/obj")
	a := objs(t, shown, "resource_type_associations")
	if len(a) != 1 {
		t.Fatalf("associations %v", a)
	}
	field(t, a[0], "prefix", "p_")
	fieldType(t, a[0], "created_at", "string")
	pre := s.do(t, AlphaReader, http.MethodGet, nsPath(name)+"?resource_type="+rt, nil).must(t, http.StatusOK).obj(t)
	if ps, _ := pre["properties"].(map[string]any); ps["p_speed"] == nil {
		t.Errorf("properties with resource_type: %v", keys(ps))
	}
	if ps, _ := objs(t, pre, "objects")[0]["properties"].(map[string]any); ps["p_x"] == nil {
		t.Errorf("object properties with resource_type: %v", keys(ps))
	}

	s.do(t, Admin, http.MethodPost, mdNS, map[string]any{"namespace": name}).expect(t, http.StatusConflict)

	// PUT replaces the namespace: fields left out take their defaults.
	renamed := name + "-2"
	up := s.do(t, Admin, http.MethodPut, nsPath(name), map[string]any{"namespace": renamed, "description": "new"}).
		must(t, http.StatusOK).obj(t)
	t.Cleanup(func() { s.removeNamespace(t, renamed) })
	field(t, up, "namespace", renamed)
	field(t, up, "visibility", "private")
	field(t, up, "description", "new")
	noField(t, up, "display_name")
	s.do(t, Admin, http.MethodGet, nsPath(name), nil).expect(t, http.StatusNotFound)
	after := s.do(t, Admin, http.MethodGet, nsPath(renamed), nil).must(t, http.StatusOK).obj(t)
	field(t, after, "tags", []map[string]string{{"name": "a"}, {"name": "b"}})

	r := s.do(t, Admin, http.MethodDelete, nsPath(renamed), nil)
	r.expect(t, http.StatusNoContent)
	r.noBody(t)
	s.do(t, Admin, http.MethodGet, nsPath(renamed), nil).expect(t, http.StatusNotFound)
	s.do(t, Admin, http.MethodDelete, nsPath(renamed), nil).expect(t, http.StatusNotFound)
}

func testMetadefProtected(t *testing.T, s *suite) {
	ns := s.createNamespace(t, Admin, map[string]any{"protected": true,
		"properties": map[string]any{"p": map[string]any{"type": "string", "title": "P"}},
		"objects":    []map[string]any{{"name": "o"}}, "tags": []map[string]any{{"name": "t"}}})
	name := str(ns, "namespace")
	for _, p := range []string{nsPath(name), nsPath(name, "properties"), nsPath(name, "objects"), nsPath(name, "tags"),
		nsPath(name, "properties", "p"), nsPath(name, "objects", "o"), nsPath(name, "tags", "t")} {
		s.do(t, Admin, http.MethodDelete, p, nil).expect(t, http.StatusForbidden)
	}
	shown := s.do(t, Admin, http.MethodGet, nsPath(name), nil).must(t, http.StatusOK).obj(t)
	if len(objs(t, shown, "tags")) != 1 || len(objs(t, shown, "objects")) != 1 {
		t.Errorf("a refused delete removed content: %v", shown)
	}
	s.do(t, Admin, http.MethodPut, nsPath(name), map[string]any{"namespace": name, "protected": false}).must(t, http.StatusOK)
	for _, p := range []string{nsPath(name, "properties"), nsPath(name, "objects"), nsPath(name, "tags")} {
		s.do(t, Admin, http.MethodDelete, p, nil).expect(t, http.StatusNoContent)
	}
	shown = s.do(t, Admin, http.MethodGet, nsPath(name), nil).must(t, http.StatusOK).obj(t)
	for _, k := range []string{"properties", "objects", "tags"} {
		noField(t, shown, k)
	}
}

func testMetadefProperties(t *testing.T, s *suite) {
	name := str(s.createNamespace(t, Admin, nil), "namespace")
	p := s.do(t, Admin, http.MethodPost, nsPath(name, "properties"), map[string]any{
		"name": "flag", "title": "Flag", "type": "boolean", "default": true, "description": "d"}).must(t, http.StatusCreated).obj(t)
	if !jsonEqual(p, map[string]any{"name": "flag", "type": "boolean", "title": "Flag", "description": "d", "default": "True"}) {
		t.Errorf("created property %v", p)
	}
	s.do(t, Admin, http.MethodPost, nsPath(name, "properties"), map[string]any{
		"name": "flag", "title": "Flag", "type": "boolean"}).expect(t, http.StatusConflict)
	s.do(t, Admin, http.MethodPost, nsPath(name, "properties"), map[string]any{
		"name": "num", "title": "Num", "type": "number", "default": 1.5, "minimum": 0.5,
		"enum": []string{"1", "2"}, "items": map[string]any{"type": "string"}}).must(t, http.StatusCreated)
	got := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "properties", "num"), nil).must(t, http.StatusOK).obj(t)
	if !jsonEqual(got, map[string]any{"name": "num", "type": "number", "title": "Num", "default": "1.5", "minimum": 0,
		"enum": []string{"1", "2"}, "items": map[string]any{"type": "string"}}) {
		t.Errorf("property num %v", got)
	}
	list := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "properties"), nil).must(t, http.StatusOK).obj(t)
	if ps, _ := list["properties"].(map[string]any); !jsonEqual(keys(ps), []string{"flag", "num"}) {
		t.Errorf("properties %v", list)
	}
	for _, bad := range []map[string]any{{"name": "x", "type": "string"}, {"name": "x", "title": "X"},
		{"name": "x", "title": "X", "type": "text"}, {"title": "X", "type": "string"}} {
		s.do(t, Admin, http.MethodPost, nsPath(name, "properties"), bad).expect(t, http.StatusBadRequest)
	}
	up := s.do(t, Admin, http.MethodPut, nsPath(name, "properties", "flag"), map[string]any{
		"name": "flag2", "title": "Flag 2", "type": "string"}).must(t, http.StatusOK).obj(t)
	field(t, up, "name", "flag2")
	s.do(t, Admin, http.MethodGet, nsPath(name, "properties", "flag"), nil).expect(t, http.StatusNotFound)
	s.do(t, Admin, http.MethodPut, nsPath(name, "properties", "flag2"), map[string]any{
		"name": "num", "title": "N", "type": "string"}).expect(t, http.StatusConflict)
	r := s.do(t, Admin, http.MethodDelete, nsPath(name, "properties", "flag2"), nil)
	r.expect(t, http.StatusNoContent)
	r.noBody(t)
	s.do(t, Admin, http.MethodDelete, nsPath(name, "properties", "flag2"), nil).expect(t, http.StatusNotFound)
	s.do(t, Admin, http.MethodGet, nsPath(name+"-none", "properties"), nil).expect(t, http.StatusNotFound)
}

func testMetadefObjects(t *testing.T, s *suite) {
	name := str(s.createNamespace(t, Admin, nil), "namespace")
	o := s.do(t, Admin, http.MethodPost, nsPath(name, "objects"), map[string]any{
		"name": "web", "description": "server", "required": []string{"port"},
		"properties": map[string]any{"port": map[string]any{"type": "integer", "title": "Port", "maximum": 65535}}}).
		must(t, http.StatusCreated).obj(t)
	field(t, o, "name", "web")
	field(t, o, "required", []string{"port"})
	field(t, o, "self", "/v2/metadefs/namespaces/"+name+"/objects/web")
	field(t, o, "schema", "/v2/schemas/metadefs/object")
	fieldType(t, o, "created_at", "string")
	s.do(t, Admin, http.MethodPost, nsPath(name, "objects"), map[string]any{"name": "web"}).expect(t, http.StatusConflict)
	s.do(t, Admin, http.MethodPost, nsPath(name, "objects"), map[string]any{"name": "app"}).must(t, http.StatusCreated)
	shown := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "objects", "app"), nil).must(t, http.StatusOK).obj(t)
	field(t, shown, "required", []string{})
	field(t, shown, "properties", map[string]any{})
	list := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "objects"), nil).must(t, http.StatusOK).obj(t)
	field(t, list, "schema", "v2/schemas/metadefs/objects")
	var names []string
	for _, x := range objs(t, list, "objects") {
		names = append(names, str(x, "name"))
	}
	if !jsonEqual(names, []string{"app", "web"}) {
		t.Errorf("objects %v, want by name", names)
	}
	up := s.do(t, Admin, http.MethodPut, nsPath(name, "objects", "web"), map[string]any{"name": "www"}).must(t, http.StatusOK).obj(t)
	field(t, up, "name", "www")
	// The answer holds what the request set; the record has the defaults.
	noField(t, up, "required")
	noField(t, up, "description")
	www := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "objects", "www"), nil).must(t, http.StatusOK).obj(t)
	field(t, www, "required", []string{})
	field(t, www, "properties", map[string]any{})
	noField(t, www, "description")
	s.do(t, Admin, http.MethodPut, nsPath(name, "objects", "www"), map[string]any{"name": "app"}).expect(t, http.StatusConflict)
	s.do(t, Admin, http.MethodPost, nsPath(name, "objects"), map[string]any{"description": "x"}).expect(t, http.StatusBadRequest)
	s.do(t, Admin, http.MethodPost, nsPath(name, "objects"), map[string]any{"name": "ro", "self": "x"}).expect(t, http.StatusForbidden)
	s.do(t, Admin, http.MethodDelete, nsPath(name, "objects", "www"), nil).expect(t, http.StatusNoContent)
	s.do(t, Admin, http.MethodGet, nsPath(name, "objects", "www"), nil).expect(t, http.StatusNotFound)
	s.do(t, Admin, http.MethodGet, nsPath(name+"-none", "objects"), nil).expect(t, http.StatusNotFound)
}

func testMetadefTags(t *testing.T, s *suite) {
	name := str(s.createNamespace(t, Admin, nil), "namespace")
	tagNames := func() []string {
		l := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "tags"), nil).must(t, http.StatusOK).obj(t)
		var out []string
		for _, x := range objs(t, l, "tags") {
			out = append(out, str(x, "name"))
		}
		return out
	}
	bulk := func(hdr []string, tags ...string) *resp {
		var body []map[string]string
		for _, tg := range tags {
			body = append(body, map[string]string{"name": tg})
		}
		return s.do(t, Admin, http.MethodPost, nsPath(name, "tags"), map[string]any{"tags": body}, hdr...)
	}
	r := bulk(nil, "b", "a", "c").must(t, http.StatusCreated).obj(t)
	field(t, r, "tags", []map[string]string{{"name": "b"}, {"name": "a"}, {"name": "c"}})
	one := s.do(t, Admin, http.MethodPost, nsPath(name, "tags", "aa"), nil).must(t, http.StatusCreated).obj(t)
	field(t, one, "name", "aa")
	fieldType(t, one, "created_at", "string")
	// Newest first.
	if got := tagNames(); !jsonEqual(got, []string{"aa", "c", "a", "b"}) {
		t.Errorf("tags %v", got)
	}
	s.do(t, Admin, http.MethodPost, nsPath(name, "tags", "aa"), nil).expect(t, http.StatusConflict)
	// Without X-Openstack-Append the list replaces the tags.
	bulk(nil, "x", "y").must(t, http.StatusCreated)
	if got := tagNames(); !jsonEqual(got, []string{"y", "x"}) {
		t.Errorf("tags after a replacing bulk create: %v", got)
	}
	bulk([]string{"X-Openstack-Append", "True"}, "z").must(t, http.StatusCreated)
	if got := tagNames(); !jsonEqual(got, []string{"z", "y", "x"}) {
		t.Errorf("tags after an appending bulk create: %v", got)
	}
	bulk([]string{"X-Openstack-Append", "true"}, "x").expect(t, http.StatusConflict)
	bulk(nil, "d", "d").expect(t, http.StatusConflict)
	if got := tagNames(); !jsonEqual(got, []string{"z", "y", "x"}) {
		t.Errorf("a failed bulk create changed the tags: %v", got)
	}
	shown := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "tags", "z"), nil).must(t, http.StatusOK).obj(t)
	field(t, shown, "name", "z")
	up := s.do(t, Admin, http.MethodPut, nsPath(name, "tags", "z"), map[string]any{"name": "zz"}).must(t, http.StatusOK).obj(t)
	field(t, up, "name", "zz")
	s.do(t, Admin, http.MethodPut, nsPath(name, "tags", "zz"), map[string]any{"name": "x"}).expect(t, http.StatusConflict)
	s.do(t, Admin, http.MethodDelete, nsPath(name, "tags", "zz"), nil).expect(t, http.StatusNoContent)
	s.do(t, Admin, http.MethodGet, nsPath(name, "tags", "zz"), nil).expect(t, http.StatusNotFound)
	s.do(t, Admin, http.MethodDelete, nsPath(name, "tags"), nil).expect(t, http.StatusNoContent)
	if got := tagNames(); len(got) != 0 {
		t.Errorf("tags after deleting all: %v", got)
	}
}

func testMetadefResourceTypes(t *testing.T, s *suite) {
	name := str(s.createNamespace(t, Admin, nil), "namespace")
	rt := s.name("rt-assoc")
	a := s.do(t, Admin, http.MethodPost, nsPath(name, "resource_types"), map[string]any{"name": rt, "prefix": "q:"}).
		must(t, http.StatusCreated).obj(t)
	field(t, a, "name", rt)
	field(t, a, "prefix", "q:")
	noField(t, a, "properties_target")
	s.do(t, Admin, http.MethodPost, nsPath(name, "resource_types"), map[string]any{"name": rt}).expect(t, http.StatusConflict)
	list := s.do(t, AlphaReader, http.MethodGet, nsPath(name, "resource_types"), nil).must(t, http.StatusOK).obj(t)
	as := objs(t, list, "resource_type_associations")
	if len(as) != 1 || str(as[0], "name") != rt {
		t.Errorf("associations %v", as)
	}
	// Associating with a new resource type creates it.
	all := s.do(t, AlphaReader, http.MethodGet, "/v2/metadefs/resource_types", nil).must(t, http.StatusOK).obj(t)
	found := false
	for _, x := range objs(t, all, "resource_types") {
		found = found || str(x, "name") == rt
	}
	if !found {
		t.Errorf("resource type %s not listed after its first association", rt)
	}
	s.do(t, Admin, http.MethodDelete, nsPath(name, "resource_types", rt), nil).expect(t, http.StatusNoContent)
	s.do(t, Admin, http.MethodDelete, nsPath(name, "resource_types", rt), nil).expect(t, http.StatusNotFound)
	list = s.do(t, AlphaReader, http.MethodGet, nsPath(name, "resource_types"), nil).must(t, http.StatusOK).obj(t)
	field(t, list, "resource_type_associations", []any{})
}

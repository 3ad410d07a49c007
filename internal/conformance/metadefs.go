package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// Metadata definitions (/v2/metadefs). Both targets hold the standard
// definitions Debian's Glance ships; every namespace the suite creates is
// named after the run and deleted when its test ends.

const mdNS = "/v2/metadefs/namespaces"

func nsPath(name string, rest ...string) string {
	p := mdNS + "/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// createNamespace creates a namespace as role from body (which gets a
// unique name and public visibility unless it names them) and removes it
// when t ends.
func (s *suite) createNamespace(t *testing.T, role Role, body map[string]any) map[string]any {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["namespace"]; !ok {
		body["namespace"] = s.name(fmt.Sprintf("md%d", s.seq.Add(1)))
	}
	if _, ok := body["visibility"]; !ok {
		body["visibility"] = "public"
	}
	name := body["namespace"].(string)
	r := s.do(t, role, http.MethodPost, mdNS, body).must(t, http.StatusCreated)
	t.Cleanup(func() { s.removeNamespace(t, name) })
	r.header(t, "Location", s.tg.URL+"/v2/metadefs/namespaces/"+url.PathEscape(name))
	return r.obj(t)
}

// removeNamespace deletes a namespace as admin, unprotecting it first; a
// namespace already gone is fine.
func (s *suite) removeNamespace(t *testing.T, name string) {
	t.Helper()
	r := s.do(t, Admin, http.MethodDelete, nsPath(name), nil)
	if r.Status == http.StatusForbidden {
		cur := s.do(t, Admin, http.MethodGet, nsPath(name), nil).must(t, http.StatusOK).obj(t)
		s.do(t, Admin, http.MethodPut, nsPath(name), map[string]any{"namespace": name, "protected": false,
			"visibility": cur["visibility"], "owner": cur["owner"]}).expect(t, http.StatusOK)
		r = s.do(t, Admin, http.MethodDelete, nsPath(name), nil)
	}
	r.expect(t, http.StatusNoContent, http.StatusNotFound)
}

func testMetadefs(t *testing.T, s *suite) {
	t.Run("Schemas", func(t *testing.T) { testMetadefSchemas(t, s) })
	t.Run("Standard", func(t *testing.T) { testMetadefStandard(t, s) })
	t.Run("Namespace", func(t *testing.T) { testMetadefNamespace(t, s) })
	t.Run("Protected", func(t *testing.T) { testMetadefProtected(t, s) })
	t.Run("Properties", func(t *testing.T) { testMetadefProperties(t, s) })
	t.Run("Objects", func(t *testing.T) { testMetadefObjects(t, s) })
	t.Run("Tags", func(t *testing.T) { testMetadefTags(t, s) })
	t.Run("ResourceTypes", func(t *testing.T) { testMetadefResourceTypes(t, s) })
	t.Run("List", func(t *testing.T) { testMetadefList(t, s) })
	t.Run("Access", func(t *testing.T) { testMetadefAccess(t, s) })
	t.Run("Errors", func(t *testing.T) { testMetadefErrors(t, s) })
}

func testMetadefSchemas(t *testing.T, s *suite) {
	for path, name := range map[string]string{
		"namespace": "namespace", "namespaces": "namespaces", "resource_type": "resource_type_association",
		"resource_types": "resource_type_associations", "property": "property", "properties": "properties",
		"object": "object", "objects": "objects", "tag": "tag", "tags": "tags",
	} {
		r := s.do(t, AlphaReader, http.MethodGet, "/v2/schemas/metadefs/"+path, nil).must(t, http.StatusOK)
		sc := r.obj(t)
		field(t, sc, "name", name)
		fieldType(t, sc, "properties", "object")
	}
	ns := s.do(t, AlphaReader, http.MethodGet, "/v2/schemas/metadefs/namespace", nil).obj(t)
	field(t, ns, "required", []string{"namespace"})
	field(t, ns, "additionalProperties", false)
	props, _ := ns["properties"].(map[string]any)
	vis, _ := props["visibility"].(map[string]any)
	field(t, vis, "enum", []string{"public", "private"})
	list := s.do(t, AlphaReader, http.MethodGet, "/v2/schemas/metadefs/namespaces", nil).obj(t)
	field(t, list, "links", []map[string]string{
		{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"},
	})
	s.do(t, AlphaReader, http.MethodPost, "/v2/schemas/metadefs/tag", nil).expect(t, http.StatusMethodNotAllowed)
}

// testMetadefStandard reads definitions of the standard files.
func testMetadefStandard(t *testing.T, s *suite) {
	const wd = "OS::Compute::Watchdog"
	ns := s.do(t, AlphaReader, http.MethodGet, nsPath(wd), nil).must(t, http.StatusOK).obj(t)
	field(t, ns, "display_name", "Watchdog Behavior")
	field(t, ns, "visibility", "public")
	field(t, ns, "protected", true)
	field(t, ns, "owner", "admin")
	field(t, ns, "self", "/v2/metadefs/namespaces/"+wd)
	field(t, ns, "schema", "/v2/schemas/metadefs/namespace")
	noField(t, ns, "updated_at")
	props, _ := ns["properties"].(map[string]any)
	action, _ := props["watchdog_action"].(map[string]any)
	field(t, action, "enum", []string{"disabled", "reset", "poweroff", "pause", "none"})
	var names []string
	for _, a := range objs(t, ns, "resource_type_associations") {
		names = append(names, str(a, "name"))
		if str(a, "name") == "OS::Cinder::Volume" {
			field(t, a, "properties_target", "image")
			field(t, a, "prefix", "hw_")
		}
	}
	if !jsonEqual(names, []string{"OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor"}) {
		t.Errorf("associations of %s: %v", wd, names)
	}
	img := s.do(t, AlphaReader, http.MethodGet, nsPath(wd)+"?resource_type=OS::Glance::Image", nil).must(t, http.StatusOK).obj(t)
	props, _ = img["properties"].(map[string]any)
	if _, ok := props["hw_watchdog_action"]; !ok || len(props) != 1 {
		t.Errorf("properties for OS::Glance::Image: %v, want hw_watchdog_action", keys(props))
	}
	p := s.do(t, AlphaReader, http.MethodGet, nsPath(wd, "properties", "hw_watchdog_action")+"?resource_type=OS::Glance::Image", nil).
		must(t, http.StatusOK).obj(t)
	field(t, p, "name", "watchdog_action")
	field(t, p, "title", "Watchdog Action")

	// An integer default reads back as a string; objects and properties come by name.
	dbms := s.do(t, AlphaReader, http.MethodGet, nsPath("OS::Software::DBMS", "objects"), nil).must(t, http.StatusOK).obj(t)
	var objNames []string
	for _, o := range objs(t, dbms, "objects") {
		objNames = append(objNames, str(o, "name"))
	}
	if !jsonEqual(objNames[:4], []string{"Apache Cassandra", "CouchDB", "Couchbase Server", "DB2"}) {
		t.Errorf("DBMS objects %v, want by name", objNames)
	}
	mongo := s.do(t, AlphaReader, http.MethodGet, nsPath("OS::Software::DBMS", "objects", "MongoDB"), nil).must(t, http.StatusOK).obj(t)
	field(t, mongo, "required", []string{})
	mp, _ := mongo["properties"].(map[string]any)
	port, _ := mp["sw_database_mongodb_listen_port"].(map[string]any)
	field(t, port, "default", "27017")
	field(t, port, "maximum", 65535)

	rts := s.do(t, AlphaReader, http.MethodGet, "/v2/metadefs/resource_types", nil).must(t, http.StatusOK).obj(t)
	var rtNames []string
	for _, rt := range objs(t, rts, "resource_types") {
		rtNames = append(rtNames, str(rt, "name"))
		fieldType(t, rt, "created_at", "string")
	}
	for _, want := range []string{"OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Server", "OS::Nova::Aggregate", "OS::Trove::Instance"} {
		if !contains(rtNames, want) {
			t.Errorf("resource types %v lack %s", rtNames, want)
		}
	}
	// The common image properties are private to the admin project:
	// shown as private, yet not matched by visibility=private.
	r := s.do(t, Admin, http.MethodGet, nsPath("OS::Glance::CommonImageProperties"), nil).must(t, http.StatusOK).obj(t)
	field(t, r, "visibility", "private")
	priv := s.do(t, Admin, http.MethodGet, mdNS+"?visibility=private&limit=1000", nil).must(t, http.StatusOK).obj(t)
	for _, n := range objs(t, priv, "namespaces") {
		if str(n, "namespace") == "OS::Glance::CommonImageProperties" {
			t.Errorf("visibility=private lists OS::Glance::CommonImageProperties")
		}
	}
}

package conformance

import (
	"net/http"
	"slices"
	"testing"
)

// Standard disk and container formats of a default configuration.
var (
	diskFormats      = []any{nil, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	containerFormats = []any{nil, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	imageStatuses    = []any{"queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"}
)

func testSchemas(t *testing.T, s *suite) {
	schemaImage(t, s)
	schemaOthers(t, s)
}

// getSchema gets the schema name as a reader and checks its name and
// properties.
func getSchema(t *testing.T, s *suite, name string) map[string]any {
	t.Helper()
	r := s.do(t, AlphaReader, http.MethodGet, "/v2/schemas/"+name, nil).must(t, http.StatusOK)
	r.requestID(t)
	sc := r.obj(t)
	field(t, sc, "name", name)
	fieldType(t, sc, "properties", "object")
	return sc
}

// schemaProps are the properties of schema sc, by name.
func schemaProps(t *testing.T, sc map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for k, v := range sc["properties"].(map[string]any) {
		p, ok := v.(map[string]any)
		if !ok {
			t.Errorf("property %s = %#v, want an object", k, v)
			continue
		}
		out[k] = p
	}
	return out
}

// schemaImage: the image schema's properties, as Glance defines them.
func schemaImage(t *testing.T, s *suite) {
	t.Run("Image", func(t *testing.T) {
		sc := getSchema(t, s, "image")
		field(t, sc, "additionalProperties", map[string]any{"type": "string"})
		field(t, sc, "links", []map[string]string{
			{"rel": "self", "href": "{self}"},
			{"rel": "enclosure", "href": "{file}"},
			{"rel": "describedby", "href": "{schema}"},
		})
		ps := schemaProps(t, sc)
		types := map[string]any{
			"id": "string", "name": []string{"null", "string"}, "status": "string",
			"visibility": "string", "protected": "boolean", "os_hidden": "boolean",
			"checksum": []string{"null", "string"}, "os_hash_algo": []string{"null", "string"},
			"os_hash_value": []string{"null", "string"}, "owner": []string{"null", "string"},
			"size": []string{"null", "integer"}, "virtual_size": []string{"null", "integer"},
			"container_format": []string{"null", "string"}, "disk_format": []string{"null", "string"},
			"min_ram": "integer", "min_disk": "integer", "created_at": "string", "updated_at": "string",
			"tags": "array", "self": "string", "file": "string", "schema": "string",
			"direct_url": "string", "locations": "array",
		}
		readOnly := []string{"status", "checksum", "os_hash_algo", "os_hash_value", "size",
			"virtual_size", "created_at", "updated_at", "self", "file", "schema", "direct_url"}
		for k, ty := range types {
			p, ok := ps[k]
			if !ok {
				t.Errorf("image schema lacks property %q", k)
				continue
			}
			field(t, p, "type", ty)
			if slices.Contains(readOnly, k) {
				field(t, p, "readOnly", true)
			} else if p["readOnly"] == true {
				t.Errorf("property %q is readOnly, want writable", k)
			}
		}
		field(t, ps["disk_format"], "enum", diskFormats)
		field(t, ps["container_format"], "enum", containerFormats)
		field(t, ps["visibility"], "enum", []string{"community", "public", "private", "shared"})
		field(t, ps["status"], "enum", imageStatuses)
		field(t, ps["name"], "maxLength", 255)
		field(t, ps["id"], "pattern", "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$")
		if s.tg.Stores != nil {
			fieldType(t, ps["stores"], "type", "string")
		}
	})
}

// schemaOthers: the images, member and members schemas, and an unknown one.
func schemaOthers(t *testing.T, s *suite) {
	t.Run("Images", func(t *testing.T) {
		sc := getSchema(t, s, "images")
		ps := schemaProps(t, sc)
		if got := keys(sc["properties"].(map[string]any)); !slices.Equal(got, []string{"first", "images", "next", "schema"}) {
			t.Errorf("images schema properties %v", got)
		}
		field(t, ps["images"], "type", "array")
		if items, ok := ps["images"]["items"].(map[string]any); !ok || items["name"] != "image" {
			t.Errorf("images items is not the image schema: %v", ps["images"]["items"])
		}
		field(t, sc, "links", []map[string]string{
			{"rel": "first", "href": "{first}"},
			{"rel": "next", "href": "{next}"},
			{"rel": "describedby", "href": "{schema}"},
		})
	})

	t.Run("Member", func(t *testing.T) {
		sc := getSchema(t, s, "member")
		if got := keys(sc["properties"].(map[string]any)); !slices.Equal(got,
			[]string{"created_at", "image_id", "member_id", "schema", "status", "updated_at"}) {
			t.Errorf("member schema properties %v", got)
		}
		field(t, schemaProps(t, sc)["status"], "enum", []string{"pending", "accepted", "rejected"})
	})

	t.Run("Members", func(t *testing.T) {
		sc := getSchema(t, s, "members")
		if got := keys(sc["properties"].(map[string]any)); !slices.Equal(got, []string{"members", "schema"}) {
			t.Errorf("members schema properties %v", got)
		}
		field(t, sc, "links", []map[string]string{{"rel": "describedby", "href": "{schema}"}})
	})

	t.Run("Unknown", func(t *testing.T) {
		s.do(t, AlphaReader, http.MethodGet, "/v2/schemas/nothing", nil).expect(t, http.StatusNotFound)
	})
}

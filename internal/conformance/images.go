package conformance

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

// baseFields are the keys of a new image without custom properties.
var baseFields = []string{
	"id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
	"os_hash_algo", "os_hash_value", "owner", "size", "virtual_size",
	"container_format", "disk_format", "min_ram", "min_disk", "created_at",
	"updated_at", "tags", "self", "file", "schema",
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// checkImage checks the fields every image representation has.
func checkImage(t *testing.T, img map[string]any) {
	t.Helper()
	id := str(img, "id")
	if !uuidRE.MatchString(id) {
		t.Errorf("id %q is not a UUID", id)
	}
	fieldType(t, img, "name", "string", "null")
	fieldType(t, img, "status", "string")
	fieldType(t, img, "visibility", "string")
	fieldType(t, img, "protected", "boolean")
	fieldType(t, img, "os_hidden", "boolean")
	fieldType(t, img, "checksum", "string", "null")
	fieldType(t, img, "os_hash_algo", "string", "null")
	fieldType(t, img, "os_hash_value", "string", "null")
	fieldType(t, img, "owner", "string", "null")
	fieldType(t, img, "size", "number", "null")
	fieldType(t, img, "virtual_size", "number", "null")
	fieldType(t, img, "container_format", "string", "null")
	fieldType(t, img, "disk_format", "string", "null")
	fieldType(t, img, "min_ram", "number")
	fieldType(t, img, "min_disk", "number")
	fieldType(t, img, "tags", "array")
	for _, k := range []string{"created_at", "updated_at"} {
		if v := str(img, k); !timeRE.MatchString(v) {
			t.Errorf("%s = %#v, want YYYY-MM-DDThh:mm:ssZ", k, img[k])
		}
	}
	field(t, img, "self", "/v2/images/"+id)
	field(t, img, "file", "/v2/images/"+id+"/file")
	field(t, img, "schema", "/v2/schemas/image")
}

// keys returns the sorted keys of m.
func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func testCreate(t *testing.T, s *suite) {
	createDefaults(t, s)
	createFields(t, s)
	createIDs(t, s)
	createRefused(t, s)
	createBadBodies(t, s)
}

// createDefaults: a created image's fields and defaults, with and without a
// name.
func createDefaults(t *testing.T, s *suite) {
	t.Run("Defaults", func(t *testing.T) {
		name := s.name("defaults")
		r := s.do(t, AlphaMember, http.MethodPost, "/v2/images", map[string]any{"name": name})
		r.must(t, http.StatusCreated)
		img := r.obj(t)
		s.cleanup(t, str(img, "id"))
		r.requestID(t)
		r.header(t, "Location", s.tg.URL+"/v2/images/"+str(img, "id"))
		if m := r.Header.Get("OpenStack-image-import-methods"); m == "" {
			t.Errorf("no OpenStack-image-import-methods header")
		} else {
			s.checkImportMethods(t, strings.Split(m, ","))
		}
		s.checkStoreIDs(t, r)
		checkImage(t, img)
		want := slices.Sorted(slices.Values(baseFields))
		if got := keys(img); !slices.Equal(got, want) {
			t.Errorf("new image has fields %v, want %v", got, want)
		}
		field(t, img, "name", name)
		field(t, img, "status", "queued")
		field(t, img, "visibility", "shared")
		field(t, img, "protected", false)
		field(t, img, "os_hidden", false)
		field(t, img, "owner", s.project(t, AlphaMember))
		field(t, img, "min_ram", 0)
		field(t, img, "min_disk", 0)
		field(t, img, "tags", []string{})
		for _, k := range []string{"checksum", "os_hash_algo", "os_hash_value", "size",
			"virtual_size", "container_format", "disk_format"} {
			field(t, img, k, nil)
		}
		if img["created_at"] != img["updated_at"] {
			t.Errorf("created_at %v != updated_at %v on a new image", img["created_at"], img["updated_at"])
		}
		// Show gives the same representation.
		got := s.show(t, AlphaMember, str(img, "id"))
		if !jsonEqual(got, img) {
			t.Errorf("show differs from create:\n got %v\nwant %v", got, img)
		}
	})

	t.Run("NoName", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"name": nil})
		field(t, img, "name", nil)
	})
}

// createFields: every settable field, community visibility, non-ASCII text
// and an owner set by the admin.
func createFields(t *testing.T, s *suite) {
	t.Run("AllFields", func(t *testing.T) {
		id := newUUID()
		body := map[string]any{
			"id": id, "name": s.name("all"), "visibility": "private",
			"protected": true, "os_hidden": true, "container_format": "bare",
			"disk_format": "qcow2", "min_ram": 512, "min_disk": 2,
			"tags": []string{"one", "two", "one"}, "os_distro": "ubuntu",
			"my_prop": "my value", "login-user": "root", "empty": "",
		}
		r := s.do(t, AlphaMember, http.MethodPost, "/v2/images", body)
		r.must(t, http.StatusCreated)
		s.cleanup(t, id)
		img := r.obj(t)
		checkImage(t, img)
		for k, v := range body {
			if k != "tags" {
				field(t, img, k, v)
			}
		}
		tags, _ := img["tags"].([]any)
		if !jsonEqual(sortedAny(tags), []string{"one", "two"}) {
			t.Errorf("tags %v, want one and two once each", tags)
		}
		got := s.show(t, AlphaMember, id)
		if !jsonEqual(sortAnyTags(got), sortAnyTags(img)) {
			t.Errorf("show differs from create:\n got %v\nwant %v", got, img)
		}
	})

	t.Run("Community", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"visibility": "community"})
		field(t, img, "visibility", "community")
	})

	t.Run("UnicodeName", func(t *testing.T) {
		name := s.name("ünïcode ☃")
		img := s.create(t, AlphaMember, map[string]any{"name": name, "description": "żółw"})
		field(t, img, "name", name)
		field(t, img, "description", "żółw")
		sameIDs(t, "by name", s.ids(t, AlphaMember, "name="+url.QueryEscape(name)), str(img, "id"))
	})

	t.Run("AdminSetsOwner", func(t *testing.T) {
		beta := s.project(t, BetaMember)
		img := s.create(t, Admin, map[string]any{"owner": beta})
		field(t, img, "owner", beta)
		// The owner project sees and manages it.
		s.show(t, BetaMember, str(img, "id"))
		s.patch(t, BetaMember, str(img, "id"), op("replace", "/name", "x")).expect(t, http.StatusOK)
	})
}

// createIDs: an ID in use, or once used, is refused.
func createIDs(t *testing.T, s *suite) {
	t.Run("DuplicateID", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		r := s.do(t, AlphaMember, http.MethodPost, "/v2/images",
			map[string]any{"id": str(img, "id"), "name": s.name("dup")})
		r.expect(t, http.StatusConflict)
		r.requestID(t)
	})

	t.Run("DeletedID", func(t *testing.T) {
		// The ID of a deleted image stays taken.
		img := s.create(t, AlphaMember, nil)
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+str(img, "id"), nil).must(t, http.StatusNoContent)
		r := s.do(t, AlphaMember, http.MethodPost, "/v2/images", map[string]any{"id": str(img, "id")})
		if r.Status == http.StatusCreated {
			s.cleanup(t, str(img, "id"))
		}
		r.expect(t, http.StatusConflict)
	})
}

// createRefused: fields Glance refuses, and its answers.
func createRefused(t *testing.T, s *suite) {
	bad := []struct {
		name string
		body map[string]any
		code int
	}{
		{"BadDiskFormat", map[string]any{"disk_format": "floppy"}, 400},
		{"BadContainerFormat", map[string]any{"container_format": "crate"}, 400},
		{"BadVisibility", map[string]any{"visibility": "everyone"}, 400},
		{"NegativeMinRAM", map[string]any{"min_ram": -1}, 400},
		{"NegativeMinDisk", map[string]any{"min_disk": -1}, 400},
		{"StringMinRAM", map[string]any{"min_ram": "512"}, 400},
		{"NameTooLong", map[string]any{"name": strings.Repeat("n", 256)}, 400},
		{"BadID", map[string]any{"id": "not-a-uuid"}, 400},
		{"NumericProperty", map[string]any{"answer": 42}, 400},
		{"ObjectProperty", map[string]any{"nested": map[string]any{"a": "b"}}, 400},
		{"ProtectedNotBool", map[string]any{"protected": "yes"}, 400},
		{"TagsNotArray", map[string]any{"tags": "a,b"}, 400},
		{"TagTooLong", map[string]any{"tags": []string{strings.Repeat("t", 256)}}, 400},
		{"ForeignOwner", map[string]any{"owner": "someone-else"}, 403},
		{"Public", map[string]any{"visibility": "public"}, 403},
		// Read-only attributes.
		{"ReadOnlyStatus", map[string]any{"status": "active"}, 403},
		{"ReadOnlyChecksum", map[string]any{"checksum": "0123456789abcdef0123456789abcdef"}, 403},
		{"ReadOnlySize", map[string]any{"size": 10}, 403},
		{"ReadOnlyVirtualSize", map[string]any{"virtual_size": 10}, 403},
		{"ReadOnlyCreatedAt", map[string]any{"created_at": "2020-01-01T00:00:00Z"}, 403},
		{"ReadOnlyUpdatedAt", map[string]any{"updated_at": "2020-01-01T00:00:00Z"}, 403},
		{"ReadOnlyDirectURL", map[string]any{"direct_url": "file:///x"}, 403},
		{"ReadOnlySelf", map[string]any{"self": "/v2/images/x"}, 403},
		{"ReadOnlyFile", map[string]any{"file": "/v2/images/x/file"}, 403},
		{"ReadOnlySchema", map[string]any{"schema": "/v2/schemas/image"}, 403},
		// Reserved attributes.
		{"ReservedLocation", map[string]any{"location": "file:///x"}, 403},
		{"ReservedLocations", map[string]any{"locations": []any{}}, 403},
		{"ReservedDeleted", map[string]any{"deleted": "false"}, 403},
		{"ReservedDeletedAt", map[string]any{"deleted_at": "2020-01-01T00:00:00Z"}, 403},
		{"ReservedOsGlance", map[string]any{"os_glance_foo": "bar"}, 403},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			body := map[string]any{"name": s.name("bad")}
			maps.Copy(body, c.body)
			r := s.do(t, AlphaMember, http.MethodPost, "/v2/images", body)
			if r.Status == http.StatusCreated {
				s.cleanup(t, str(r.obj(t), "id"))
			}
			r.expect(t, c.code)
			r.plainError(t, c.code)
		})
	}
}

// createBadBodies: bodies that are not a JSON object.
func createBadBodies(t *testing.T, s *suite) {
	bodies := []struct {
		name string
		body raw
	}{
		{"EmptyBody", raw("")},
		{"MalformedJSON", raw(`{"name":`)},
		{"StringBody", raw(`"name"`)},
		// The real Glance answers a JSON array with a 500; it must at
		// least refuse it.
		{"ArrayBody", raw(`["name"]`)},
	}
	for _, c := range bodies {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, AlphaMember, http.MethodPost, "/v2/images", c.body, "Content-Type", "application/json")
			if r.Status == http.StatusCreated {
				s.cleanup(t, str(r.obj(t), "id"))
			}
			if string(c.body) == `["name"]` {
				if r.Status < 400 {
					t.Errorf("%s; want it refused", r)
				}
				return
			}
			r.expect(t, http.StatusBadRequest)
		})
	}
}

// checkStoreIDs checks the OpenStack-image-store-ids header of an image
// creation: the configured stores, in order, and no header with a single
// store. The real Glance also lists its reserved os_glance_* stores
// there; they are internal, so they are left out of the comparison.
func (s *suite) checkStoreIDs(t *testing.T, r *resp) {
	t.Helper()
	h, ok := r.Header["Openstack-Image-Store-Ids"]
	if s.tg.Stores == nil {
		if ok {
			t.Errorf("%s: OpenStack-image-store-ids %q on a single-store endpoint", r.what, h)
		}
		return
	}
	var got []string
	for id := range strings.SplitSeq(r.Header.Get("OpenStack-image-store-ids"), ",") {
		if !strings.HasPrefix(id, "os_glance_") {
			got = append(got, id)
		}
	}
	if !slices.Equal(got, s.tg.Stores) {
		t.Errorf("%s: OpenStack-image-store-ids %q, want %q", r.what, r.Header.Get("OpenStack-image-store-ids"), s.tg.Stores)
	}
}

// sortedAny returns the strings of a JSON array, sorted.
func sortedAny(a []any) []string {
	var out []string
	for _, v := range a {
		s, _ := v.(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// sortAnyTags returns a copy of img with its tags sorted, since tags are
// a set and their order is not part of the API.
func sortAnyTags(img map[string]any) map[string]any {
	c := maps.Clone(img)
	if tags, ok := c["tags"].([]any); ok {
		c["tags"] = sortedAny(tags)
	}
	return c
}

func testShow(t *testing.T, s *suite) {
	t.Run("Unknown", func(t *testing.T) {
		id := newUUID()
		r := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id, nil)
		r.expect(t, http.StatusNotFound)
		r.requestID(t)
	})
	t.Run("Empty", func(t *testing.T) {
		// "/v2/images/" is no image; tempest wants 404 here.
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/", nil).expect(t, http.StatusNotFound)
	})
	t.Run("NotUUID", func(t *testing.T) {
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/not-an-image", nil).expect(t, http.StatusNotFound)
	})
	t.Run("TooLong", func(t *testing.T) {
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+newUUID()+"0", nil).expect(t, http.StatusNotFound)
	})
	t.Run("Reader", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"visibility": "private"})
		got := s.show(t, AlphaReader, str(img, "id"))
		checkImage(t, got)
		field(t, got, "id", str(img, "id"))
	})
}

func testDelete(t *testing.T, s *suite) {
	t.Run("Delete", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		r := s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+id, nil)
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		r.requestID(t)
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id, nil).expect(t, http.StatusNotFound)
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusNotFound)
		s.do(t, Admin, http.MethodGet, "/v2/images/"+id, nil).expect(t, http.StatusNotFound)
		if contains(s.ids(t, AlphaMember, "name="+str(img, "name")), id) {
			t.Errorf("deleted image %s still listed", id)
		}
	})
	t.Run("DeleteActive", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, []byte("some data"))
		id := str(img, "id")
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusNoContent)
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/file", nil).expect(t, http.StatusNotFound)
	})
	t.Run("Unknown", func(t *testing.T) {
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+newUUID(), nil).expect(t, http.StatusNotFound)
	})
	t.Run("Empty", func(t *testing.T) {
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/", nil).expect(t, http.StatusNotFound, http.StatusMethodNotAllowed)
	})
	t.Run("Protected", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"protected": true})
		id := str(img, "id")
		r := s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+id, nil)
		r.expect(t, http.StatusForbidden)
		s.do(t, Admin, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusForbidden)
		s.show(t, AlphaMember, id)
		s.patch(t, AlphaMember, id, op("replace", "/protected", false)).expect(t, http.StatusOK)
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusNoContent)
	})
	t.Run("ByReader", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.do(t, AlphaReader, http.MethodDelete, "/v2/images/"+str(img, "id"), nil).expect(t, http.StatusForbidden)
		s.show(t, AlphaMember, str(img, "id"))
	})
	t.Run("ByOtherProject", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"visibility": "private"})
		// Invisible to beta: 404, not 403.
		s.do(t, BetaMember, http.MethodDelete, "/v2/images/"+str(img, "id"), nil).expect(t, http.StatusNotFound)
		s.show(t, AlphaMember, str(img, "id"))
	})
	t.Run("ByAdmin", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.do(t, Admin, http.MethodDelete, "/v2/images/"+str(img, "id"), nil).expect(t, http.StatusNoContent)
	})
}

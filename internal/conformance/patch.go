package conformance

import (
	"net/http"
	"testing"
)

func testPatch(t *testing.T, s *suite) {
	patchAddReplaceRemove(t, s)
	patchForms(t, s)
	patchRefused(t, s)
	patchRequests(t, s)
	patchAccess(t, s)
}

// patchAddReplaceRemove: a v2.1 patch adds, replaces and removes base fields
// and properties.
func patchAddReplaceRemove(t *testing.T, s *suite) {
	t.Run("V21AddReplaceRemove", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		r := s.patch(t, AlphaMember, id,
			op("add", "/color", "blue"),
			op("replace", "/name", s.name("renamed")),
			op("add", "/login-user", "root"),
			op("replace", "/min_ram", 256),
			op("replace", "/protected", true),
			op("replace", "/os_hidden", true),
			op("replace", "/visibility", "private"),
			op("replace", "/disk_format", "qcow2"),
			op("replace", "/container_format", "bare"),
			op("add", "/a~1b~0c", "escaped"))
		r.must(t, http.StatusOK)
		r.requestID(t)
		got := r.obj(t)
		checkImage(t, got)
		field(t, got, "color", "blue")
		field(t, got, "name", s.name("renamed"))
		field(t, got, "login-user", "root")
		field(t, got, "min_ram", 256)
		field(t, got, "protected", true)
		field(t, got, "os_hidden", true)
		field(t, got, "visibility", "private")
		field(t, got, "disk_format", "qcow2")
		field(t, got, "container_format", "bare")
		field(t, got, "a/b~c", "escaped")
		if !jsonEqual(got, s.show(t, AlphaMember, id)) {
			t.Errorf("PATCH answer differs from show")
		}
		// Hidden now: listed only on request.
		q := "name=" + s.name("renamed")
		if contains(s.ids(t, AlphaMember, q), id) {
			t.Errorf("hidden image in the default list")
		}
		if !contains(s.ids(t, AlphaMember, q+"&os_hidden=true"), id) {
			t.Errorf("hidden image missing with os_hidden=true")
		}
		got = s.patch(t, AlphaMember, id,
			op("replace", "/color", "red"),
			op("remove", "/login-user"),
			op("replace", "/name", nil),
			op("replace", "/disk_format", nil)).must(t, http.StatusOK).obj(t)
		field(t, got, "color", "red")
		noField(t, got, "login-user")
		field(t, got, "name", nil)
		field(t, got, "disk_format", nil)
	})
}

// patchForms: the v2.0 media type, add on an existing property, tags, an
// empty patch, and a patch that fails as a whole.
func patchForms(t *testing.T, s *suite) {
	t.Run("V20MediaType", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		v20 := func(ops ...map[string]any) *resp {
			return s.do(t, AlphaMember, http.MethodPatch, "/v2/images/"+id, ops, "Content-Type", patchV20)
		}
		got := v20(map[string]any{"add": "/color", "value": "blue"},
			map[string]any{"replace": "/name", "value": "v20"}).must(t, http.StatusOK).obj(t)
		field(t, got, "color", "blue")
		field(t, got, "name", "v20")
		// With v2.0, adding a property that exists is a conflict ...
		v20(map[string]any{"add": "/color", "value": "red"}).expect(t, http.StatusConflict)
		got = v20(map[string]any{"remove": "/color"}).must(t, http.StatusOK).obj(t)
		noField(t, got, "color")
		// ... and an operation has exactly one of add, replace, remove.
		v20(map[string]any{"add": "/x", "replace": "/y", "value": "z"}).expect(t, http.StatusBadRequest)
		v20(map[string]any{"op": "add", "path": "/x", "value": "z"}).expect(t, http.StatusBadRequest)
	})

	t.Run("V21AddOverwrites", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"color": "blue"})
		got := s.patch(t, AlphaMember, str(img, "id"), op("add", "/color", "red")).must(t, http.StatusOK).obj(t)
		field(t, got, "color", "red")
		got = s.patch(t, AlphaMember, str(img, "id"), op("add", "/name", "added")).must(t, http.StatusOK).obj(t)
		field(t, got, "name", "added")
	})

	t.Run("Tags", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"tags": []string{"old"}})
		got := s.patch(t, AlphaMember, str(img, "id"), op("replace", "/tags", []string{"x", "y", "x"})).must(t, http.StatusOK).obj(t)
		tags, _ := got["tags"].([]any)
		if !jsonEqual(sortedAny(tags), []string{"x", "y"}) {
			t.Errorf("tags %v, want x and y", tags)
		}
		got = s.patch(t, AlphaMember, str(img, "id"), op("replace", "/tags", []string{})).must(t, http.StatusOK).obj(t)
		field(t, got, "tags", []string{})
	})

	t.Run("Empty", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		got := s.patch(t, AlphaMember, str(img, "id")).must(t, http.StatusOK).obj(t)
		field(t, got, "name", str(img, "name"))
	})

	t.Run("Atomic", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		s.patch(t, AlphaMember, id, op("add", "/color", "blue"), op("replace", "/missing", "x")).
			expect(t, http.StatusConflict)
		noField(t, s.show(t, AlphaMember, id), "color")
	})
}

// patchRefused: the operations Glance refuses, and its answers.
func patchRefused(t *testing.T, s *suite) {
	// Each case runs on a fresh queued image owned by alpha.
	cases := []struct {
		name string
		ops  []map[string]any
		code int
	}{
		{"ReplaceMissing", []map[string]any{op("replace", "/nothere", "x")}, 409},
		{"RemoveMissing", []map[string]any{op("remove", "/nothere")}, 409},
		{"RemoveBase", []map[string]any{op("remove", "/name")}, 403},
		{"RemoveMinRAM", []map[string]any{op("remove", "/min_ram")}, 403},
		{"ReplaceStatus", []map[string]any{op("replace", "/status", "active")}, 403},
		{"ReplaceChecksum", []map[string]any{op("replace", "/checksum", "0123456789abcdef0123456789abcdef")}, 403},
		{"ReplaceSize", []map[string]any{op("replace", "/size", 10)}, 403},
		{"ReplaceVirtualSize", []map[string]any{op("replace", "/virtual_size", 10)}, 403},
		{"ReplaceCreatedAt", []map[string]any{op("replace", "/created_at", "2020-01-01T00:00:00Z")}, 403},
		{"ReplaceUpdatedAt", []map[string]any{op("replace", "/updated_at", "2020-01-01T00:00:00Z")}, 403},
		{"ReplaceID", []map[string]any{op("replace", "/id", newUUID())}, 403},
		{"ReplaceSelf", []map[string]any{op("replace", "/self", "x")}, 403},
		{"ReplaceFile", []map[string]any{op("replace", "/file", "x")}, 403},
		{"ReplaceSchema", []map[string]any{op("replace", "/schema", "x")}, 403},
		{"AddDirectURL", []map[string]any{op("add", "/direct_url", "file:///x")}, 403},
		{"ReplaceHashAlgo", []map[string]any{op("replace", "/os_hash_algo", "md5")}, 403},
		{"ReplaceHashValue", []map[string]any{op("replace", "/os_hash_value", "00")}, 403},
		{"AddOsGlance", []map[string]any{op("add", "/os_glance_foo", "bar")}, 403},
		{"AddDeleted", []map[string]any{op("add", "/deleted", "true")}, 403},
		{"AddDeletedAt", []map[string]any{op("add", "/deleted_at", "2020-01-01T00:00:00Z")}, 403},
		{"AddLocation", []map[string]any{op("add", "/location", "file:///x")}, 403},
		{"ReplaceOwner", []map[string]any{op("replace", "/owner", "someone-else")}, 403},
		{"Publicize", []map[string]any{op("replace", "/visibility", "public")}, 403},
		{"BadVisibility", []map[string]any{op("replace", "/visibility", "everyone")}, 400},
		{"BadDiskFormat", []map[string]any{op("replace", "/disk_format", "floppy")}, 400},
		{"BadContainerFormat", []map[string]any{op("replace", "/container_format", "crate")}, 400},
		{"NegativeMinDisk", []map[string]any{op("replace", "/min_disk", -1)}, 400},
		{"HiddenNotBool", []map[string]any{op("replace", "/os_hidden", "yes")}, 400},
		{"NumericProperty", []map[string]any{op("add", "/answer", 42)}, 400},
		{"NameTooLong", []map[string]any{op("replace", "/name", string(make([]byte, 256)))}, 400},
		{"TagsNotArray", []map[string]any{op("replace", "/tags", "a")}, 400},
		{"UnknownOp", []map[string]any{op("move", "/name", "x")}, 400},
		{"TestOp", []map[string]any{op("test", "/name", "x")}, 400},
		{"NoValue", []map[string]any{op("add", "/color")}, 400},
		{"NoPath", []map[string]any{{"op": "add", "value": "x"}}, 400},
		{"NoOp", []map[string]any{{"path": "/color", "value": "x"}}, 400},
		{"PathNoSlash", []map[string]any{op("add", "color", "x")}, 400},
		{"PathDeep", []map[string]any{op("add", "/color/shade", "x")}, 400},
		{"BadEscape", []map[string]any{op("add", "/a~2b", "x")}, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := s.create(t, AlphaMember, nil)
			r := s.patch(t, AlphaMember, str(img, "id"), c.ops...)
			r.expect(t, c.code)
			r.plainError(t, c.code)
		})
	}
}

// patchRequests: bodies and media types that are not a patch, and the
// formats of an active image.
func patchRequests(t *testing.T, s *suite) {
	t.Run("NotAnArray", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		for _, b := range []string{`{"op":"add","path":"/a","value":"b"}`, `"x"`, `[1]`, `[`, ``} {
			r := s.do(t, AlphaMember, http.MethodPatch, "/v2/images/"+str(img, "id"), raw(b), "Content-Type", patchV21)
			r.expect(t, http.StatusBadRequest)
		}
	})

	t.Run("WrongMediaType", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		for _, ct := range []string{"application/json", "application/json-patch+json", "text/plain"} {
			r := s.do(t, AlphaMember, http.MethodPatch, "/v2/images/"+str(img, "id"),
				[]map[string]any{op("replace", "/name", "x")}, "Content-Type", ct)
			r.expect(t, http.StatusUnsupportedMediaType)
			r.header(t, "Accept-Patch", patchV20+", "+patchV21)
		}
		field(t, s.show(t, AlphaMember, str(img, "id")), "name", str(img, "name"))
	})

	t.Run("FormatOfActiveImage", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, []byte("data"))
		s.patch(t, AlphaMember, str(img, "id"), op("replace", "/disk_format", "qcow2")).expect(t, http.StatusForbidden)
		s.patch(t, AlphaMember, str(img, "id"), op("replace", "/container_format", "ovf")).expect(t, http.StatusForbidden)
		// Other fields still change.
		s.patch(t, AlphaMember, str(img, "id"), op("replace", "/min_disk", 1)).expect(t, http.StatusOK)
	})
}

// patchAccess: what the admin, readers and other projects may patch.
func patchAccess(t *testing.T, s *suite) {
	t.Run("AdminOwner", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		beta := s.project(t, BetaMember)
		got := s.patch(t, Admin, str(img, "id"), op("replace", "/owner", beta)).must(t, http.StatusOK).obj(t)
		field(t, got, "owner", beta)
		s.show(t, BetaMember, str(img, "id"))
	})

	t.Run("AdminPublicize", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		got := s.patch(t, Admin, str(img, "id"), op("replace", "/visibility", "public")).must(t, http.StatusOK).obj(t)
		field(t, got, "visibility", "public")
		s.show(t, BetaMember, str(img, "id"))
	})

	t.Run("Community", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		got := s.patch(t, AlphaMember, str(img, "id"), op("replace", "/visibility", "community")).must(t, http.StatusOK).obj(t)
		field(t, got, "visibility", "community")
		// Anyone may see a community image; it is listed only on request.
		s.show(t, BetaMember, str(img, "id"))
		if contains(s.ids(t, BetaMember, "name="+str(img, "name")), str(img, "id")) {
			t.Errorf("community image in another project's default list")
		}
		if !contains(s.ids(t, BetaMember, "visibility=community&name="+str(img, "name")), str(img, "id")) {
			t.Errorf("community image missing from visibility=community list")
		}
	})

	t.Run("Reader", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.patch(t, AlphaReader, str(img, "id"), op("replace", "/name", "x")).expect(t, http.StatusForbidden)
	})
	t.Run("OtherProject", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"visibility": "private"})
		s.patch(t, BetaMember, str(img, "id"), op("replace", "/name", "x")).expect(t, http.StatusNotFound)
	})
	t.Run("OtherProjectPublic", func(t *testing.T) {
		img := s.create(t, Admin, map[string]any{"visibility": "public"})
		s.patch(t, BetaMember, str(img, "id"), op("replace", "/name", "x")).expect(t, http.StatusForbidden)
	})
	t.Run("Unknown", func(t *testing.T) {
		s.patch(t, AlphaMember, newUUID(), op("replace", "/name", "x")).expect(t, http.StatusNotFound)
	})
}

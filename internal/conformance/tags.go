package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func testTags(t *testing.T, s *suite) {
	tagPath := func(id, tag string) string {
		return "/v2/images/" + id + "/tags/" + url.PathEscape(tag)
	}
	hasTag := func(t *testing.T, id, tag string) bool {
		t.Helper()
		tags, _ := s.show(t, AlphaMember, id)["tags"].([]any)
		return contains(sortedAny(tags), tag)
	}

	t.Run("AddDelete", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		id := str(img, "id")
		// Non-ASCII tags are left out: the real Glance decodes the path
		// as Latin-1 and stores mojibake.
		for _, tag := range []string{"plain", "with space", "dots.and-dashes"} {
			r := s.do(t, AlphaMember, http.MethodPut, tagPath(id, tag), nil)
			r.expect(t, http.StatusNoContent)
			r.noBody(t)
			r.requestID(t)
			if !hasTag(t, id, tag) {
				t.Errorf("tag %q not on the image after PUT", tag)
			}
		}
		// Adding a tag twice keeps one.
		s.do(t, AlphaMember, http.MethodPut, tagPath(id, "plain"), nil).expect(t, http.StatusNoContent)
		tags, _ := s.show(t, AlphaMember, id)["tags"].([]any)
		if !jsonEqual(sortedAny(tags), []string{"dots.and-dashes", "plain", "with space"}) {
			t.Errorf("tags %v after adding one twice", tags)
		}
		r := s.do(t, AlphaMember, http.MethodDelete, tagPath(id, "plain"), nil)
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		if hasTag(t, id, "plain") {
			t.Errorf("tag still on the image after DELETE")
		}
		r = s.do(t, AlphaMember, http.MethodDelete, tagPath(id, "plain"), nil)
		r.expect(t, http.StatusNotFound)
		r.plainError(t, http.StatusNotFound)
	})
	t.Run("ListByTag", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		tag := s.name("tagged")
		s.do(t, AlphaMember, http.MethodPut, tagPath(str(img, "id"), tag), nil).must(t, http.StatusNoContent)
		sameIDs(t, "tag="+tag, s.ids(t, AlphaMember, "tag="+url.QueryEscape(tag)), str(img, "id"))
	})
	t.Run("ActiveImage", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, []byte("x"))
		s.do(t, AlphaMember, http.MethodPut, tagPath(str(img, "id"), "late"), nil).expect(t, http.StatusNoContent)
	})
	t.Run("TooLong", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.do(t, AlphaMember, http.MethodPut, tagPath(str(img, "id"), strings.Repeat("t", 256)), nil).
			expect(t, http.StatusBadRequest)
	})
	t.Run("UnknownImage", func(t *testing.T) {
		s.do(t, AlphaMember, http.MethodPut, tagPath(newUUID(), "x"), nil).expect(t, http.StatusNotFound)
		s.do(t, AlphaMember, http.MethodDelete, tagPath(newUUID(), "x"), nil).expect(t, http.StatusNotFound)
	})
	t.Run("Reader", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"tags": []string{"keep"}})
		s.do(t, AlphaReader, http.MethodPut, tagPath(str(img, "id"), "x"), nil).expect(t, http.StatusForbidden)
		s.do(t, AlphaReader, http.MethodDelete, tagPath(str(img, "id"), "keep"), nil).expect(t, http.StatusForbidden)
		if !hasTag(t, str(img, "id"), "keep") || hasTag(t, str(img, "id"), "x") {
			t.Errorf("a reader changed the tags")
		}
	})
	t.Run("OtherProject", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"visibility": "private"})
		s.do(t, BetaMember, http.MethodPut, tagPath(str(img, "id"), "x"), nil).expect(t, http.StatusNotFound)
	})
}

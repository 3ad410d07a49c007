package conformance

import (
	"fmt"
	"net/http"
	"testing"
)

// The default per-image limits of Glance: image_property_quota and
// image_tag_quota.
const (
	propertyQuota = 128
	tagQuota      = 128
)

func testQuotas(t *testing.T, s *suite) {
	props := func(n int) map[string]any {
		m := map[string]any{"name": s.name("quota")}
		for i := range n {
			m[fmt.Sprintf("p%03d", i)] = "v"
		}
		return m
	}
	tags := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("t%03d", i)
		}
		return out
	}

	t.Run("Properties", func(t *testing.T) {
		r := s.do(t, AlphaMember, http.MethodPost, "/v2/images", props(propertyQuota+1))
		if r.Status == http.StatusCreated {
			s.cleanup(t, str(r.obj(t), "id"))
		}
		r.expect(t, http.StatusRequestEntityTooLarge)
		r.plainError(t, http.StatusRequestEntityTooLarge)

		img := s.create(t, AlphaMember, props(propertyQuota))
		id := str(img, "id")
		s.patch(t, AlphaMember, id, op("add", "/one_more", "v")).expect(t, http.StatusRequestEntityTooLarge)
		noField(t, s.show(t, AlphaMember, id), "one_more")
		// Replacing keeps the count.
		s.patch(t, AlphaMember, id, op("replace", "/p000", "w")).expect(t, http.StatusOK)
	})

	t.Run("Tags", func(t *testing.T) {
		r := s.do(t, AlphaMember, http.MethodPost, "/v2/images",
			map[string]any{"name": s.name("quota"), "tags": tags(tagQuota + 1)})
		if r.Status == http.StatusCreated {
			s.cleanup(t, str(r.obj(t), "id"))
		}
		r.expect(t, http.StatusRequestEntityTooLarge)

		img := s.create(t, AlphaMember, map[string]any{"tags": tags(tagQuota)})
		id := str(img, "id")
		s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/tags/extra", nil).expect(t, http.StatusRequestEntityTooLarge)
		s.patch(t, AlphaMember, id, op("replace", "/tags", tags(tagQuota+1))).expect(t, http.StatusRequestEntityTooLarge)
		// A tag already there is no new tag.
		s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/tags/t000", nil).expect(t, http.StatusNoContent)
		if n := len(s.show(t, AlphaMember, id)["tags"].([]any)); n != tagQuota {
			t.Errorf("%d tags, want %d", n, tagQuota)
		}
	})
}

package conformance

import (
	"net/http"
	"strings"
	"testing"
)

func testTenancy(t *testing.T, s *suite) {
	tenancyVisibility(t, s)
	tenancyTokens(t, s)
}

// tenancyVisibility: what other projects see of private, shared and public
// images.
func tenancyVisibility(t *testing.T, s *suite) {
	t.Run("PrivateInvisible", func(t *testing.T) {
		img := s.active(t, AlphaMember, map[string]any{"visibility": "private"}, []byte("secret"))
		id := str(img, "id")
		for _, role := range []Role{BetaMember, BetaReader} {
			s.do(t, role, http.MethodGet, "/v2/images/"+id, nil).expect(t, http.StatusNotFound)
			s.do(t, role, http.MethodGet, "/v2/images/"+id+"/file", nil).expect(t, http.StatusNotFound)
			if contains(s.ids(t, role, "name="+str(img, "name")), id) {
				t.Errorf("%s lists alpha's private image", role)
			}
			if contains(s.ids(t, role, "name="+str(img, "name")+"&visibility=all"), id) {
				t.Errorf("%s lists alpha's private image with visibility=all", role)
			}
		}
		s.do(t, BetaMember, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusNotFound)
		s.do(t, BetaMember, http.MethodPost, "/v2/images/"+id+"/actions/deactivate", nil).expect(t, http.StatusNotFound)
		// Admin sees every project's images.
		s.show(t, Admin, id)
		if !contains(s.ids(t, Admin, "name="+str(img, "name")), id) {
			t.Errorf("admin does not list alpha's private image")
		}
	})

	t.Run("SharedWithoutMembership", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.do(t, BetaMember, http.MethodGet, "/v2/images/"+str(img, "id"), nil).expect(t, http.StatusNotFound)
		if contains(s.ids(t, BetaMember, "name="+str(img, "name")+"&member_status=all"), str(img, "id")) {
			t.Errorf("beta lists alpha's shared image without being a member")
		}
	})

	t.Run("Public", func(t *testing.T) {
		data := []byte("public data")
		img := s.active(t, Admin, map[string]any{"visibility": "public"}, data)
		id := str(img, "id")
		for _, role := range []Role{AlphaMember, AlphaReader, BetaMember, BetaReader} {
			s.show(t, role, id)
			if !contains(s.ids(t, role, "name="+str(img, "name")), id) {
				t.Errorf("%s does not list a public image", role)
			}
		}
		if r := s.do(t, BetaMember, http.MethodGet, "/v2/images/"+id+"/file", nil); r.expect(t, http.StatusOK) && string(r.Body) != string(data) {
			t.Errorf("public download %q, want %q", r.Body, data)
		}
		// Visible but not theirs: refused, not hidden.
		s.patch(t, BetaMember, id, op("replace", "/name", "x")).expect(t, http.StatusForbidden)
		s.do(t, BetaMember, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusForbidden)
		s.do(t, BetaMember, http.MethodPut, "/v2/images/"+id+"/tags/x", nil).expect(t, http.StatusForbidden)
		s.do(t, BetaMember, http.MethodPost, "/v2/images/"+id+"/actions/deactivate", nil).expect(t, http.StatusForbidden)
	})
}

// tenancyTokens: readers cannot create; requests without a valid token are
// refused.
func tenancyTokens(t *testing.T, s *suite) {
	t.Run("ReaderCannotCreate", func(t *testing.T) {
		for _, role := range []Role{AlphaReader, BetaReader} {
			r := s.do(t, role, http.MethodPost, "/v2/images", map[string]any{"name": s.name("reader")})
			if r.Status == http.StatusCreated {
				s.cleanup(t, str(r.obj(t), "id"))
			}
			r.expect(t, http.StatusForbidden)
			r.plainError(t, http.StatusForbidden)
		}
	})

	t.Run("NoToken", func(t *testing.T) {
		for _, p := range []string{"/v2/images", "/v2/images/" + newUUID(), "/v2/schemas/image"} {
			r := s.do(t, "", http.MethodGet, p, nil)
			r.expect(t, http.StatusUnauthorized)
			if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Keystone uri=") {
				t.Errorf("%s: WWW-Authenticate %q, want Keystone uri=...", r.what, h)
			}
		}
		r := s.do(t, "", http.MethodPost, "/v2/images", map[string]any{"name": s.name("anon")})
		if r.Status == http.StatusCreated {
			s.cleanup(t, str(r.obj(t), "id"))
		}
		r.expect(t, http.StatusUnauthorized)
	})

	t.Run("BadToken", func(t *testing.T) {
		r := s.do(t, "", http.MethodGet, "/v2/images", nil, "X-Auth-Token", "not-a-token")
		r.expect(t, http.StatusUnauthorized)
		r.plainError(t, http.StatusUnauthorized)
	})
}

package conformance

import (
	"net/http"
	"testing"
)

func testVersions(t *testing.T, s *suite) {
	// Version negotiation runs before authentication: no token needed.
	t.Run("RootIs300", func(t *testing.T) {
		r := s.do(t, "", http.MethodGet, "/", nil)
		r.expect(t, http.StatusMultipleChoices)
		s.checkVersions(t, r.obj(t))
	})
	t.Run("VersionsIs200", func(t *testing.T) {
		r := s.do(t, "", http.MethodGet, "/versions", nil)
		r.expect(t, http.StatusOK)
		s.checkVersions(t, r.obj(t))
	})
	// An unknown version in the path gets the versions document too.
	for _, p := range []string{"/v1/images", "/v3/images", "/junk"} {
		t.Run("Unknown"+p, func(t *testing.T) {
			r := s.do(t, "", http.MethodGet, p, nil)
			r.expect(t, http.StatusMultipleChoices)
			s.checkVersions(t, r.obj(t))
		})
	}
	// Every version the document lists selects v2 in a path; others
	// get the document.
	t.Run("MinorInPath", func(t *testing.T) {
		doc := s.do(t, "", http.MethodGet, "/versions", nil).must(t, http.StatusOK).obj(t)
		for _, v := range objs(t, doc, "versions") {
			s.do(t, AlphaReader, http.MethodGet, "/"+str(v, "id")+"/images?limit=1", nil).expect(t, http.StatusOK)
		}
		for _, p := range []string{"/v2.99/images", "/v2.x/images", "/images"} {
			s.do(t, AlphaReader, http.MethodGet, p, nil).expect(t, http.StatusMultipleChoices)
		}
	})
	// So does a media type in Accept, with no version in the path.
	t.Run("AcceptHeader", func(t *testing.T) {
		r := s.do(t, AlphaReader, http.MethodGet, "/images?limit=1", nil, "Accept", "application/vnd.openstack.images-v2")
		r.expect(t, http.StatusOK)
	})
}

// checkVersions checks a versions document: every entry has id, status
// and a self link to <endpoint>/v2/; v2.0 to v2.7 are there, the highest
// is the only CURRENT one, the others are SUPPORTED.
func (s *suite) checkVersions(t *testing.T, doc map[string]any) {
	t.Helper()
	vs := objs(t, doc, "versions")
	seen := map[string]string{}
	for _, v := range vs {
		id, status := str(v, "id"), str(v, "status")
		seen[id] = status
		links := objs(t, v, "links")
		if len(links) != 1 {
			t.Errorf("version %s: %d links, want 1", id, len(links))
			continue
		}
		field(t, links[0], "rel", "self")
		field(t, links[0], "href", s.tg.URL+"/v2/")
	}
	want := []string{"v2.0", "v2.1", "v2.2", "v2.3", "v2.4", "v2.5", "v2.6", "v2.7", "v2.9"}
	current := "v2.15"
	if s.tg.Stores != nil {
		want = append(want, "v2.8", "v2.10", "v2.11", "v2.12", "v2.13")
	}
	if s.tg.Cache {
		want = append(want, "v2.14", "v2.16")
		current = "v2.16"
	}
	if s.tg.Newest {
		want = append(want, "v2.17")
		current = "v2.17"
		if s.tg.Cache {
			want = append(want, "v2.18")
			current = "v2.18"
		}
	}
	want = append(want, "v2.15")
	for _, id := range want {
		if _, ok := seen[id]; !ok {
			t.Errorf("version %s missing from %v", id, seen)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("versions %v, want exactly %v", seen, want)
	}
	for id, st := range seen {
		w := "SUPPORTED"
		if id == current {
			w = "CURRENT"
		}
		if st != w {
			t.Errorf("version %s status %q, want %q", id, st, w)
		}
	}
}

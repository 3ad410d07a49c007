package conformance

import (
	"net/http"
	"slices"
	"testing"
)

// checkImportMethods checks that the import methods advertised on image
// creation are those /v2/info/import lists.
func (s *suite) checkImportMethods(t *testing.T, methods []string) {
	t.Helper()
	if got := s.importMethods(t); !slices.Equal(methods, got) {
		t.Errorf("OpenStack-image-import-methods %v, /v2/info/import %v", methods, got)
	}
}

// importMethods returns the methods /v2/info/import lists.
func (s *suite) importMethods(t *testing.T) []string {
	t.Helper()
	r := s.do(t, AlphaReader, http.MethodGet, "/v2/info/import", nil).must(t, http.StatusOK)
	im, ok := r.obj(t)["import-methods"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no import-methods object", r)
	}
	vals, _ := im["value"].([]any)
	var out []string
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			t.Errorf("import method %#v is not a string", v)
		}
		out = append(out, s)
	}
	return out
}

func testDiscovery(t *testing.T, s *suite) {
	t.Run("Import", func(t *testing.T) {
		r := s.do(t, AlphaReader, http.MethodGet, "/v2/info/import", nil).must(t, http.StatusOK)
		r.requestID(t)
		body := r.obj(t)
		if got := keys(body); !slices.Equal(got, []string{"import-methods"}) {
			t.Errorf("fields %v, want [import-methods]", got)
		}
		im, _ := body["import-methods"].(map[string]any)
		field(t, im, "description", "Import methods available.")
		field(t, im, "type", "array")
		fieldType(t, im, "value", "array")
		if !slices.Contains(s.importMethods(t), "glance-direct") {
			t.Errorf("glance-direct is not offered")
		}
	})

	t.Run("Stores", func(t *testing.T) {
		r := s.do(t, AlphaReader, http.MethodGet, "/v2/info/stores", nil)
		if s.tg.Stores == nil {
			r.expect(t, http.StatusNotFound)
			return
		}
		r.must(t, http.StatusOK)
		r.requestID(t)
		stores := objs(t, r.obj(t), "stores")
		var ids []string
		for i, st := range stores {
			ids = append(ids, str(st, "id"))
			fieldType(t, st, "description", "string")
			// "default" is the string "true", on the default store only.
			if i == 0 {
				field(t, st, "default", "true")
			} else {
				noField(t, st, "default")
			}
		}
		if !slices.Equal(ids, s.tg.Stores) {
			t.Errorf("stores %v, want %v", ids, s.tg.Stores)
		}
	})

	t.Run("StoresDetail", func(t *testing.T) {
		if s.tg.Stores == nil {
			s.do(t, Admin, http.MethodGet, "/v2/info/stores/detail", nil).expect(t, http.StatusNotFound)
			return
		}
		s.do(t, AlphaMember, http.MethodGet, "/v2/info/stores/detail", nil).expect(t, http.StatusForbidden)
		stores := objs(t, s.do(t, Admin, http.MethodGet, "/v2/info/stores/detail", nil).must(t, http.StatusOK).obj(t), "stores")
		var ids []string
		for _, st := range stores {
			ids = append(ids, str(st, "id"))
			fieldType(t, st, "description", "string")
			fieldType(t, st, "type", "string")
			fieldType(t, st, "properties", "object")
		}
		if !slices.Equal(ids, s.tg.Stores) {
			t.Errorf("stores %v, want %v", ids, s.tg.Stores)
		}
	})
}

// testCache checks the image cache API as far as configuration allows:
// with a cache, admins list it and others may not; without, it is not
// there.
func testCache(t *testing.T, s *suite) {
	if !s.tg.Cache {
		s.do(t, Admin, http.MethodGet, "/v2/cache", nil).expect(t, http.StatusNotFound)
		return
	}
	s.do(t, AlphaMember, http.MethodGet, "/v2/cache", nil).expect(t, http.StatusForbidden)
	body := s.do(t, Admin, http.MethodGet, "/v2/cache", nil).must(t, http.StatusOK).obj(t)
	fieldType(t, body, "cached_images", "array")
	fieldType(t, body, "queued_images", "array")
}

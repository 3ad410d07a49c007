package conformance

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// waitImported waits for an import to settle: no store left to import
// to and the import lock released; it returns the image.
func (s *suite) waitImported(t *testing.T, role Role, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		img := s.show(t, role, id)
		_, busy := img["os_glance_import_task"]
		if str(img, "os_glance_importing_to_stores") == "" && !busy && str(img, "status") != "importing" {
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("image %s still importing: %v", id, img)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testMultiStore checks imports to several stores, uploads to a chosen
// store, deleting from one store and copy-image (targets with two stores
// or more).
func testMultiStore(t *testing.T, s *suite) {
	all := strings.Join(s.tg.Stores, ",")
	second := s.tg.Stores[1]
	data := []byte("multi-store data\n")
	staged := func(t *testing.T) string {
		t.Helper()
		id := str(s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"}), "id")
		s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/stage", raw(data), octet...).must(t, http.StatusNoContent)
		return id
	}
	direct := func(extra map[string]any) map[string]any {
		b := map[string]any{"method": map[string]any{"name": "glance-direct"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	t.Run("ImportToAllStores", func(t *testing.T) {
		id := staged(t)
		s.do(t, AlphaMember, http.MethodPost, "/v2/images/"+id+"/import", direct(map[string]any{"all_stores": true})).
			must(t, http.StatusAccepted)
		img := s.waitImported(t, AlphaMember, id)
		field(t, img, "status", "active")
		field(t, img, "stores", all)
		field(t, img, "os_glance_failed_import", "")
		field(t, img, "os_hash_value", sha512hex(data))
	})
	t.Run("ImportRequestErrors", func(t *testing.T) {
		id := staged(t)
		imp := func(body map[string]any, hdr ...string) *resp {
			return s.do(t, AlphaMember, http.MethodPost, "/v2/images/"+id+"/import", body, hdr...)
		}
		imp(direct(map[string]any{"all_stores": true, "stores": []string{second}})).expect(t, http.StatusBadRequest)
		imp(direct(map[string]any{"stores": []string{second}}), "X-Image-Meta-Store", second).expect(t, http.StatusBadRequest)
		imp(direct(map[string]any{"stores": []string{"no-such-store"}})).expect(t, http.StatusConflict)
		field(t, s.show(t, AlphaMember, id), "status", "uploading")
	})
	t.Run("UploadToStore", func(t *testing.T) {
		id := str(s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"}), "id")
		s.upload(t, AlphaMember, id, data, "X-Image-Meta-Store", "no-such-store").expect(t, http.StatusBadRequest)
		field(t, s.show(t, AlphaMember, id), "status", "queued")
		s.upload(t, AlphaMember, id, data, "X-Image-Meta-Store", second).must(t, http.StatusNoContent)
		field(t, s.show(t, AlphaMember, id), "stores", second)
	})
	t.Run("DeleteFromStore", func(t *testing.T) {
		id := staged(t)
		s.do(t, AlphaMember, http.MethodPost, "/v2/images/"+id+"/import", direct(map[string]any{"all_stores": true})).
			must(t, http.StatusAccepted)
		s.waitImported(t, AlphaMember, id)
		path := "/v2/stores/" + second + "/" + id
		// delete_image_location is an admin's.
		s.do(t, AlphaMember, http.MethodDelete, path, nil).expect(t, http.StatusForbidden)
		s.do(t, Admin, http.MethodDelete, "/v2/stores/no-such-store/"+id, nil).expect(t, http.StatusConflict)
		r := s.do(t, Admin, http.MethodDelete, path, nil)
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		field(t, s.show(t, AlphaMember, id), "stores", s.tg.Stores[0])
		// Now the only store: refused.
		s.do(t, Admin, http.MethodDelete, "/v2/stores/"+s.tg.Stores[0]+"/"+id, nil).expect(t, http.StatusForbidden)
	})
	t.Run("CopyImage", func(t *testing.T) {
		if !slices.Contains(s.importMethods(t), "copy-image") {
			t.Skip("the target does not offer copy-image (stated by /v2/info/import)")
		}
		img := s.active(t, AlphaMember, nil, data)
		id := str(img, "id")
		cp := func(role Role, body map[string]any) *resp {
			body["method"] = map[string]any{"name": "copy-image"}
			return s.do(t, role, http.MethodPost, "/v2/images/"+id+"/import", body)
		}
		// copy_image is an admin's; the image's own store is a 400.
		cp(AlphaMember, map[string]any{"stores": []string{second}}).expect(t, http.StatusForbidden)
		cp(Admin, map[string]any{"stores": []string{s.tg.Stores[0]}}).expect(t, http.StatusBadRequest)
		cp(Admin, map[string]any{"stores": []string{second}}).must(t, http.StatusAccepted)
		got := s.waitImported(t, AlphaMember, id)
		field(t, got, "status", "active")
		field(t, got, "stores", s.tg.Stores[0]+","+second)
		s.checkDownload(t, id, data)
		// Every store has it: nothing to do, still accepted.
		cp(Admin, map[string]any{"all_stores": true}).expect(t, http.StatusAccepted)
		// A queued image cannot be copied.
		q := str(s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"}), "id")
		s.do(t, Admin, http.MethodPost, "/v2/images/"+q+"/import",
			map[string]any{"method": map[string]any{"name": "copy-image"}, "stores": []string{second}}).expect(t, http.StatusConflict)
	})
}

// checkDownload downloads an image as its owner and compares the data.
func (s *suite) checkDownload(t *testing.T, id string, data []byte) {
	t.Helper()
	r := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/file", nil).must(t, http.StatusOK)
	if string(r.Body) != string(data) {
		t.Errorf("downloaded %q, want %q", r.Body, data)
	}
}

// testCacheQueue queues an image for caching and sees it cached, with the
// checks around it (targets with a cache).
func testCacheQueue(t *testing.T, s *suite) {
	data := []byte("cache me\n")
	img := s.active(t, AlphaMember, nil, data)
	id := str(img, "id")
	path := "/v2/cache/" + id
	s.do(t, AlphaMember, http.MethodPut, path, nil).expect(t, http.StatusForbidden)
	r := s.do(t, Admin, http.MethodPut, path, nil)
	r.expect(t, http.StatusAccepted)
	r.noBody(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		body := s.do(t, Admin, http.MethodGet, "/v2/cache", nil).must(t, http.StatusOK).obj(t)
		var entry map[string]any
		for _, e := range objs(t, body, "cached_images") {
			if str(e, "image_id") == id {
				entry = e
			}
		}
		if entry != nil {
			if got := keys(entry); !slices.Equal(got, []string{"hits", "image_id", "last_accessed", "last_modified", "size"}) {
				t.Errorf("cached image fields %v", got)
			}
			field(t, entry, "size", len(data))
			fieldType(t, entry, "last_accessed", "number")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("image %s not cached after 30s: %v", id, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.checkDownload(t, id, data)
	q := str(s.create(t, Admin, map[string]any{"disk_format": "raw", "container_format": "bare"}), "id")
	s.do(t, Admin, http.MethodPut, "/v2/cache/"+q, nil).expect(t, http.StatusBadRequest)
	s.do(t, Admin, http.MethodPut, "/v2/cache/00000000-0000-0000-0000-000000000000", nil).expect(t, http.StatusNotFound)
	s.do(t, Admin, http.MethodDelete, "/v2/cache", nil, "X-Image-Cache-Clear-Target", "bogus").expect(t, http.StatusBadRequest)
	r = s.do(t, Admin, http.MethodDelete, path, nil)
	r.expect(t, http.StatusNoContent)
	for _, e := range objs(t, s.do(t, Admin, http.MethodGet, "/v2/cache", nil).must(t, http.StatusOK).obj(t), "cached_images") {
		if str(e, "image_id") == id {
			t.Errorf("image %s still cached after DELETE %s", id, path)
		}
	}
}

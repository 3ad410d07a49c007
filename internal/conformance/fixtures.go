package conformance

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// patchV21 and patchV20 are the two JSON-patch media types Glance takes.
const (
	patchV21 = "application/openstack-images-v2.1-json-patch"
	patchV20 = "application/openstack-images-v2.0-json-patch"
)

// create creates an image as role and deletes it (as admin, after
// unprotecting it) when the test ends. body gets a unique name unless it
// has one.
func (s *suite) create(t *testing.T, role Role, body map[string]any) map[string]any {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["name"]; !ok {
		// Unique, so that a list by name finds this image alone.
		body["name"] = s.name(fmt.Sprintf("img%d", s.seq.Add(1)))
	}
	r := s.do(t, role, http.MethodPost, "/v2/images", body)
	r.must(t, http.StatusCreated)
	img := r.obj(t)
	id := str(img, "id")
	if id == "" {
		t.Fatalf("%s: no id in %v", r.what, img)
	}
	s.cleanup(t, id)
	return img
}

// cleanup deletes image id when t ends.
func (s *suite) cleanup(t *testing.T, id string) {
	t.Cleanup(func() { s.remove(t, id) })
}

// remove deletes an image as admin, unprotecting it first; an image that
// is already gone is fine.
func (s *suite) remove(t *testing.T, id string) {
	t.Helper()
	r := s.do(t, Admin, http.MethodDelete, "/v2/images/"+id, nil)
	if r.Status == http.StatusForbidden {
		s.do(t, Admin, http.MethodPatch, "/v2/images/"+id,
			[]map[string]any{{"op": "replace", "path": "/protected", "value": false}},
			"Content-Type", patchV21).expect(t, http.StatusOK)
		r = s.do(t, Admin, http.MethodDelete, "/v2/images/"+id, nil)
	}
	r.expect(t, http.StatusNoContent, http.StatusNotFound)
}

// active creates an image with formats set, uploads data and returns the
// image as shown after the upload.
func (s *suite) active(t *testing.T, role Role, body map[string]any, data []byte) map[string]any {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["disk_format"]; !ok {
		body["disk_format"] = "raw"
	}
	if _, ok := body["container_format"]; !ok {
		body["container_format"] = "bare"
	}
	img := s.create(t, role, body)
	id := str(img, "id")
	s.do(t, role, http.MethodPut, "/v2/images/"+id+"/file", raw(data),
		"Content-Type", "application/octet-stream").must(t, http.StatusNoContent)
	img = s.show(t, role, id)
	if str(img, "status") != "active" {
		t.Fatalf("image %s status %q after upload, want active", id, str(img, "status"))
	}
	return img
}

// show returns an image, which must exist.
func (s *suite) show(t *testing.T, role Role, id string) map[string]any {
	t.Helper()
	return s.do(t, role, http.MethodGet, "/v2/images/"+id, nil).must(t, http.StatusOK).obj(t)
}

// patch sends a v2.1 JSON patch and returns the response.
func (s *suite) patch(t *testing.T, role Role, id string, ops ...map[string]any) *resp {
	t.Helper()
	if ops == nil {
		ops = []map[string]any{}
	}
	return s.do(t, role, http.MethodPatch, "/v2/images/"+id, ops, "Content-Type", patchV21)
}

// op builds one v2.1 patch operation; value is left out when it is none.
func op(kind, path string, value ...any) map[string]any {
	m := map[string]any{"op": kind, "path": path}
	if len(value) > 0 {
		m["value"] = value[0]
	}
	return m
}

// ids lists the image IDs of a GET /v2/images query as role.
func (s *suite) ids(t *testing.T, role Role, query string) []string {
	t.Helper()
	r := s.do(t, role, http.MethodGet, "/v2/images?"+query, nil).must(t, http.StatusOK)
	var out []string
	for _, img := range objs(t, r.obj(t), "images") {
		out = append(out, str(img, "id"))
	}
	return out
}

// sameIDs checks that got holds exactly want, in any order.
func sameIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got images %v, want %v", what, got, want)
	}
}

// contains reports whether id is in ids.
func contains(ids []string, id string) bool { return slices.Contains(ids, id) }

// waitStatus polls an image until it reaches status or time runs out,
// and returns the image last seen.
func (s *suite) waitStatus(t *testing.T, role Role, id, status string, d time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		img := s.show(t, role, id)
		if str(img, "status") == status || time.Now().After(deadline) {
			return img
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func md5hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func sha512hex(b []byte) string {
	h := sha512.Sum512(b)
	return hex.EncodeToString(h[:])
}

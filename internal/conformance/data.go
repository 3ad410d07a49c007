package conformance

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
)

// octet is the header pair every upload sends.
var octet = []string{"Content-Type", "application/octet-stream"}

// upload PUTs data to an image's /file as role.
func (s *suite) upload(t *testing.T, role Role, id string, data []byte, hdr ...string) *resp {
	t.Helper()
	return s.do(t, role, http.MethodPut, "/v2/images/"+id+"/file", raw(data), append(octet, hdr...)...)
}

// checkData checks the data fields of an active image holding data.
func (s *suite) checkData(t *testing.T, img map[string]any, data []byte) {
	t.Helper()
	field(t, img, "status", "active")
	field(t, img, "size", len(data))
	field(t, img, "checksum", md5hex(data))
	field(t, img, "os_hash_algo", "sha512")
	field(t, img, "os_hash_value", sha512hex(data))
	if s.tg.Stores != nil {
		field(t, img, "stores", s.tg.Stores[0])
	} else {
		noField(t, img, "stores")
	}
}

func testUpload(t *testing.T, s *suite) {
	data := []byte("conformance image data\n")

	uploadData(t, s, data)
	uploadRefused(t, s, data)
}

// uploadData: uploads of known, unknown and larger sizes, and their results.
func uploadData(t *testing.T, s *suite, data []byte) {
	t.Run("Upload", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"})
		id := str(img, "id")
		r := s.upload(t, AlphaMember, id, data)
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		r.requestID(t)
		got := s.show(t, AlphaMember, id)
		checkImage(t, got)
		s.checkData(t, got, data)
		// A raw image's virtual size is its size.
		field(t, got, "virtual_size", len(data))
		want := slices.Clone(baseFields)
		if s.tg.Stores != nil {
			want = append(want, "stores")
		}
		slices.Sort(want)
		if !slices.Equal(keys(got), want) {
			t.Errorf("uploaded image has fields %v, want %v", keys(got), want)
		}
	})

	t.Run("Chunked", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"})
		id := str(img, "id")
		// A plain io.Reader has no known length: net/http sends it chunked.
		body := io.MultiReader(bytes.NewReader(data[:5]), bytes.NewReader(data[5:]))
		s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/file", body, octet...).expect(t, http.StatusNoContent)
		s.checkData(t, s.show(t, AlphaMember, id), data)
	})

	t.Run("Large", func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		img := s.active(t, AlphaMember, nil, big)
		s.checkData(t, img, big)
		r := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+str(img, "id")+"/file", nil).must(t, http.StatusOK)
		if !bytes.Equal(r.Body, big) {
			t.Errorf("downloaded %d bytes differ from the %d uploaded", len(r.Body), len(big))
		}
	})
}

// uploadRefused: uploads refused for the image's state, the request or the
// caller.
func uploadRefused(t *testing.T, s *suite, data []byte) {
	t.Run("Active", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, data)
		r := s.upload(t, AlphaMember, str(img, "id"), []byte("other"))
		r.expect(t, http.StatusConflict)
		r.plainError(t, http.StatusConflict)
		s.checkData(t, s.show(t, AlphaMember, str(img, "id")), data)
	})

	t.Run("NoFormats", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		r := s.upload(t, AlphaMember, str(img, "id"), data)
		r.expect(t, http.StatusBadRequest)
		r.plainError(t, http.StatusBadRequest)
		got := s.show(t, AlphaMember, str(img, "id"))
		field(t, got, "status", "queued")
		field(t, got, "size", nil)
	})

	t.Run("ContentType", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"})
		id := str(img, "id")
		for _, ct := range []string{"", "application/json", "text/plain"} {
			var hdr []string
			if ct != "" {
				hdr = []string{"Content-Type", ct}
			}
			r := s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/file", raw(data), hdr...)
			r.expect(t, http.StatusUnsupportedMediaType)
		}
		field(t, s.show(t, AlphaMember, id), "status", "queued")
	})

	t.Run("Reader", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"})
		s.upload(t, AlphaReader, str(img, "id"), data).expect(t, http.StatusForbidden)
		field(t, s.show(t, AlphaMember, str(img, "id")), "status", "queued")
	})
	t.Run("OtherProject", func(t *testing.T) {
		img := s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare", "visibility": "private"})
		s.upload(t, BetaMember, str(img, "id"), data).expect(t, http.StatusNotFound)
	})
	t.Run("Unknown", func(t *testing.T) {
		s.upload(t, AlphaMember, newUUID(), data).expect(t, http.StatusNotFound)
	})
}

func testDownload(t *testing.T, s *suite) {
	data := []byte("0123456789")
	img := s.active(t, AlphaMember, nil, data)
	id := str(img, "id")
	file := "/v2/images/" + id + "/file"

	downloadRanges(t, s, data, file)
	downloadAccess(t, s, data, file)
}

// downloadRanges: the whole data, and the ranges of it Glance serves or
// refuses.
func downloadRanges(t *testing.T, s *suite, data []byte, file string) {
	t.Run("Whole", func(t *testing.T) {
		r := s.do(t, AlphaMember, http.MethodGet, file, nil).must(t, http.StatusOK)
		r.requestID(t)
		r.header(t, "Content-Type", "application/octet-stream")
		r.header(t, "Content-MD5", md5hex(data))
		if !bytes.Equal(r.Body, data) {
			t.Errorf("body %q, want %q", r.Body, data)
		}
	})

	ranges := []struct {
		name, rng, cr, body string
	}{
		{"Range", "bytes=2-5", "bytes 2-5/10", "2345"},
		{"RangeOpen", "bytes=3-", "bytes 3-9/10", "3456789"},
		{"RangeSuffix", "bytes=-4", "bytes 6-9/10", "6789"},
		{"RangeFirstByte", "bytes=0-0", "bytes 0-0/10", "0"},
		{"RangePastEnd", "bytes=8-100", "bytes 8-9/10", "89"},
	}
	for _, c := range ranges {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, AlphaMember, http.MethodGet, file, nil, "Range", c.rng).must(t, http.StatusPartialContent)
			r.header(t, "Content-Range", c.cr)
			r.header(t, "Content-Length", strconv.Itoa(len(c.body)))
			r.header(t, "Content-MD5", md5hex(data)) // of the whole image
			if string(r.Body) != c.body {
				t.Errorf("body %q, want %q", r.Body, c.body)
			}
		})
	}
	for _, c := range []struct{ name, rng string }{
		{"StartPastEnd", "bytes=10-20"},
		{"Reversed", "bytes=5-2"},
		{"Garbage", "bytes=z"},
		{"Unit", "pages=1-2"},
	} {
		t.Run("Unsatisfiable"+c.name, func(t *testing.T) {
			r := s.do(t, AlphaMember, http.MethodGet, file, nil, "Range", c.rng)
			r.expect(t, http.StatusRequestedRangeNotSatisfiable)
			r.plainError(t, http.StatusRequestedRangeNotSatisfiable)
		})
	}
	t.Run("MultipleRanges", func(t *testing.T) {
		r := s.do(t, AlphaMember, http.MethodGet, file, nil, "Range", "bytes=1-2,4-5")
		r.expect(t, http.StatusBadRequest)
	})
}

// downloadAccess: an image without data, and who may download.
func downloadAccess(t *testing.T, s *suite, data []byte, file string) {
	t.Run("NoData", func(t *testing.T) {
		q := s.create(t, AlphaMember, nil)
		r := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+str(q, "id")+"/file", nil)
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		r.requestID(t)
		if r.Header.Get("Content-MD5") != "" {
			t.Errorf("Content-MD5 %q on an image without data", r.Header.Get("Content-MD5"))
		}
	})

	t.Run("Reader", func(t *testing.T) {
		// Downloading takes a member role; a reader may only look.
		s.do(t, AlphaReader, http.MethodGet, file, nil).expect(t, http.StatusForbidden)
	})
	t.Run("Admin", func(t *testing.T) {
		r := s.do(t, Admin, http.MethodGet, file, nil).must(t, http.StatusOK)
		if !bytes.Equal(r.Body, data) {
			t.Errorf("body %q, want %q", r.Body, data)
		}
	})
	t.Run("OtherProject", func(t *testing.T) {
		// The image is shared without members: beta cannot see it.
		s.do(t, BetaMember, http.MethodGet, file, nil).expect(t, http.StatusNotFound)
	})
	t.Run("Unknown", func(t *testing.T) {
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+newUUID()+"/file", nil).expect(t, http.StatusNotFound)
	})
}

func testDeactivate(t *testing.T, s *suite) {
	data := []byte("deactivate me")

	deactivateCycle(t, s, data)
	deactivateRefused(t, s, data)
}

// deactivateCycle: a deactivated image keeps its record but not its data,
// until reactivated.
func deactivateCycle(t *testing.T, s *suite, data []byte) {
	t.Run("Cycle", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, data)
		id := str(img, "id")
		file := "/v2/images/" + id + "/file"
		r := s.imageAction(t, AlphaMember, id, "deactivate")
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		r.requestID(t)
		field(t, s.show(t, AlphaMember, id), "status", "deactivated")
		s.imageAction(t, AlphaMember, id, "deactivate").expect(t, http.StatusNoContent) // no-op
		field(t, s.show(t, AlphaMember, id), "status", "deactivated")
		// Only an admin may read a deactivated image's data.
		r = s.do(t, AlphaMember, http.MethodGet, file, nil)
		r.expect(t, http.StatusForbidden)
		r.plainError(t, http.StatusForbidden)
		if r := s.do(t, Admin, http.MethodGet, file, nil); r.expect(t, http.StatusOK) && !bytes.Equal(r.Body, data) {
			t.Errorf("admin download %q, want %q", r.Body, data)
		}
		// Deactivated images are still listed and shown.
		if !contains(s.ids(t, AlphaMember, "name="+str(img, "name")), id) {
			t.Errorf("deactivated image not listed")
		}
		if !contains(s.ids(t, AlphaMember, "status=deactivated&name="+str(img, "name")), id) {
			t.Errorf("deactivated image not listed with status=deactivated")
		}
		r = s.imageAction(t, AlphaMember, id, "reactivate")
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		field(t, s.show(t, AlphaMember, id), "status", "active")
		s.imageAction(t, AlphaMember, id, "reactivate").expect(t, http.StatusNoContent) // no-op
		if r := s.do(t, AlphaMember, http.MethodGet, file, nil); r.expect(t, http.StatusOK) && !bytes.Equal(r.Body, data) {
			t.Errorf("download %q, want %q", r.Body, data)
		}
	})
}

// deactivateRefused: actions and uploads refused for the image's state or
// the caller.
func deactivateRefused(t *testing.T, s *suite, data []byte) {
	t.Run("Queued", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		s.imageAction(t, AlphaMember, str(img, "id"), "deactivate").expect(t, http.StatusForbidden)
		s.imageAction(t, AlphaMember, str(img, "id"), "reactivate").expect(t, http.StatusForbidden)
		field(t, s.show(t, AlphaMember, str(img, "id")), "status", "queued")
	})

	t.Run("UploadWhileDeactivated", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, data)
		s.imageAction(t, AlphaMember, str(img, "id"), "deactivate").must(t, http.StatusNoContent)
		s.upload(t, AlphaMember, str(img, "id"), data).expect(t, http.StatusConflict)
	})

	t.Run("WhileDeactivated", func(t *testing.T) {
		img := s.active(t, AlphaMember, map[string]any{"tags": []string{"t"}}, data)
		id := str(img, "id")
		s.imageAction(t, AlphaMember, id, "deactivate").must(t, http.StatusNoContent)
		// Metadata still changes; data cannot be staged; it may go.
		got := s.patch(t, AlphaMember, id, op("replace", "/name", s.name("deact"))).must(t, http.StatusOK).obj(t)
		field(t, got, "status", "deactivated")
		s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/tags/u", nil).expect(t, http.StatusNoContent)
		s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/stage", raw(data), octet...).expect(t, http.StatusConflict)
		s.do(t, AlphaMember, http.MethodDelete, "/v2/images/"+id, nil).expect(t, http.StatusNoContent)
	})

	t.Run("Reader", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, data)
		s.imageAction(t, AlphaReader, str(img, "id"), "deactivate").expect(t, http.StatusForbidden)
		field(t, s.show(t, AlphaMember, str(img, "id")), "status", "active")
	})
	t.Run("OtherProject", func(t *testing.T) {
		img := s.active(t, AlphaMember, map[string]any{"visibility": "private"}, data)
		s.imageAction(t, BetaMember, str(img, "id"), "deactivate").expect(t, http.StatusNotFound)
	})
	t.Run("Admin", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, data)
		s.imageAction(t, Admin, str(img, "id"), "deactivate").expect(t, http.StatusNoContent)
		s.imageAction(t, Admin, str(img, "id"), "reactivate").expect(t, http.StatusNoContent)
	})
	t.Run("Unknown", func(t *testing.T) {
		s.imageAction(t, AlphaMember, newUUID(), "deactivate").expect(t, http.StatusNotFound)
		s.imageAction(t, AlphaMember, newUUID(), "reactivate").expect(t, http.StatusNotFound)
	})
}

// imageAction posts an image action (deactivate, reactivate) as role.
func (s *suite) imageAction(t *testing.T, role Role, id, what string) *resp {
	t.Helper()
	return s.do(t, role, http.MethodPost, "/v2/images/"+id+"/actions/"+what, nil)
}

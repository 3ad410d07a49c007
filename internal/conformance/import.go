package conformance

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// webDownload is the import body of the web-download method.
func webDownload(uri string) map[string]any {
	return map[string]any{"method": map[string]any{"name": "web-download", "uri": uri}}
}

// dataSource serves data at /image for web-download imports to fetch;
// every other path is not found. It stands in for a web server, not for
// any part of the Image API.
func dataSource(t *testing.T, data []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/image" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// importRun holds what testImport's subtests share: the suite and the
// data they stage.
type importRun struct {
	s    *suite
	data []byte
}

// stage stages the run's data for image id.
func (ir *importRun) stage(t *testing.T, role Role, id string, hdr ...string) *resp {
	t.Helper()
	if hdr == nil {
		hdr = octet
	}
	return ir.s.do(t, role, http.MethodPut, "/v2/images/"+id+"/stage", raw(ir.data), hdr...)
}

func (ir *importRun) importTo(t *testing.T, role Role, id string, body any) *resp {
	t.Helper()
	return ir.s.do(t, role, http.MethodPost, "/v2/images/"+id+"/import", body)
}

// staged creates an image and stages data for it.
func (ir *importRun) staged(t *testing.T, body map[string]any) string {
	t.Helper()
	id := str(ir.s.create(t, AlphaMember, body), "id")
	ir.stage(t, AlphaMember, id).must(t, http.StatusNoContent)
	return id
}

// glanceDirectBody is the body of a glance-direct import.
func glanceDirectBody() map[string]any {
	return map[string]any{"method": map[string]any{"name": "glance-direct"}}
}

// rawBare are the formats of an image that can be imported.
func rawBare() map[string]any {
	return map[string]any{"disk_format": "raw", "container_format": "bare"}
}

func testImport(t *testing.T, s *suite) {
	ir := &importRun{s: s, data: []byte("staged image data\n")}
	ir.glanceDirect(t)
	ir.refused(t)
	ir.access(t)
	ir.webDownloadImport(t)
	ir.webDownloadFailure(t)
}

// glanceDirect: stage and import, the task that ran it, and what it leaves
// on the image.
func (ir *importRun) glanceDirect(t *testing.T) {
	s, data, stage, importTo, direct, formats := ir.s, ir.data, ir.stage, ir.importTo, glanceDirectBody(), rawBare
	t.Run("GlanceDirect", func(t *testing.T) {
		img := s.create(t, AlphaMember, formats())
		id := str(img, "id")
		r := stage(t, AlphaMember, id)
		r.expect(t, http.StatusNoContent)
		r.noBody(t)
		r.requestID(t)
		got := s.show(t, AlphaMember, id)
		field(t, got, "status", "uploading")
		field(t, got, "size", len(data))
		field(t, got, "checksum", nil)
		// Staged data is not the image's data yet.
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/file", nil).expect(t, http.StatusNoContent)

		r = importTo(t, AlphaMember, id, direct)
		r.expect(t, http.StatusAccepted)
		r.noBody(t)
		reqID := r.requestID(t)
		got = s.waitStatus(t, AlphaMember, id, "active", 30*time.Second)
		s.checkData(t, got, data)

		dl := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/file", nil).must(t, http.StatusOK)
		if !bytes.Equal(dl.Body, data) {
			t.Errorf("imported data %q, want %q", dl.Body, data)
		}

		// The import ran as a task tied to the request.
		var task map[string]any
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			body := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/tasks", nil).must(t, http.StatusOK).obj(t)
			tasks := objs(t, body, "tasks")
			if len(tasks) != 1 {
				t.Fatalf("%d tasks for the image, want 1: %v", len(tasks), tasks)
			}
			task = tasks[0]
			if str(task, "status") == "success" || time.Now().After(deadline) {
				break
			}
		}
		field(t, task, "type", "api_image_import")
		field(t, task, "status", "success")
		field(t, task, "image_id", id)
		field(t, task, "request_id", reqID)
		field(t, task, "owner", s.project(t, AlphaMember))
		if !uuidRE.MatchString(str(task, "id")) {
			t.Errorf("task id %q is not a UUID", str(task, "id"))
		}
		for _, k := range []string{"created_at", "updated_at", "expires_at", "user_id", "message"} {
			fieldType(t, task, k, "string")
		}
		fieldType(t, task, "input", "object")
		fieldType(t, task, "result", "object", "null")

		// With several stores, the import leaves its bookkeeping
		// properties behind, emptied. (The task's lock property,
		// os_glance_import_task, lingers a moment after success on the
		// real Glance, so it is not checked.)
		got = s.show(t, AlphaMember, id)
		if s.tg.Stores != nil {
			field(t, got, "os_glance_importing_to_stores", "")
			field(t, got, "os_glance_failed_import", "")
		}
	})
}

// refused: imports and stagings refused for the image's state or the
// request.
func (ir *importRun) refused(t *testing.T) {
	s, data, stage, importTo, staged := ir.s, ir.data, ir.stage, ir.importTo, ir.staged
	direct, formats := glanceDirectBody(), rawBare
	t.Run("NotStaged", func(t *testing.T) {
		img := s.create(t, AlphaMember, formats())
		r := importTo(t, AlphaMember, str(img, "id"), direct)
		r.expect(t, http.StatusConflict)
		r.plainError(t, http.StatusConflict)
		field(t, s.show(t, AlphaMember, str(img, "id")), "status", "queued")
	})

	t.Run("NoFormats", func(t *testing.T) {
		id := staged(t, nil)
		importTo(t, AlphaMember, id, direct).expect(t, http.StatusConflict)
		field(t, s.show(t, AlphaMember, id), "status", "uploading")
	})

	t.Run("BadBody", func(t *testing.T) {
		id := staged(t, formats())
		for _, b := range []any{
			map[string]any{},
			map[string]any{"method": map[string]any{}},
			map[string]any{"method": map[string]any{"name": "carrier-pigeon"}},
			raw("{"),
		} {
			r := importTo(t, AlphaMember, id, b)
			r.expect(t, http.StatusBadRequest)
			r.plainError(t, http.StatusBadRequest)
		}
		field(t, s.show(t, AlphaMember, id), "status", "uploading")
	})

	t.Run("StageTwice", func(t *testing.T) {
		id := staged(t, formats())
		stage(t, AlphaMember, id).expect(t, http.StatusConflict)
		// Nor can data be uploaded directly once staged.
		s.upload(t, AlphaMember, id, data).expect(t, http.StatusConflict)
	})

	t.Run("Active", func(t *testing.T) {
		img := s.active(t, AlphaMember, nil, data)
		stage(t, AlphaMember, str(img, "id")).expect(t, http.StatusConflict)
		importTo(t, AlphaMember, str(img, "id"), direct).expect(t, http.StatusConflict)
	})

	t.Run("StageContentType", func(t *testing.T) {
		img := s.create(t, AlphaMember, formats())
		stage(t, AlphaMember, str(img, "id"), "Content-Type", "application/json").expect(t, http.StatusUnsupportedMediaType)
		field(t, s.show(t, AlphaMember, str(img, "id")), "status", "queued")
	})
}

// access: readers, other projects and unknown images.
func (ir *importRun) access(t *testing.T) {
	s, stage, importTo, direct, formats := ir.s, ir.stage, ir.importTo, glanceDirectBody(), rawBare
	t.Run("Reader", func(t *testing.T) {
		img := s.create(t, AlphaMember, formats())
		stage(t, AlphaReader, str(img, "id")).expect(t, http.StatusForbidden)
		stage(t, AlphaMember, str(img, "id")).must(t, http.StatusNoContent)
		importTo(t, AlphaReader, str(img, "id"), direct).expect(t, http.StatusForbidden)
		field(t, s.show(t, AlphaMember, str(img, "id")), "status", "uploading")
	})

	t.Run("OtherProject", func(t *testing.T) {
		img := s.create(t, AlphaMember, formats())
		stage(t, BetaMember, str(img, "id")).expect(t, http.StatusNotFound)
		importTo(t, BetaMember, str(img, "id"), direct).expect(t, http.StatusNotFound)
		s.do(t, BetaMember, http.MethodGet, "/v2/images/"+str(img, "id")+"/tasks", nil).expect(t, http.StatusNotFound)
	})

	t.Run("Unknown", func(t *testing.T) {
		stage(t, AlphaMember, newUUID()).expect(t, http.StatusNotFound)
		importTo(t, AlphaMember, newUUID(), direct).expect(t, http.StatusNotFound)
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+newUUID()+"/tasks", nil).expect(t, http.StatusNotFound)
	})
}

// webDownloadImport: web-download imports a URL's data; bad URIs are refused.
func (ir *importRun) webDownloadImport(t *testing.T) {
	s, data, importTo, formats, staged := ir.s, ir.data, ir.importTo, rawBare, ir.staged
	t.Run("WebDownload", func(t *testing.T) {
		if !slices.Contains(s.importMethods(t), "web-download") {
			// Not offered: asking for it is a bad request.
			img := s.create(t, AlphaMember, formats())
			importTo(t, AlphaMember, str(img, "id"), webDownload("http://127.0.0.1/x")).expect(t, http.StatusBadRequest)
			return
		}
		src := dataSource(t, data)
		img := s.create(t, AlphaMember, formats())
		id := str(img, "id")
		r := importTo(t, AlphaMember, id, webDownload(src+"/image"))
		r.expect(t, http.StatusAccepted)
		r.noBody(t)
		s.checkData(t, s.waitStatus(t, AlphaMember, id, "active", 30*time.Second), data)
		dl := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/file", nil).must(t, http.StatusOK)
		if !bytes.Equal(dl.Body, data) {
			t.Errorf("imported data %q, want %q", dl.Body, data)
		}
		// Only a queued image takes web-download.
		importTo(t, AlphaMember, id, webDownload(src+"/image")).expect(t, http.StatusConflict)
		staged := staged(t, formats())
		importTo(t, AlphaMember, staged, webDownload(src+"/image")).expect(t, http.StatusConflict)
	})

	t.Run("WebDownloadBadURI", func(t *testing.T) {
		img := s.create(t, AlphaMember, formats())
		for _, uri := range []string{"ftp://127.0.0.1/image", "not a uri", ""} {
			importTo(t, AlphaMember, str(img, "id"), webDownload(uri)).expect(t, http.StatusBadRequest)
		}
		field(t, s.show(t, AlphaMember, str(img, "id")), "status", "queued")
	})
}

// webDownloadFailure: a failed download puts the image back to queued; an
// image without imports has no tasks.
func (ir *importRun) webDownloadFailure(t *testing.T) {
	s, data, importTo, formats := ir.s, ir.data, ir.importTo, rawBare
	t.Run("WebDownloadFails", func(t *testing.T) {
		if !slices.Contains(s.importMethods(t), "web-download") {
			return // covered by WebDownload
		}
		src := dataSource(t, data)
		img := s.create(t, AlphaMember, formats())
		id := str(img, "id")
		importTo(t, AlphaMember, id, webDownload(src+"/missing")).must(t, http.StatusAccepted)
		// The task fails and the image goes back to queued, data-less.
		var task map[string]any
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			tasks := objs(t, s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/tasks", nil).must(t, http.StatusOK).obj(t), "tasks")
			if len(tasks) == 1 {
				task = tasks[0]
				if st := str(task, "status"); st == "failure" || st == "success" {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no finished task after 30s: %v", tasks)
			}
		}
		field(t, task, "status", "failure")
		got := s.waitStatus(t, AlphaMember, id, "queued", 10*time.Second)
		field(t, got, "status", "queued")
		field(t, got, "checksum", nil)
		s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/file", nil).expect(t, http.StatusNoContent)
	})

	t.Run("NoTasks", func(t *testing.T) {
		img := s.create(t, AlphaMember, nil)
		body := s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+str(img, "id")+"/tasks", nil).must(t, http.StatusOK).obj(t)
		field(t, body, "tasks", []any{})
	})
}

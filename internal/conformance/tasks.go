package conformance

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// testTasks covers the admin-only tasks API, with a glance-direct import
// as the task to look at.
func testTasks(t *testing.T, s *suite) {
	id, tid, reqID := importTask(t, s)
	task := "/v2/tasks/" + tid
	taskShow(t, s, id, tid, reqID)
	taskList(t, s)
	taskAccess(t, s, task)
}

// importTask imports data into a new image with glance-direct and returns
// the image's ID, the ID of the import's task, and the import's request
// ID.
func importTask(t *testing.T, s *suite) (id, tid, reqID string) {
	data := []byte("task data")
	img := s.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"})
	id = str(img, "id")
	s.do(t, AlphaMember, http.MethodPut, "/v2/images/"+id+"/stage", raw(data), octet...).must(t, http.StatusNoContent)
	imp := s.do(t, AlphaMember, http.MethodPost, "/v2/images/"+id+"/import",
		map[string]any{"method": map[string]any{"name": "glance-direct"}}).must(t, http.StatusAccepted)
	s.waitStatus(t, AlphaMember, id, "active", 30*time.Second)
	tasks := objs(t, s.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/tasks", nil).must(t, http.StatusOK).obj(t), "tasks")
	if len(tasks) != 1 {
		t.Fatalf("%d tasks for the image, want 1", len(tasks))
	}
	return id, str(tasks[0], "id"), imp.Header.Get("X-Openstack-Request-Id")
}

// taskShow: a task's fields once it has succeeded.
func taskShow(t *testing.T, s *suite, id, tid, reqID string) {
	task := "/v2/tasks/" + tid
	t.Run("Show", func(t *testing.T) {
		var got map[string]any
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			r := s.do(t, Admin, http.MethodGet, task, nil).must(t, http.StatusOK)
			r.requestID(t)
			got = r.obj(t)
			if str(got, "status") == "success" || time.Now().After(deadline) {
				break
			}
		}
		want := []string{"created_at", "expires_at", "id", "image_id", "input", "message", "owner",
			"request_id", "result", "schema", "self", "status", "type", "updated_at", "user_id"}
		if !slices.Equal(keys(got), want) {
			t.Errorf("task fields %v, want %v", keys(got), want)
		}
		field(t, got, "id", tid)
		field(t, got, "type", "api_image_import")
		field(t, got, "status", "success")
		field(t, got, "owner", s.project(t, AlphaMember))
		field(t, got, "image_id", id)
		field(t, got, "request_id", reqID)
		field(t, got, "self", task)
		field(t, got, "schema", "/v2/schemas/task")
		fieldType(t, got, "input", "object")
		fieldType(t, got, "message", "string")
		for _, k := range []string{"created_at", "updated_at", "expires_at"} {
			if v := str(got, k); !timeRE.MatchString(v) {
				t.Errorf("%s = %#v, want YYYY-MM-DDThh:mm:ssZ", k, got[k])
			}
		}
	})
}

// taskList: a listing of tasks holds stubs; filters are checked.
func taskList(t *testing.T, s *suite) {
	t.Run("List", func(t *testing.T) {
		// Finished tasks only: expires_at is set when a task ends.
		r := s.do(t, Admin, http.MethodGet, "/v2/tasks?status=success&limit=1", nil).must(t, http.StatusOK)
		body := r.obj(t)
		field(t, body, "schema", "/v2/schemas/tasks")
		sameLink(t, "first", str(body, "first"), "/v2/tasks", "status=success&limit=1")
		ts := objs(t, body, "tasks")
		if len(ts) != 1 {
			t.Fatalf("%d tasks with limit=1, want 1", len(ts))
		}
		// The list holds stubs: no input, result or message.
		want := []string{"created_at", "expires_at", "id", "owner", "schema", "self", "status", "type", "updated_at"}
		if !slices.Equal(keys(ts[0]), want) {
			t.Errorf("listed task fields %v, want %v", keys(ts[0]), want)
		}
		field(t, ts[0], "status", "success")
		sameLink(t, "next", str(body, "next"), "/v2/tasks", "status=success&limit=1&marker="+str(ts[0], "id"))
	})

	t.Run("Filters", func(t *testing.T) {
		s.do(t, Admin, http.MethodGet, "/v2/tasks?status=success&limit=1", nil).expect(t, http.StatusOK)
		s.do(t, Admin, http.MethodGet, "/v2/tasks?type=import&limit=1", nil).expect(t, http.StatusOK)
		s.do(t, Admin, http.MethodGet, "/v2/tasks?status=bogus", nil).expect(t, http.StatusBadRequest)
		// Only the legacy "import" type may be asked for.
		s.do(t, Admin, http.MethodGet, "/v2/tasks?type=api_image_import", nil).expect(t, http.StatusBadRequest)
	})
}

// taskAccess: only admins see tasks, which cannot be deleted; their schemas.
func taskAccess(t *testing.T, s *suite, task string) {
	t.Run("NotAdmin", func(t *testing.T) {
		for _, role := range []Role{AlphaMember, AlphaReader} {
			s.do(t, role, http.MethodGet, "/v2/tasks", nil).expect(t, http.StatusForbidden)
			s.do(t, role, http.MethodGet, task, nil).expect(t, http.StatusForbidden)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		s.do(t, Admin, http.MethodGet, "/v2/tasks/"+newUUID(), nil).expect(t, http.StatusNotFound)
	})

	t.Run("Delete", func(t *testing.T) {
		r := s.do(t, Admin, http.MethodDelete, task, nil)
		r.expect(t, http.StatusMethodNotAllowed)
		r.header(t, "Allow", "GET")
		s.do(t, Admin, http.MethodGet, task, nil).expect(t, http.StatusOK)
	})

	t.Run("Schemas", func(t *testing.T) {
		for _, name := range []string{"task", "tasks"} {
			sc := s.do(t, AlphaReader, http.MethodGet, "/v2/schemas/"+name, nil).must(t, http.StatusOK).obj(t)
			field(t, sc, "name", name)
		}
	})
}

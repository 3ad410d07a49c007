package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-glance/glance/internal/store"
)

func taskTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

func jsonOrNull(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

func (s *Server) imageTasks(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err == nil {
		err = s.authorizeImage(c, im, "get_image")
	}
	if err != nil {
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}
	all, err := s.meta.ListTasks(r.Context(), im.ID)
	if err != nil {
		return err
	}
	// A task shows to admins and to the project that ran it, as in Glance:
	// its input holds the source URI, its user and request ids are private.
	tasks := slices.DeleteFunc(all, func(t *store.Task) bool {
		return !c.Admin && t.Owner != "" && t.Owner != c.ProjectID
	})
	type row struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Status    string          `json:"status"`
		Owner     string          `json:"owner"`
		ExpiresAt *string         `json:"expires_at"`
		CreatedAt string          `json:"created_at"`
		UpdatedAt string          `json:"updated_at"`
		DeletedAt *string         `json:"deleted_at"`
		Deleted   bool            `json:"deleted"`
		ImageID   string          `json:"image_id"`
		RequestID string          `json:"request_id"`
		UserID    string          `json:"user_id"`
		Input     json.RawMessage `json:"input"`
		Result    json.RawMessage `json:"result"`
		Message   string          `json:"message"`
	}
	out := struct {
		Tasks []row `json:"tasks"`
	}{Tasks: []row{}}
	for _, t := range tasks {
		var exp *string
		if t.ExpiresAt != nil {
			e := taskTime(*t.ExpiresAt)
			exp = &e
		}
		out.Tasks = append(out.Tasks, row{ID: t.ID, Type: t.Type, Status: t.Status, Owner: t.Owner, ExpiresAt: exp,
			CreatedAt: taskTime(t.CreatedAt), UpdatedAt: taskTime(t.UpdatedAt), ImageID: t.ImageID,
			RequestID: t.RequestID, UserID: t.UserID, Input: jsonOrNull(t.Input), Result: jsonOrNull(t.Result),
			Message: t.Message})
	}
	return writeValue(w, http.StatusOK, out)
}

type taskView struct {
	ID        string          `json:"id"`
	Input     json.RawMessage `json:"input,omitempty"`
	Type      string          `json:"type"`
	Status    string          `json:"status"`
	Owner     string          `json:"owner"`
	Message   *string         `json:"message,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
	Self      string          `json:"self"`
	Schema    string          `json:"schema"`
	ImageID   string          `json:"image_id,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	UserID    string          `json:"user_id,omitempty"`
	ExpiresAt *string         `json:"expires_at,omitempty"`
}

func viewTask(t *store.Task, full bool) taskView {
	v := taskView{ID: t.ID, Type: t.Type, Status: t.Status, Owner: t.Owner, CreatedAt: t.CreatedAt.UTC().Format(isoTime),
		UpdatedAt: t.UpdatedAt.UTC().Format(isoTime), Self: "/v2/tasks/" + t.ID, Schema: "/v2/schemas/task"}
	if t.ExpiresAt != nil {
		e := t.ExpiresAt.UTC().Format(isoTime)
		v.ExpiresAt = &e
	}
	if full {
		v.Input, v.Result = jsonOrNull(t.Input), jsonOrNull(t.Result)
		msg := t.Message
		v.Message = &msg
		v.ImageID, v.RequestID, v.UserID = t.ImageID, t.RequestID, t.UserID
	}
	return v
}

// tasksAccess is the tasks_api_access policy (admin only by default),
// which Glance checks before anything else on /v2/tasks.
func (s *Server) tasksAccess(r *http.Request) error {
	return s.authorize(callerFrom(r.Context()), "tasks_api_access")
}

// listTasks is GET /v2/tasks: admin only, as tasks_api_access is by
// default. Tasks are few, so filtering and paging happen here.
func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	if err := s.tasksAccess(r); err != nil {
		return err
	}
	pairs, err := parseQueryOrdered(r.URL.RawQuery)
	if err != nil {
		return err
	}
	limit, marker, status, typ, asc := defaultLimit, "", "", "", false
	for _, p := range pairs {
		switch p.k {
		case "limit":
			if limit, err = parseLimit(p.v); err != nil {
				return err
			}
		case "marker":
			marker = p.v
		case "status":
			if !oneOf(p.v, []string{"pending", "processing", "success", "failure"}) {
				return errorf(http.StatusBadRequest, "Invalid status value: %s", p.v)
			}
			status = p.v
		case "type":
			if p.v != "import" {
				return errorf(http.StatusBadRequest, "Invalid type value: %s", p.v)
			}
			typ = p.v
		case "sort_dir":
			if err := checkSortDir(p.v); err != nil {
				return err
			}
			asc = p.v == "asc"
		case "sort_key":
			if p.v != "created_at" {
				return errorf(http.StatusBadRequest, "Invalid sort key: %s", p.v)
			}
		}
	}
	all, err := s.meta.ListTasks(r.Context(), "")
	if err != nil {
		return err
	}
	if asc {
		slices.Reverse(all)
	}
	var tasks []*store.Task
	for _, t := range all {
		if (status == "" || t.Status == status) && (typ == "" || t.Type == typ) {
			tasks = append(tasks, t)
		}
	}
	if marker != "" {
		i := slices.IndexFunc(tasks, func(t *store.Task) bool { return t.ID == marker })
		if i < 0 {
			return errorf(http.StatusBadRequest, "Invalid marker. Task %s could not be found.", marker)
		}
		tasks = tasks[i+1:]
	}
	if len(tasks) > limit {
		tasks = tasks[:limit]
	}
	last := ""
	if len(tasks) > 0 && len(tasks) == limit {
		last = tasks[len(tasks)-1].ID
	}
	out := struct {
		Tasks  []taskView `json:"tasks"`
		First  string     `json:"first"`
		Schema string     `json:"schema"`
		Next   string     `json:"next,omitempty"`
	}{Tasks: []taskView{}, Schema: "/v2/schemas/tasks"}
	out.First, out.Next = pageLinks("/v2/tasks", pairs, last)
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, viewTask(t, false))
	}
	return writeValue(w, http.StatusOK, out)
}

// createTask is POST /v2/tasks, the legacy (admin-only) "import" task: make
// an image from input.image_properties and fill it from input.import_from.
func (s *Server) createTask(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	if err := s.tasksAccess(r); err != nil {
		return err
	}
	body, err := readBody(r, 1<<20)
	if err != nil {
		return err
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return errorf(http.StatusBadRequest, "Provided object does not match schema 'task': %s is not of type 'object'", pyRepr(body))
	}
	typ, ok := obj["type"].(string)
	if !ok {
		return errorf(http.StatusBadRequest, "Task 'type' is required")
	}
	if typ != "import" && typ != "api_image_import" {
		return errorf(http.StatusBadRequest, "Provided object does not match schema 'task': %s is not one of ['import', 'api_image_import']", pyRepr(typ))
	}
	input, ok := obj["input"].(map[string]any)
	if !ok {
		return errorf(http.StatusBadRequest, "Task 'input' is required")
	}
	if typ != "import" {
		return errorf(http.StatusBadRequest, "Task type %s cannot be created through the tasks API.", typ)
	}
	from, _ := input["import_from"].(string)
	src, err := s.checkSource(from, "legacy import task")
	if err != nil {
		return err
	}
	props, _ := input["image_properties"].(map[string]any)
	now := time.Now().UTC()
	im := newImage(c, now)
	for k, v := range props {
		if a := store.AccessOf(k); a == store.ReadOnly || a == store.Reserved {
			return errorf(http.StatusBadRequest, "Task input image_properties may not set '%s'.", k)
		}
		if err := setAttr(im, k, v); err != nil {
			return err
		}
	}
	in, _ := json.Marshal(input)
	task := &store.Task{ID: newUUID(), Type: typ, Status: "pending", Owner: c.ProjectID, Input: string(in),
		RequestID: c.RequestID, UserID: c.UserID, CreatedAt: now, UpdatedAt: now}
	if err := s.meta.CreateTask(r.Context(), task); err != nil {
		return err
	}
	if err := s.claimTask(r.Context(), task.ID); err != nil {
		s.log.Warn("claim task", "task", task.ID, "err", err) // the janitor fails it if it stays unclaimed
	}
	// The answer shows the task as created; the worker changes it from now on.
	resp, err := json.Marshal(viewTask(task, true))
	if err != nil {
		return err
	}
	if err := s.background(func(ctx context.Context) { s.runTaskImport(ctx, task, im, src) }); err != nil {
		return err
	}
	w.Header().Set("Location", s.baseURL(r)+"/v2/tasks/"+task.ID)
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// runTaskImport does a legacy import task: the image exists only once its
// data is in, and a failed task leaves no image behind.
func (s *Server) runTaskImport(ctx context.Context, t *store.Task, im *store.Image, src *url.URL) {
	defer s.release(store.LeaseTask, t.ID)
	done := context.WithoutCancel(ctx)
	t.Status, t.UpdatedAt = "processing", time.Now().UTC()
	s.meta.UpdateTask(done, t)
	err := s.meta.CreateImage(ctx, im)
	if err == nil {
		l := s.writeLease(store.EvImport, im.ID)
		defer s.endWrite(l)
		ctx = withWrite(ctx, l)
		if _, err = s.changeImageLeased(ctx, im.ID, l, func(im *store.Image) error {
			if im.DiskFormat == nil || im.ContainerFormat == nil {
				return errorf(http.StatusBadRequest, "image_properties must set disk_format and container_format")
			}
			im.Status = store.StatusImporting
			return nil
		}); err == nil {
			var info stored
			if info, err = s.importData(ctx, im.ID, "web-download", src); err == nil {
				err = s.activate(ctx, im.ID, store.StatusImporting, info)
			}
		}
		if err != nil {
			s.meta.DeleteImage(done, im.ID)
			s.deleteData(done, im)
		}
	}
	now := time.Now().UTC()
	exp := now.Add(48 * time.Hour)
	t.UpdatedAt, t.ExpiresAt = now, &exp
	if err != nil {
		s.log.Warn("import task failed", "task", t.ID, "err", err)
		t.Status, t.Message = "failure", taskMessage(err)
	} else {
		res, _ := json.Marshal(map[string]string{"image_id": im.ID})
		t.Status, t.Result, t.ImageID = "success", string(res), im.ID
	}
	if err := s.meta.UpdateTask(done, t); err != nil {
		s.log.Error("task update", "task", t.ID, "err", err)
	}
}

func (s *Server) showTask(w http.ResponseWriter, r *http.Request) error {
	if err := s.tasksAccess(r); err != nil {
		return err
	}
	t, err := s.meta.GetTask(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "Task with the given ID %s was not found", r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, viewTask(t, true))
}

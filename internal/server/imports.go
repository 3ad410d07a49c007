package server

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/webfetch"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// schema serves one of the JSON schema documents Glance 25.1 serves, so
// clients that validate against them behave the same.
func (s *Server) schema(name string) func(http.ResponseWriter, *http.Request) error {
	doc, err := schemaFS.ReadFile("schemas/" + name + ".json")
	if err != nil {
		panic(err) // embedded at build time
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, doc)
		return nil
	}
}

func (s *Server) infoImport(w http.ResponseWriter, r *http.Request) error {
	b, _ := json.Marshal(importMethods)
	writeJSON(w, http.StatusOK, []byte(`{"import-methods": {"description": "Import methods available.", "type": "array", "value": `+
		string(b)+`}}`))
	return nil
}

func (s *Server) infoStores(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.storesInfo(false))
	return nil
}

func (s *Server) infoStoresDetail(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorize(callerFrom(r.Context()), "stores_info_detail"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.storesInfo(true))
	return nil
}

// infoUsage answers as Glance does without Keystone unified limits.
func (s *Server) infoUsage(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, []byte(`{"usage": {}}`))
	return nil
}

// deleteFromStore is DELETE /v2/stores/{store}/{id}. An image's data is in
// one store, so it can never go while the image stays.
func (s *Server) deleteFromStore(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.authorizeImage(c, im, "get_image_location"); err != nil {
		return err
	}
	if err := s.authorizeImage(c, im, "delete_image_location"); err != nil {
		return err
	}
	if st := r.PathValue("store"); s.stores.byID[st] == nil {
		return errorf(http.StatusConflict, "The selected store %s is not available on this node.", st)
	}
	if im.Status != store.StatusActive {
		return errorf(http.StatusConflict, "It's not allowed to remove image data from store if image status is not 'active'")
	}
	return errorf(http.StatusForbidden, "Cannot delete image data from the only store containing it. Consider deleting the image instead.")
}

// cacheAPI answers the image cache routes: glanced keeps no cache, so after
// the admin-only policy check they are not found, as in a Glance without one.
func (s *Server) cacheAPI(action string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.authorize(callerFrom(r.Context()), action); err != nil {
			return err
		}
		return errorf(http.StatusNotFound, "Caching via API is not supported at this site.")
	}
}

func (s *Server) stageImage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := s.startWrite(r, "modify_image", store.EvStage, nil)
	if err != nil {
		return err
	}
	size, err := s.staging.Put(ctx, id, &capReader{r: r.Body, left: s.cfg.MaxImageSize}, -1)
	if err != nil {
		s.revert(id, store.EvStageFail, store.StatusQueued)
		if errors.Is(err, errTooLarge) {
			return errorf(http.StatusRequestEntityTooLarge, "Image exceeds the storage quota.")
		}
		if ae := clientBodyError(err); ae != nil {
			return ae
		}
		if ctx.Err() != nil {
			return errorf(http.StatusBadRequest, "Error in the upload: %v", err)
		}
		return fmt.Errorf("stage image data: %w", err)
	}
	_, err = s.meta.UpdateImage(context.WithoutCancel(ctx), id, func(im *store.Image) error {
		if im.Status != store.StatusUploading {
			return errorf(http.StatusConflict, "Image status changed to %s during staging", im.Status)
		}
		im.Size, im.UpdatedAt = &size, time.Now().UTC()
		return nil
	})
	if err != nil {
		s.staging.Delete(context.WithoutCancel(ctx), id)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusGone, "Image %s could not be found after upload.", id)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkSource filters a URI an import would fetch, before anything is
// fetched: a 400 naming the URI (without credentials) when the operator's
// filter refuses it.
func (s *Server) checkSource(uri, what string) (*url.URL, error) {
	u, err := s.fetch.Check(uri)
	var fe *webfetch.FilterError
	if errors.As(err, &fe) {
		return nil, errorf(http.StatusBadRequest, "URI for %s does not pass filtering: %s", what, fe.URI)
	}
	return u, err
}

// taskMessage is what a failed task tells its owner: Glance's own messages,
// a fetch failure in words that name no internal address, and nothing of
// other internal errors (they are logged).
func taskMessage(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.msg
	}
	if msg, ok := webfetch.Public(err); ok {
		return msg
	}
	return "Task failed due to Internal Error"
}

// importConflict is Glance's 409 for an import the image's state does not
// allow, in the order Glance checks.
func importConflict(im *store.Image, method string) error {
	switch {
	case im.Status == store.StatusActive:
		return errorf(http.StatusConflict, "Image with status active cannot be target for import")
	case method == "web-download" && im.Status != store.StatusQueued:
		return errorf(http.StatusConflict, "Image needs to be in 'queued' state to use 'web-download' method")
	case method == "glance-direct" && im.Status != store.StatusUploading:
		return errorf(http.StatusConflict, "Image needs to be staged before 'glance-direct' method can be used")
	case im.ContainerFormat == nil:
		return errorf(http.StatusConflict, "'container_format' needs to be set before import")
	case im.DiskFormat == nil:
		return errorf(http.StatusConflict, "'disk_format' needs to be set before import")
	}
	return nil
}

type importRequest struct {
	Method *struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	} `json:"method"`
}

func (s *Server) importImage(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx := r.Context()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return errorf(http.StatusBadRequest, "Could not read the request body.")
	}
	var req importRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, "Malformed JSON in request body.")
	}
	if req.Method == nil || req.Method.Name == "" {
		return errorf(http.StatusBadRequest, "Import request requires a 'method' field.")
	}
	method := req.Method.Name
	if !oneOf(method, importMethods) {
		return errorf(http.StatusBadRequest, "Unknown import method name '%s'.", method)
	}
	im, err := s.getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	// Glance refuses an import the image's state does not allow before it
	// asks the policy.
	if err := importConflict(im, method); err != nil {
		return err
	}
	if err := s.authorizeImage(c, im, "modify_image"); err != nil {
		return err
	}
	var src *url.URL
	if method == "web-download" {
		if src, err = s.checkSource(req.Method.URI, "web-download"); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	exp := now.Add(48 * time.Hour)
	task := &store.Task{ID: newUUID(), Type: "api_image_import", Status: "pending", Owner: c.ProjectID,
		ImageID: im.ID, RequestID: c.RequestID, UserID: c.UserID, Result: "", CreatedAt: now, UpdatedAt: now, ExpiresAt: &exp}
	in, _ := json.Marshal(map[string]any{"image_id": im.ID, "import_req": json.RawMessage(body), "backend": []string{s.stores.def}})
	task.Input = string(in)
	_, err = s.changeImage(ctx, im.ID, func(im *store.Image) error {
		if err := importConflict(im, method); err != nil {
			return err
		}
		if _, busy := im.Properties["os_glance_import_task"]; busy {
			return errorf(http.StatusConflict, "Image has active task")
		}
		if err := store.Move(im, store.EvImport, store.StatusImporting); err != nil {
			return errorf(http.StatusConflict, "Image status transition from %s to importing is not allowed", im.Status)
		}
		im.Properties["os_glance_import_task"] = task.ID
		im.Properties["os_glance_importing_to_stores"] = s.stores.def
		im.Properties["os_glance_failed_import"] = ""
		im.UpdatedAt = now
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.meta.CreateTask(ctx, task); err != nil {
		s.revert(im.ID, store.EvImportFail, store.StatusQueued)
		return err
	}
	if err := s.background(func(ctx context.Context) { s.runImport(ctx, task, method, src) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// runImport does the work of an import task in the background.
func (s *Server) runImport(ctx context.Context, t *store.Task, method string, src *url.URL) {
	log := s.log.With("task", t.ID, "image", t.ImageID, "method", method)
	t.Status, t.UpdatedAt = "processing", time.Now().UTC()
	if err := s.meta.UpdateTask(ctx, t); err != nil {
		log.Error("task update", "err", err)
	}
	info, err := s.importData(ctx, t.ImageID, method, src)
	if err == nil {
		err = s.activate(ctx, t.ImageID, store.StatusImporting, info)
	}
	done := context.WithoutCancel(ctx)
	t.UpdatedAt = time.Now().UTC()
	if err != nil {
		log.Warn("import failed", "err", err)
		t.Status, t.Message = "failure", taskMessage(err)
		back := store.StatusQueued
		if method == "glance-direct" {
			if _, serr := s.staging.Size(done, t.ImageID); serr == nil {
				back = store.StatusUploading
			}
		}
		s.meta.UpdateImage(done, t.ImageID, func(im *store.Image) error {
			if store.CanMove(store.EvImportFail, im.Status, back) {
				im.Status = back
				if back == store.StatusQueued {
					im.Size = nil
				}
			}
			delete(im.Properties, "os_glance_import_task")
			im.Properties["os_glance_importing_to_stores"] = ""
			im.Properties["os_glance_failed_import"] = s.stores.def
			im.UpdatedAt = t.UpdatedAt
			return nil
		})
	} else {
		t.Status, t.Message = "success", fmt.Sprintf("Copied %d MiB", info.Size>>20)
		res, _ := json.Marshal(map[string]string{"image_id": t.ImageID})
		t.Result = string(res)
		s.meta.UpdateImage(done, t.ImageID, func(im *store.Image) error {
			delete(im.Properties, "os_glance_import_task")
			im.Properties["os_glance_importing_to_stores"] = ""
			return nil
		})
		if method == "glance-direct" {
			s.staging.Delete(done, t.ImageID)
		}
	}
	if err := s.meta.UpdateTask(done, t); err != nil {
		log.Error("task update", "err", err)
	}
}

func (s *Server) importData(ctx context.Context, id, method string, src *url.URL) (stored, error) {
	switch method {
	case "glance-direct":
		rc, err := s.staging.Open(ctx, id, 0, -1)
		if err != nil {
			return stored{}, fmt.Errorf("open staged data: %w", err)
		}
		defer rc.Close()
		return s.putData(ctx, id, rc)
	case "web-download":
		body, _, err := s.fetch.Open(ctx, src)
		if err != nil {
			return stored{}, err
		}
		defer body.Close()
		return s.putData(ctx, id, body)
	}
	return stored{}, fmt.Errorf("unknown import method %q", method)
}

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
	done := context.WithoutCancel(ctx)
	t.Status, t.UpdatedAt = "processing", time.Now().UTC()
	s.meta.UpdateTask(done, t)
	err := s.meta.CreateImage(ctx, im)
	if err == nil {
		if _, err = s.meta.UpdateImage(ctx, im.ID, func(im *store.Image) error {
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

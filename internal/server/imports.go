package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/webfetch"
)

func (s *Server) stageImage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "Image exceeds the storage quota.")
	declared, err := s.precheckUpload(r, quotaImageStage, tooLarge)
	if err != nil {
		return err
	}
	l, err := s.startWrite(r, "modify_image", store.EvStage, nil)
	if err != nil {
		return err
	}
	defer s.endWrite(l)
	ctx, id := withWrite(ctx, l), l.ID
	err = s.enforceUploading(ctx)
	var size int64
	if err == nil {
		size, err = s.stage(ctx, id, s.uploadBody(r, declared))
	}
	if errors.Is(err, errLeaseLost) {
		return err // the image and its staged data may be a new write's by now
	}
	if err != nil {
		s.revert(ctx, id, store.EvStageFail, store.StatusQueued)
		s.staging.Delete(context.WithoutCancel(ctx), id)
		if errors.Is(err, errTooLarge) {
			return tooLarge
		}
		if ae := sizeError(err); ae != nil {
			return ae
		}
		if ae := clientBodyError(err); ae != nil {
			return ae
		}
		if ctx.Err() != nil {
			return errorf(http.StatusBadRequest, "Error in the upload: %v", err)
		}
		return fmt.Errorf("stage image data: %w", err)
	}
	_, err = s.updateWrite(context.WithoutCancel(ctx), id, func(im *store.Image) error {
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
	case im.Status == store.StatusActive && method != "copy-image":
		return errorf(http.StatusConflict, "Image with status active cannot be target for import")
	case im.Status != store.StatusActive && method == "copy-image":
		return errorf(http.StatusConflict, "Only images with status active can be targeted for copying")
	case (method == "web-download" || method == "glance-download") && im.Status != store.StatusQueued:
		return errorf(http.StatusConflict, "Image needs to be in 'queued' state to use '%s' method", method)
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
		// glance-download: the image in another region's Glance.
		GlanceImageID          *string `json:"glance_image_id"`
		GlanceRegion           *string `json:"glance_region"`
		GlanceServiceInterface *string `json:"glance_service_interface"`
	} `json:"method"`
	Stores               *[]string `json:"stores"`
	AllStores            bool      `json:"all_stores"`
	AllStoresMustSucceed *bool     `json:"all_stores_must_succeed"`
}

// importJob is what an import task does, decided when it is accepted.
type importJob struct {
	method      string
	src         *url.URL      // web-download
	remote      *remoteSource // glance-download
	stores      []string      // in the order they are filled
	mustSucceed bool
	lease       *store.Lease // the write's, once lockForImport took it
}

func (s *Server) importImage(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx := r.Context()
	var req importRequest
	body, err := decodeBody(r, &req)
	if err != nil {
		return err
	}
	if req.Method == nil || req.Method.Name == "" {
		return errorf(http.StatusBadRequest, "Import request requires a 'method' field.")
	}
	method := req.Method.Name
	if !oneOf(method, s.importMethods) {
		return errorf(http.StatusBadRequest, "Unknown import method name '%s'.", method)
	}
	if err := s.enforceImport(ctx); err != nil {
		return err
	}
	im, err := s.getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	job, err := s.acceptImport(r, c, im, &req)
	if err != nil || job == nil {
		if err == nil { // copy-image to all stores, and all hold the data
			w.WriteHeader(http.StatusAccepted)
		}
		return err
	}
	now := time.Now().UTC()
	exp := now.Add(48 * time.Hour)
	task := &store.Task{ID: newUUID(), Type: "api_image_import", Status: "pending", Owner: c.ProjectID,
		ImageID: im.ID, RequestID: c.RequestID, UserID: c.UserID, Result: "", CreatedAt: now, UpdatedAt: now, ExpiresAt: &exp}
	in, _ := json.Marshal(map[string]any{"image_id": im.ID, "import_req": json.RawMessage(body), "backend": job.stores})
	task.Input = string(in)
	if err := s.lockForImport(ctx, im.ID, task.ID, job, now); err != nil {
		return err
	}
	if err := s.meta.CreateTask(ctx, task); err != nil {
		s.unlockImport(im.ID, job)
		s.endWrite(job.lease)
		return err
	}
	if err := s.claimTask(ctx, task.ID); err != nil {
		s.log.Warn("claim task", "task", task.ID, "err", err) // the janitor fails it if it stays unclaimed
	}
	if err := s.background(func(ctx context.Context) { s.runImport(ctx, task, job) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// acceptImport makes Glance's checks of an import request, in its order,
// and returns the job; nil with no error when there is nothing to do.
func (s *Server) acceptImport(r *http.Request, c *caller, im *store.Image, req *importRequest) (*importJob, error) {
	method := req.Method.Name
	// Glance refuses an import the image's state does not allow before it
	// asks the policy.
	if err := importConflict(im, method); err != nil {
		return nil, err
	}
	job := &importJob{method: method, mustSucceed: req.AllStoresMustSucceed == nil || *req.AllStoresMustSucceed}
	if method == "glance-download" {
		var err error
		if job.remote, err = parseRemote(r, req); err != nil {
			return nil, err
		}
	}
	rule := "modify_image"
	if method == "copy-image" {
		rule = "copy_image"
	}
	if err := s.authorizeImage(c, im, rule); err != nil {
		return nil, err
	}
	if _, busy := im.Properties["os_glance_import_task"]; busy {
		return nil, errorf(http.StatusConflict, "Image has active task")
	}
	stores, err := s.importStores(r, req)
	if err != nil {
		return nil, err
	}
	if method == "copy-image" {
		if stores, err = copyTargets(im, stores, req.AllStores); err != nil || len(stores) == 0 {
			return nil, err
		}
	}
	job.stores = stores
	if method == "web-download" {
		if job.src, err = s.checkSource(req.Method.URI, "web-download"); err != nil {
			return nil, err
		}
	}
	return job, nil
}

// stage writes the staged data of image id, until its write's lease is lost.
func (s *Server) stage(ctx context.Context, id string, r io.Reader) (int64, error) {
	ctx, stop := s.guardWrite(ctx, id)
	defer stop()
	n, err := s.staging.Put(ctx, id, r, -1)
	if err != nil {
		return n, lostOr(ctx, err)
	}
	return n, nil
}

// lockForImport takes the image's import lock for task and marks the
// stores it fills; an import other than copy-image moves it to importing.
func (s *Server) lockForImport(ctx context.Context, id, task string, job *importJob, now time.Time) error {
	// The import's lease names the blobs it may leave half-written.
	var refs []store.BlobRef
	for _, st := range job.stores {
		refs = append(refs, store.BlobRef{Store: st, Key: id})
	}
	l := s.lease(store.LeaseImage, id, refs...)
	_, err := s.changeImageLeased(ctx, id, l, func(im *store.Image) error {
		if err := importConflict(im, job.method); err != nil {
			return err
		}
		if _, busy := im.Properties["os_glance_import_task"]; busy {
			return errorf(http.StatusConflict, "Image has active task")
		}
		if job.method != "copy-image" {
			if err := store.Move(im, store.EvImport, store.StatusImporting); err != nil {
				return errorf(http.StatusConflict, "Image status transition from %s to importing is not allowed", im.Status)
			}
		}
		im.Properties["os_glance_import_task"] = task
		setStoreList(im, importingKey, job.stores, true)
		setStoreList(im, failedKey, job.stores, false)
		im.UpdatedAt = now
		return nil
	})
	if err == nil {
		job.lease = l
	}
	return err
}

// unlockImport undoes lockForImport when the task could not start.
func (s *Server) unlockImport(id string, job *importJob) {
	s.meta.UpdateImage(context.Background(), id, func(im *store.Image) error {
		if job.method != "copy-image" && store.CanMove(store.EvImportFail, im.Status, store.StatusQueued) {
			im.Status = store.StatusQueued
		}
		delete(im.Properties, "os_glance_import_task")
		setStoreList(im, importingKey, job.stores, false)
		return nil
	})
}

// runImport does the work of an import task in the background.
func (s *Server) runImport(ctx context.Context, t *store.Task, job *importJob) {
	defer s.release(store.LeaseTask, t.ID)
	defer s.endWrite(job.lease)
	ctx = withWrite(ctx, job.lease)
	log := s.log.With("task", t.ID, "image", t.ImageID, "method", job.method)
	t.Status, t.UpdatedAt = "processing", time.Now().UTC()
	if err := s.meta.UpdateTask(ctx, t); err != nil {
		log.Error("task update", "err", err)
	}
	var size int64
	var err error
	if job.method == "copy-image" {
		size, err = s.runCopy(ctx, t.ImageID, job)
	} else {
		size, err = s.runImportStores(ctx, t.ImageID, job)
	}
	done := context.WithoutCancel(ctx)
	t.UpdatedAt = time.Now().UTC()
	if err != nil {
		log.Warn("import failed", "err", err)
		t.Status, t.Message = "failure", taskMessage(err)
		// The task's verdict is written before the image leaves importing,
		// so a client that sees the image back finds the reason.
		if err := s.meta.UpdateTask(done, t); err != nil {
			log.Error("task update", "err", err)
		}
		s.importFailed(done, t.ImageID, job)
		return
	}
	t.Status, t.Message = "success", fmt.Sprintf("Copied %d MiB", size>>20)
	res, _ := json.Marshal(map[string]string{"image_id": t.ImageID})
	t.Result = string(res)
	s.meta.UpdateImage(done, t.ImageID, func(im *store.Image) error {
		delete(im.Properties, "os_glance_import_task")
		setStoreList(im, importingKey, job.stores, false)
		return nil
	})
	if job.method == "glance-direct" {
		s.staging.Delete(done, t.ImageID)
	}
	if err := s.meta.UpdateTask(done, t); err != nil {
		log.Error("task update", "err", err)
	}
}

// importFailed puts an image back after a failed import: to uploading when
// glance-direct's staged data is still there, to queued otherwise (a
// copy-image leaves the image as it is), and drops the lock.
func (s *Server) importFailed(ctx context.Context, id string, job *importJob) {
	back := store.StatusQueued
	if job.method == "glance-direct" {
		if _, serr := s.staging.Size(ctx, id); serr == nil {
			back = store.StatusUploading
		}
	}
	s.updateWrite(ctx, id, func(im *store.Image) error {
		if job.method != "copy-image" && store.CanMove(store.EvImportFail, im.Status, back) {
			im.Status = back
			if back == store.StatusQueued {
				im.Size = nil
			}
		}
		if job.remote != nil {
			job.remote.restore(im)
		}
		delete(im.Properties, "os_glance_import_task")
		setStoreList(im, importingKey, job.stores, false)
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
}

// importData imports the data of image id into the default store.
func (s *Server) importData(ctx context.Context, id, method string, src *url.URL) (stored, error) {
	return s.importDataTo(ctx, id, &importJob{method: method, src: src}, s.stores.def)
}

// importDataTo reads the data of an import job from its source into one
// store.
func (s *Server) importDataTo(ctx context.Context, id string, job *importJob, storeID string) (stored, error) {
	if err := s.enforceImportTask(ctx, id, job.method); err != nil {
		return stored{}, err
	}
	switch job.method {
	case "glance-direct":
		size, err := s.staging.Size(ctx, id)
		if err != nil {
			return stored{}, fmt.Errorf("open staged data: %w", err)
		}
		rc, err := s.staging.Open(ctx, id, 0, -1)
		if err != nil {
			return stored{}, fmt.Errorf("open staged data: %w", err)
		}
		defer rc.Close()
		return s.putChecked(ctx, storeID, id, rc, size)
	case "web-download":
		body, size, err := s.fetch.Open(ctx, job.src)
		if err != nil {
			return stored{}, err
		}
		defer body.Close()
		return s.putChecked(ctx, storeID, id, body, size)
	case "glance-download":
		return s.glanceDownload(ctx, id, job.remote, storeID)
	}
	return stored{}, fmt.Errorf("unknown import method %q", job.method)
}

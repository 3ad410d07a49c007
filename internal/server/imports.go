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
	id, err := s.startWrite(r, "modify_image", store.EvStage, nil)
	if err != nil {
		return err
	}
	defer s.release(store.LeaseImage, id)
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
	_, err = s.changeImageLeased(ctx, im.ID, s.writeLease(store.EvImport, im.ID), func(im *store.Image) error {
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
		s.release(store.LeaseImage, im.ID)
		return err
	}
	if err := s.claimTask(ctx, task.ID); err != nil {
		s.log.Warn("claim task", "task", task.ID, "err", err) // the janitor fails it if it stays unclaimed
	}
	if err := s.background(func(ctx context.Context) { s.runImport(ctx, task, method, src) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// runImport does the work of an import task in the background.
func (s *Server) runImport(ctx context.Context, t *store.Task, method string, src *url.URL) {
	defer s.release(store.LeaseTask, t.ID)
	defer s.release(store.LeaseImage, t.ImageID)
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

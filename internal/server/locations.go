package server

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

// Locations in glanced name data in its own stores only: the URL of a
// store (a file store's folder, as file:///dir) and a key in it. glanced
// never reads a location outside its stores, so a location can neither
// make it fetch an arbitrary URL nor expose what it can reach.

// appendLocations renders an image's locations as Glance lists them.
func (s *Server) appendLocations(b []byte, im *store.Image) []byte {
	b = append(b, '[')
	for i, sid := range im.Stores {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"url": `...)
		b = appendJSONString(b, s.storeLocation(sid, im.ID))
		b = append(b, `, "metadata": {"store": `...)
		b = appendJSONString(b, sid)
		b = append(b, "}}"...)
	}
	return append(b, ']')
}

// listLocations is API 2.17's GET /v2/images/{id}/locations (service role).
func (s *Server) listLocations(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := forbidden(s.pol.Authorize("fetch_image_location", c.credentials(), imageTarget(c, im))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.appendLocations(nil, im))
	return nil
}

type addLocationRequest struct {
	URL            *string         `json:"url"`
	ValidationData json.RawMessage `json:"validation_data"`
}

type validationData struct {
	Algo  string `json:"os_hash_algo"`
	Value string `json:"os_hash_value"`
}

// hashes are the algorithms validation_data may name, by name.
var hashes = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New, "md5": md5.New}

// parseValidation checks validation_data as Glance's schema and
// _validate_hashing_data do.
func parseValidation(raw json.RawMessage) (*validationData, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid validation_data: it must be an object.")
	}
	var vd validationData
	for k, v := range m {
		sv, ok := v.(string)
		switch {
		case k != "os_hash_algo" && k != "os_hash_value":
			return nil, errorf(http.StatusBadRequest, "Additional properties are not allowed ('%s' was unexpected)", k)
		case !ok:
			return nil, errorf(http.StatusBadRequest, "%s must be a string", k)
		case k == "os_hash_algo":
			vd.Algo = sv
		default:
			vd.Value = sv
		}
	}
	if (vd.Algo == "") != (vd.Value == "") {
		return nil, errorf(http.StatusBadRequest, "os_hash_algo and os_hash_value must be given together")
	}
	if vd.Algo == "" {
		return nil, nil
	}
	newHash, ok := hashes[vd.Algo]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "'%s' is not one of ['sha1', 'sha256', 'sha512', 'md5']", vd.Algo)
	}
	b, err := hex.DecodeString(vd.Value)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "os_hash_value (%s) is not a valid hexadecimal value", vd.Value)
	}
	if want := newHash().Size(); len(b) != want {
		return nil, errorf(http.StatusBadRequest, "os_hash_value: (%s) is not the correct size for (%s) (should be (%d) bytes)", vd.Value, vd.Algo, want)
	}
	return &vd, nil
}

// addLocation is API 2.17's POST /v2/images/{id}/locations: a queued
// image gets data that is already in one of glanced's stores. The data is
// copied to the image's own key (so that deleting one image never removes
// another's data) and hashed in the background, then checked against
// validation_data.
func (s *Server) addLocation(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx := r.Context()
	var req addLocationRequest
	if _, err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.URL == nil {
		return errorf(http.StatusBadRequest, "'url' is a required property")
	}
	im, err := s.getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if im.Status != store.StatusQueued {
		return errorf(http.StatusConflict, "It's not allowed to add locations if image status is %s.", im.Status)
	}
	if err := s.authorizeImage(c, im, "add_image_location"); err != nil {
		return err
	}
	if !c.Roles["service"] && s.cfg.Auth != "noauth" {
		return errorf(http.StatusForbidden, "http store must be enabled to use location API by normal user.")
	}
	vd, err := parseValidation(req.ValidationData)
	if err != nil {
		return err
	}
	sid, key, err := s.parseLocation(*req.URL)
	if err != nil {
		return errorf(http.StatusBadRequest, "Invalid location: %s does not name data in one of this service's stores.", *req.URL)
	}
	if _, err := s.stores.byID[sid].Size(ctx, key); err != nil {
		return errorf(http.StatusBadRequest, "Invalid location: no data at %s.", *req.URL)
	}
	job := &importJob{method: "location", stores: []string{sid}}
	now := time.Now().UTC()
	exp := now.Add(48 * time.Hour)
	in, _ := json.Marshal(map[string]any{"image_id": im.ID, "loc_url": *req.URL, "validation_data": vd})
	task := &store.Task{ID: newUUID(), Type: "location_import", Status: "pending", Owner: c.ProjectID, Input: string(in),
		ImageID: im.ID, RequestID: c.RequestID, UserID: c.UserID, CreatedAt: now, UpdatedAt: now, ExpiresAt: &exp}
	l, err := s.lockForLocation(ctx, im.ID, task.ID, sid, now)
	if err != nil {
		return err
	}
	if err := s.meta.CreateTask(ctx, task); err != nil {
		s.unlockImport(im.ID, job)
		s.endWrite(l)
		return err
	}
	if err := s.claimTask(ctx, task.ID); err != nil {
		s.log.Warn("claim task", "task", task.ID, "err", err) // the janitor fails it if it stays unclaimed
	}
	if err := s.background(func(ctx context.Context) { s.runLocation(withWrite(ctx, l), l, task, sid, key, vd) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// lockForLocation moves a queued image to importing under the task's lock,
// and returns this node's lease on the write to store sid.
func (s *Server) lockForLocation(ctx context.Context, id, task, sid string, now time.Time) (*store.Lease, error) {
	l := s.lease(store.LeaseImage, id, store.BlobRef{Store: sid, Key: id})
	_, err := s.changeImageLeased(ctx, id, l, func(im *store.Image) error {
		if _, busy := im.Properties["os_glance_import_task"]; busy {
			return errorf(http.StatusConflict, "New operation on image '%s' is not permitted as prior operation is still in progress", id)
		}
		if err := store.Move(im, store.EvImport, store.StatusImporting); err != nil {
			return errorf(http.StatusConflict, "It's not allowed to add locations if image status is %s.", im.Status)
		}
		im.Properties["os_glance_import_task"] = task
		im.UpdatedAt = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// runLocation copies and hashes the data a location names, then makes the
// image active, or puts it back to queued.
func (s *Server) runLocation(ctx context.Context, l *store.Lease, t *store.Task, sid, key string, vd *validationData) {
	defer s.release(store.LeaseTask, t.ID)
	defer s.endWrite(l)
	t.Status, t.UpdatedAt = "processing", time.Now().UTC()
	s.meta.UpdateTask(ctx, t)
	info, err := s.copyLocation(ctx, t.ImageID, sid, key, vd)
	if err == nil {
		err = s.activate(ctx, t.ImageID, store.StatusImporting, info)
	}
	done := context.WithoutCancel(ctx)
	t.UpdatedAt = time.Now().UTC()
	if err != nil {
		s.log.Warn("adding a location failed", "image", t.ImageID, "err", err)
		t.Status, t.Message = "failure", taskMessage(err)
		s.importFailed(done, t.ImageID, &importJob{method: "location"})
	} else {
		t.Status = "success"
		res, _ := json.Marshal(map[string]string{"image_id": t.ImageID})
		t.Result = string(res)
		s.meta.UpdateImage(done, t.ImageID, func(im *store.Image) error {
			delete(im.Properties, "os_glance_import_task")
			return nil
		})
	}
	if err := s.meta.UpdateTask(done, t); err != nil {
		s.log.Error("task update", "task", t.ID, "err", err)
	}
}

// copyLocation copies key to the image's own key in store sid, hashing it,
// and checks validation_data.
func (s *Server) copyLocation(ctx context.Context, id, sid, key string, vd *validationData) (stored, error) {
	st := s.stores.byID[sid]
	rc, err := st.Open(ctx, key, 0, -1)
	if errors.Is(err, blob.ErrNotFound) {
		return stored{}, errorf(http.StatusBadRequest, "Invalid location: the data is gone.")
	}
	if err != nil {
		return stored{}, err
	}
	defer rc.Close()
	var h hash.Hash
	var r io.Reader = rc
	if vd != nil {
		h = hashes[vd.Algo]()
		r = io.TeeReader(rc, h)
	}
	info, err := s.putDataTo(ctx, sid, id, r, -1)
	if err != nil {
		return stored{}, fmt.Errorf("copy location data: %w", err)
	}
	if vd != nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != vd.Value {
			s.dropCopies(id, []string{sid})
			return stored{}, errorf(http.StatusBadRequest, "os_hash_value: (%s) not matched with actual os_hash_value: (%s)", vd.Value, got)
		}
	}
	return info, nil
}

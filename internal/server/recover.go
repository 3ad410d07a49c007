package server

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

// recover brings the stores back to a consistent state after a crash:
//   - saving images go back to queued (the upload died; Glance does the same
//     on a failed upload), importing ones back to uploading when their staged
//     data is there, else to queued; their pending tasks fail;
//   - an active or deactivated image keeps the stores that hold its data at
//     the right size; one left with none is marked killed (its metadata
//     cannot be trusted any more). Images from before stores were recorded
//     belong to the default store;
//   - in each store, data of no active/deactivated image is removed, and
//     staged data of images that are not uploading.
func (s *Server) recover(ctx context.Context) error {
	now := time.Now().UTC()
	if err := s.recoverWrites(ctx, now); err != nil {
		return err
	}
	live, err := s.meta.ImagesByStatus(ctx, store.StatusActive, store.StatusDeactivated)
	if err != nil {
		return err
	}
	keep := map[string]map[string]bool{} // store ID -> image IDs
	for _, sc := range s.stores.list {
		keep[sc.ID] = map[string]bool{}
	}
	for _, im := range live {
		if err := s.recoverData(ctx, im, keep, now); err != nil {
			return err
		}
	}
	for _, sc := range s.stores.list {
		if err := s.removeOrphans(ctx, s.stores.byID[sc.ID], keep[sc.ID], "recovery: removing orphaned image data", sc.ID); err != nil {
			return err
		}
	}
	return s.recoverStaging(ctx, now)
}

// recoverWrites puts back the images whose upload or import a crash cut,
// and fails their tasks.
func (s *Server) recoverWrites(ctx context.Context, now time.Time) error {
	stuck, err := s.meta.ImagesByStatus(ctx, store.StatusSaving, store.StatusImporting)
	if err != nil {
		return err
	}
	for _, im := range stuck {
		_, err := s.meta.UpdateImage(ctx, im.ID, func(im *store.Image) error {
			to := store.StatusQueued
			if im.Status == store.StatusImporting {
				if _, err := s.staging.Size(ctx, im.ID); err == nil {
					to = store.StatusUploading
				}
			}
			s.log.Warn("recovery: interrupted write", "image", im.ID, "from", im.Status, "to", to)
			if err := store.Move(im, store.EvInterrupted, to); err != nil {
				return err
			}
			im.Size, im.VirtualSize = nil, nil
			delete(im.Properties, "os_glance_import_task")
			im.UpdatedAt = now
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	tasks, err := s.meta.ListTasks(ctx, "")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.Status == "pending" || t.Status == "processing" {
			t.Status, t.Message, t.UpdatedAt = "failure", "Interrupted by a restart of the image service.", now
			if err := s.meta.UpdateTask(ctx, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// recoverData checks a live image's data in each of its stores, noting in
// keep the data that stays, and records the stores that still hold it.
// Stores no longer configured are left as recorded: their data may be
// fine, and is not ours to judge.
func (s *Server) recoverData(ctx context.Context, im *store.Image, keep map[string]map[string]bool, now time.Time) error {
	ids := im.Stores
	if len(ids) == 0 {
		ids = []string{s.stores.def}
	}
	var good []string
	for _, id := range ids {
		st, ok := s.stores.byID[id]
		if !ok {
			s.log.Warn("recovery: image data in a store that is not configured", "image", im.ID, "store", id)
			good = append(good, id)
			continue
		}
		size, err := st.Size(ctx, im.ID)
		if err == nil && im.Size != nil && size == *im.Size {
			good = append(good, id)
			keep[id][im.ID] = true
			continue
		}
		s.log.Error("recovery: image data missing or wrong size", "image", im.ID, "store", id, "err", err)
	}
	if len(good) > 0 && slices.Equal(good, im.Stores) {
		return nil
	}
	_, err := s.meta.UpdateImage(ctx, im.ID, func(im *store.Image) error {
		im.Stores = good
		if len(good) == 0 {
			s.log.Error("recovery: no data left, marking killed", "image", im.ID)
			if err := store.Move(im, store.EvKill, store.StatusKilled); err != nil {
				return err
			}
			im.UpdatedAt = now
		}
		return nil
	})
	return err
}

// recoverStaging removes staged data no uploading image owns, and sends an
// uploading image whose staged data vanished back to queued.
func (s *Server) recoverStaging(ctx context.Context, now time.Time) error {
	staged, err := s.meta.ImagesByStatus(ctx, store.StatusUploading)
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(staged))
	for _, im := range staged {
		keep[im.ID] = true
	}
	if err := s.removeOrphans(ctx, s.staging, keep, "recovery: removing orphaned staged data", "staging"); err != nil {
		return err
	}
	for _, im := range staged {
		if _, err := s.staging.Size(ctx, im.ID); errors.Is(err, blob.ErrNotFound) {
			if _, err := s.meta.UpdateImage(ctx, im.ID, func(im *store.Image) error {
				im.UpdatedAt = now
				return store.Move(im, store.EvRestage, store.StatusQueued)
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeOrphans deletes the blobs of bs not in keep, logging each with msg.
func (s *Server) removeOrphans(ctx context.Context, bs blob.Store, keep map[string]bool, msg, storeID string) error {
	keys, err := bs.List(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !keep[k] {
			s.log.Warn(msg, "store", storeID, "key", k)
			if err := bs.Delete(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

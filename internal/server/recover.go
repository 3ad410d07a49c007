package server

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

// recover brings the stores back to a consistent state at start-up, as
// the janitor does periodically (see janitor):
//   - saving images whose writer is dead (its lease expired, or this node's
//     own from before a restart) go back to queued (Glance does the same on
//     a failed upload), importing ones back to uploading when their staged
//     data is there, else to queued; their tasks fail; what the write left
//     in the stores is removed;
//   - an active or deactivated image keeps the stores that hold its data at
//     the right size; one left with none is marked killed (its metadata
//     cannot be trusted any more). Images from before stores were recorded
//     belong to the default store;
//   - in each store, data no record refers to is removed once older than
//     the grace period, and staged data of images that are not uploading.
func (s *Server) recover(ctx context.Context) error {
	// Whatever this node was doing before it started is over.
	if _, err := s.meta.RenewLeases(ctx, s.cl.cfg.NodeID, time.Now()); err != nil {
		return err
	}
	return s.janitor(ctx, true)
}

// resetExpiredWrites puts back the images whose writer died.
func (s *Server) resetExpiredWrites(ctx context.Context, now time.Time) error {
	ims, err := s.meta.ImagesByStatus(ctx, store.StatusSaving, store.StatusImporting, store.StatusUploading)
	if err != nil {
		return err
	}
	for _, im := range ims {
		if err := s.resetWrite(ctx, im.ID, now); err != nil {
			return err
		}
	}
	return nil
}

// errUntouched ends an update that finds nothing to reset.
var errUntouched = errors.New("nothing to reset")

// resetWrite resets one image whose write lease it can take over: an
// interrupted upload or import, or a staged image whose data vanished.
func (s *Server) resetWrite(ctx context.Context, id string, now time.Time) error {
	prev, taken, err := s.takeOver(ctx, store.LeaseImage, id, now)
	if err != nil || taken == nil {
		return err
	}
	defer s.endWrite(taken)
	staged := func() bool { _, err := s.staging.Size(ctx, id); return err == nil }
	keepStaged := true
	_, err = s.meta.UpdateImage(ctx, id, func(im *store.Image) error {
		switch im.Status {
		case store.StatusSaving, store.StatusImporting:
			to := store.StatusQueued
			if im.Status == store.StatusImporting && staged() {
				to = store.StatusUploading
			}
			s.log.Warn("recovery: interrupted write", "image", im.ID, "from", im.Status, "to", to)
			if err := store.Move(im, store.EvInterrupted, to); err != nil {
				return err
			}
			im.Size, im.VirtualSize = nil, nil
			delete(im.Properties, "os_glance_import_task")
			keepStaged = to == store.StatusUploading
		case store.StatusUploading:
			if staged() {
				return errUntouched
			}
			if err := store.Move(im, store.EvRestage, store.StatusQueued); err != nil {
				return err
			}
		default:
			return errUntouched // finished meanwhile: its data is good
		}
		im.UpdatedAt = now
		return nil
	})
	switch {
	case errors.Is(err, errUntouched) || errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	s.cleanPartial(ctx, id, prev, keepStaged)
	return nil
}

// failExpiredTasks fails the pending and processing tasks whose node died.
// A task without a lease is given the lease time to get one: its node
// takes it just after creating the task.
func (s *Server) failExpiredTasks(ctx context.Context, now time.Time) error {
	tasks, err := s.meta.ListTasks(ctx, "")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.Status != "pending" && t.Status != "processing" {
			continue
		}
		if err := s.failTask(ctx, t.ID, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) failTask(ctx context.Context, id string, now time.Time) error {
	prev, taken, err := s.takeOver(ctx, store.LeaseTask, id, now)
	if err != nil || taken == nil {
		return err
	}
	defer s.endWrite(taken)
	t, err := s.meta.GetTask(ctx, id) // read again: it may have ended meanwhile
	if err != nil || (t.Status != "pending" && t.Status != "processing") {
		return ignoreNotFound(err)
	}
	if prev == nil && t.UpdatedAt.After(now.Add(-s.cl.cfg.LeaseTTL)) {
		return nil
	}
	s.log.Warn("recovery: interrupted task", "task", t.ID, "image", t.ImageID)
	t.Status, t.Message, t.UpdatedAt = "failure", "Interrupted by a restart of the image service.", now
	return s.meta.UpdateTask(ctx, t)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// checkLiveData checks the data of every active and deactivated image.
func (s *Server) checkLiveData(ctx context.Context, now time.Time) error {
	live, err := s.meta.ImagesByStatus(ctx, store.StatusActive, store.StatusDeactivated)
	if err != nil {
		return err
	}
	for _, im := range live {
		if err := s.recoverData(ctx, im, now); err != nil {
			return err
		}
	}
	return nil
}

// recoverData checks a live image's data in each of its stores, and
// records the stores that still hold it.
// Stores no longer configured are left as recorded: their data may be
// fine, and is not ours to judge.
func (s *Server) recoverData(ctx context.Context, im *store.Image, now time.Time) error {
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

// sweepOrphans removes the data no record refers to, once older than the
// grace period. The stores are listed before the records are read: data
// listed then belongs to a write that had already moved its image out of
// queued, so the records read after show it saving, importing or live.
func (s *Server) sweepOrphans(ctx context.Context, now time.Time) error {
	listed := map[string][]string{}
	for _, sc := range s.stores.list {
		keys, err := s.stores.byID[sc.ID].List(ctx)
		if err != nil {
			return err
		}
		listed[sc.ID] = keys
	}
	staged, err := s.staging.List(ctx)
	if err != nil {
		return err
	}
	ims, err := s.meta.ImagesByStatus(ctx, store.StatusActive, store.StatusDeactivated, store.StatusSaving,
		store.StatusImporting, store.StatusUploading)
	if err != nil {
		return err
	}
	keep := map[string]bool{} // store/key
	for _, im := range ims {
		switch im.Status {
		case store.StatusActive, store.StatusDeactivated:
			ids := im.Stores
			if len(ids) == 0 {
				ids = []string{s.stores.def}
			}
			for _, id := range ids {
				keep[id+"/"+im.ID] = true
			}
		case store.StatusUploading:
			keep[stagingID+"/"+im.ID] = true
		default: // a write in progress, to any store
			for _, sc := range s.stores.list {
				keep[sc.ID+"/"+im.ID] = true
			}
			keep[stagingID+"/"+im.ID] = true
		}
	}
	seen := map[string]time.Time{}
	for _, sc := range s.stores.list {
		if err := s.removeOrphans(ctx, sc.ID, s.stores.byID[sc.ID], listed[sc.ID], keep, seen, now); err != nil {
			return err
		}
	}
	err = s.removeOrphans(ctx, stagingID, s.staging, staged, keep, seen, now)
	s.cl.mu.Lock()
	s.cl.seen = seen // forget what is gone or no longer orphaned
	s.cl.mu.Unlock()
	return err
}

// removeOrphans deletes the listed blobs of one store not in keep and old
// enough, noting in seen when each orphan left was first found.
func (s *Server) removeOrphans(ctx context.Context, storeID string, bs blob.Store, keys []string, keep map[string]bool,
	seen map[string]time.Time, now time.Time) error {
	for _, k := range keys {
		ref := storeID + "/" + k
		if keep[ref] {
			continue
		}
		if !s.orphanOld(ctx, bs, ref, k, seen, now) {
			continue
		}
		s.log.Warn("removing orphaned image data", "store", storeID, "key", k)
		if err := bs.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// orphanOld reports whether an orphan is past the grace period: by its
// write time where the store knows it, else by when a sweep of this node
// first found it orphaned.
func (s *Server) orphanOld(ctx context.Context, bs blob.Store, ref, key string, seen map[string]time.Time, now time.Time) bool {
	grace := s.cl.cfg.OrphanGrace
	if mt, ok := blobAs[blob.ModTimer](bs); ok {
		t, err := mt.ModTime(ctx, key)
		return err == nil && now.Sub(t) >= grace
	}
	s.cl.mu.Lock()
	first, ok := s.cl.seen[ref]
	s.cl.mu.Unlock()
	if !ok {
		first = now
	}
	seen[ref] = first
	return now.Sub(first) >= grace
}

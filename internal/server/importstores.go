package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/digest"
	"github.com/go-glance/glance/internal/store"
)

// The properties in which Glance reports a multi-store import's progress.
const (
	importingKey = "os_glance_importing_to_stores"
	failedKey    = "os_glance_failed_import"
)

// setStoreList adds stores to (or removes them from) the comma-separated
// store list in property key, keeping its order.
func setStoreList(im *store.Image, key string, stores []string, add bool) {
	var list []string
	for _, v := range strings.Split(im.Properties[key], ",") {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(stores, v) {
			list = append(list, v)
		}
	}
	if add {
		list = append(list, stores...)
	}
	im.Properties[key] = strings.Join(list, ",")
}

// importStores returns the stores an import fills, as Glance reads them
// from the request: all_stores, the stores field or the x-image-meta-store
// header (not two of them), else the default store. An unknown store is a
// 409, as glance_store's UnknownScheme is.
func (s *Server) importStores(r *http.Request, req *importRequest) ([]string, error) {
	hdr, hasHdr := r.Header.Get("X-Image-Meta-Store"), len(r.Header.Values("X-Image-Meta-Store")) > 0
	var stores []string
	switch {
	case req.AllStores:
		if req.Stores != nil || hasHdr {
			return nil, errorf(http.StatusBadRequest, "All_stores parameter can't be used with x-image-meta-store header or stores parameter")
		}
		stores = s.stores.ids()
	case req.Stores != nil:
		if hasHdr {
			return nil, errorf(http.StatusBadRequest, "Stores parameter and x-image-meta-store header can't be both specified")
		}
		stores = slices.Clone(*req.Stores)
	case hasHdr:
		stores = []string{hdr}
	default:
		stores = []string{s.stores.def}
	}
	for _, id := range stores {
		if s.stores.byID[id] == nil {
			return nil, errorf(http.StatusConflict, "Unknown scheme '%s' found in URI", id)
		}
	}
	return slices.Compact(stores), nil
}

// copyTargets drops, for copy-image to all stores, the stores that hold
// the image already; naming such a store is a 400.
func copyTargets(im *store.Image, stores []string, all bool) ([]string, error) {
	var out []string
	for _, id := range stores {
		if !slices.Contains(im.Stores, id) {
			out = append(out, id)
		} else if !all {
			return nil, errorf(http.StatusBadRequest, "Image is already present at store '%s'", id)
		}
	}
	return out, nil
}

// storeDone records one store's outcome in the progress properties.
func (s *Server) storeDone(ctx context.Context, id, storeID string, err error) {
	s.meta.UpdateImage(ctx, id, func(im *store.Image) error {
		setStoreList(im, importingKey, []string{storeID}, false)
		if err != nil {
			setStoreList(im, failedKey, []string{storeID}, true)
		}
		return nil
	})
}

// errNoStore is Glance's failure when no store took the data.
var errNoStore = errorf(http.StatusInternalServerError, "None of the uploads finished!")

// runImportStores fills the job's stores in order: the first from the
// source, the others from the first store's copy. With mustSucceed a
// failure undoes the copies made; without, the image goes active with
// the stores that took the data. It returns the data's size.
func (s *Server) runImportStores(ctx context.Context, id string, job *importJob) (int64, error) {
	var info stored
	var ok []string
	for _, sid := range job.stores {
		var err error
		if len(ok) == 0 {
			info, err = s.importDataTo(ctx, id, job, sid)
		} else {
			err = s.copyBlob(ctx, ok[0], sid, id, info.Size, info.SHA512)
		}
		s.storeDone(context.WithoutCancel(ctx), id, sid, err)
		if err != nil {
			if job.mustSucceed || ctx.Err() != nil {
				s.dropCopies(id, ok)
				return 0, err
			}
			s.log.Warn("import to one store failed, continuing as all_stores_must_succeed is false", "image", id, "store", sid, "err", err)
			continue
		}
		ok = append(ok, sid)
	}
	if len(ok) == 0 {
		return 0, errNoStore
	}
	info.store, info.more = ok[0], ok[1:]
	return info.Size, s.activate(ctx, id, store.StatusImporting, info)
}

// dropCopies removes what an import wrote to stores before it failed.
func (s *Server) dropCopies(id string, stores []string) {
	for _, sid := range stores {
		if err := s.stores.byID[sid].Delete(context.Background(), id); err != nil {
			s.log.Error("remove data of a failed import", "image", id, "store", sid, "err", err)
		}
	}
}

// runCopy is copy-image: the active image's data goes from the store
// downloads read first to each of the job's stores, checked against the
// image's checksum, and each copy is recorded as it completes.
func (s *Server) runCopy(ctx context.Context, id string, job *importJob) (int64, error) {
	im, err := s.meta.GetImage(ctx, id)
	if err != nil {
		return 0, err
	}
	src := s.stores.ordered(im, nil)
	if len(src) == 0 || im.Size == nil {
		return 0, errorf(http.StatusConflict, "Image %s has no data to copy.", id)
	}
	var done []string
	for _, sid := range job.stores {
		err := s.copyBlob(ctx, src[0], sid, id, *im.Size, sha512Of(im))
		if err == nil {
			err = s.recordCopy(ctx, id, sid)
		}
		s.storeDone(context.WithoutCancel(ctx), id, sid, err)
		if err != nil {
			if job.mustSucceed || ctx.Err() != nil {
				s.forgetCopies(id, done)
				return 0, err
			}
			s.log.Warn("copy to one store failed, continuing as all_stores_must_succeed is false", "image", id, "store", sid, "err", err)
			continue
		}
		done = append(done, sid)
	}
	return *im.Size, nil
}

// recordCopy adds a store holding a copy to an image that is still live;
// otherwise the copy goes.
func (s *Server) recordCopy(ctx context.Context, id, sid string) error {
	_, err := s.meta.UpdateImage(context.WithoutCancel(ctx), id, func(im *store.Image) error {
		if im.Status != store.StatusActive && im.Status != store.StatusDeactivated {
			return errorf(http.StatusConflict, "Image status changed to %s during the copy", im.Status)
		}
		if !slices.Contains(im.Stores, sid) {
			im.Stores = append(im.Stores, sid)
		}
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil {
		s.dropCopies(id, []string{sid})
	}
	return err
}

// forgetCopies undoes recordCopy for the stores of a failed copy-image.
func (s *Server) forgetCopies(id string, stores []string) {
	if len(stores) == 0 {
		return
	}
	s.meta.UpdateImage(context.Background(), id, func(im *store.Image) error {
		im.Stores = slices.DeleteFunc(im.Stores, func(v string) bool { return slices.Contains(stores, v) })
		return nil
	})
	s.dropCopies(id, stores)
}

// errCopyMismatch is a copy whose data differs from what was read.
var errCopyMismatch = errors.New("copied data does not match the image's checksum")

// copyBlob copies key from one store to another, checking its size and,
// when sum is given, its SHA-512 digest; a bad copy is removed.
func (s *Server) copyBlob(ctx context.Context, from, to, key string, size int64, sum string) error {
	return s.copyKey(ctx, from, key, to, key, size, sum)
}

// copyKey copies fromKey in store from to toKey in store to (see copyBlob).
func (s *Server) copyKey(ctx context.Context, from, fromKey, to, toKey string, size int64, sum string) error {
	rc, err := s.stores.byID[from].Open(ctx, fromKey, 0, -1)
	if err != nil {
		return fmt.Errorf("open %s in store %s: %w", fromKey, from, err)
	}
	defer rc.Close()
	dr := digest.NewSHA512Reader(rc)
	pctx, stop := s.guardWrite(ctx, toKey)
	defer stop()
	if _, err := s.stores.byID[to].Put(pctx, toKey, dr, size); err != nil {
		dr.Close()
		return fmt.Errorf("copy %s to store %s: %w", fromKey, to, lostOr(pctx, err))
	}
	if got := dr.Sums().SHA512; sum != "" && got != sum {
		s.dropCopies(toKey, []string{to})
		return fmt.Errorf("copy %s to store %s: %w", fromKey, to, errCopyMismatch)
	}
	return nil
}

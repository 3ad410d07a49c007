package server

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// v1 copy-from (x-glance-api-copy-from): glanced copies the data from a
// URL in the background, as Glance's v1 did, through web-download's
// fetcher and so under the same filter (schemes, hosts, ports, no private
// or loopback addresses unless allowed), timeouts, size cap and
// concurrency limit. A source the filter refuses is a 400 before anything
// is fetched; a failed copy leaves the image queued.

// v1Sources checks where a create or update says data comes from: no
// external location, a store glanced has (data goes to the default one;
// "file" is Glance's name for a file store), and a copy-from URL the
// filter passes, which it returns (nil when none).
func (s *Server) v1Sources(r *http.Request, m *v1Meta) (*url.URL, error) {
	if err := m.external(); err != nil {
		return nil, err
	}
	if st, ok := m.fields["store"]; ok && st != "file" {
		if _, known := s.stores.byID[st]; !known {
			return nil, errorf(http.StatusBadRequest, "Required store %s is invalid", st)
		}
	}
	src := r.Header.Get("X-Glance-Api-Copy-From")
	if src == "" {
		src = m.fields["copy_from"]
	}
	if src == "" {
		return nil, nil
	}
	return s.checkSource(src, "copy-from")
}

// v1Data stores the data of a create or update, from the body or from
// src; with neither it returns im as it is.
func (s *Server) v1Data(r *http.Request, im *store.Image, m *v1Meta, src *url.URL) (*store.Image, error) {
	switch {
	case src != nil:
		return s.v1Copy(r.Context(), im.ID, src)
	case hasBody(r):
		return s.v1Upload(r, im.ID, m)
	}
	return im, nil
}

// v1Saving moves a queued image to saving under this node's write lease,
// which it returns (the caller writes under withWrite and ends with
// endWrite), or answers 409.
func (s *Server) v1Saving(ctx context.Context, id string) (*store.Image, *store.Lease, error) {
	l := s.writeLease(store.EvUpload, id)
	im, err := s.changeImageLeased(ctx, id, l, func(im *store.Image) error {
		if !store.CanMove(store.EvUpload, im.Status, store.StatusSaving) {
			return errorf(http.StatusConflict, "Cannot upload to an unqueued image")
		}
		im.Status, im.UpdatedAt = store.StatusSaving, time.Now().UTC()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return im, l, nil
}

// v1Copy starts copying src into image id and returns the image, saving.
func (s *Server) v1Copy(ctx context.Context, id string, src *url.URL) (*store.Image, error) {
	im, l, err := s.v1Saving(ctx, id)
	if err != nil {
		return nil, err
	}
	err = s.background(func(ctx context.Context) {
		defer s.endWrite(l)
		ctx = withWrite(ctx, l)
		info, err := s.importData(ctx, id, "web-download", src)
		if err == nil {
			err = s.activate(ctx, id, store.StatusSaving, info)
		}
		if err != nil {
			s.log.Warn("v1 copy-from failed", "image", id, "err", err)
			s.revert(ctx, id, store.EvUploadFail, store.StatusQueued)
		}
	})
	if err != nil {
		s.revert(withWrite(ctx, l), id, store.EvUploadFail, store.StatusQueued)
		s.endWrite(l)
		return nil, err
	}
	return im, nil
}
